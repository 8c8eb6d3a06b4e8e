"""What the families share: the voice-grid protocol, weights I/O, WGAN-GP, LR schedules."""
