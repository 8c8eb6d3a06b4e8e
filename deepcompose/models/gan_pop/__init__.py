"""The pop band GAN (``--model gan --style pop``): bass, keys, counter-melody from POP909."""

from .band import PopBand as PopBand
