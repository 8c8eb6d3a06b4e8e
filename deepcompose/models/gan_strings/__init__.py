"""The string quartet GAN (``--model gan --style strings``): violin II, viola, cello."""

from .quartet import StringQuartet as StringQuartet
