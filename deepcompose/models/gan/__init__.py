"""The chorale GAN (``--model gan --style chorale``): alto, tenor, bass under a melody."""

from .composer import GanComposer as GanComposer
