"""The AR-CNN (``--model arcnn``): Coconet-style orderless NADE over the voice grid."""

from .composer import ArcnnComposer as ArcnnComposer
