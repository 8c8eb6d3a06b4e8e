"""The drum GAN: Groove's feels, played as the pop band's drums."""

from .kit import DrumKit as DrumKit
