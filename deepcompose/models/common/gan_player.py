"""A trained GAN ready to play: its generator, and its critic built only when asked for."""

from __future__ import annotations

from .composer import single_thread
from .weights import build_module


class GanPlayer:
    """Subclasses set ``generator_class``, ``critic_class`` (their ``__init__(cfg)``) and
    ``default_config``; ``from_weights`` reads ``generator.*`` and keeps ``critic.*`` for
    ``critic`` (``--candidates`` ranks with it; generation never needs it)."""

    generator_class: type
    critic_class: type
    default_config: dict = {}

    def __init__(self, cfg: dict, generator, critic_tensors: dict):
        self.cfg, self.generator = cfg, generator.eval()
        self._critic_tensors, self._critic = critic_tensors, None

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict):
        """Build the player from its safetensors ``tensors`` and JSON ``meta``."""
        cfg = {**cls.default_config, **meta["config"]}
        with single_thread():
            G = build_module(cls.generator_class, cfg, tensors, "generator.")
        return cls(cfg, G, {k: v for k, v in tensors.items() if k.startswith("critic.")})

    @property
    def critic(self):
        """The critic, built from the weights on first use."""
        if self._critic is None:
            self._critic = build_module(self.critic_class, self.cfg, self._critic_tensors,
                                        "critic.").eval()
        return self._critic
