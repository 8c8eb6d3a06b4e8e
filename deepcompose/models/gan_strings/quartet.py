"""The string quartet GAN: violin II, viola and cello under violin I, learned from the
OpenScore String Quartets.

``StringQuartet.load().arrange(BandRequest) -> BandResult`` is the model ``compose --model
gan --style strings`` plays (through the ``band`` plan). Networks and features in ``net``,
sampling in ``sample``, training in ``train``; the card (``weights/gan_strings.md``) has
the data, the training command and the numbers.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ...representations.multitrack import BandRequest, BandResult
from ..common.composer import single_thread
from ..common.gan_player import GanPlayer
from ..common.weights import load_family
from .net import DEFAULT_CONFIG, Critic, Generator
from .sample import SAMPLING_KEYS, arrange


class StringQuartet(GanPlayer):
    """The shipped quartet: ``StringQuartet.load().arrange(request) -> BandResult``."""

    generator_class, critic_class, default_config = Generator, Critic, DEFAULT_CONFIG

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> StringQuartet:
        """As ``GanPlayer.from_weights``; weights whose config predates issue 26's
        phrase-position inputs (no ``phrase_features`` key) are played without them."""
        config = {"phrase_features": False, **meta["config"]}
        return super().from_weights(tensors, {**meta, "config": config})

    @classmethod
    def load(cls, weights_dir: Path | str | None = None) -> StringQuartet:
        """The quartet from ``weights_dir`` (default: the shipped weights)."""
        return load_family("gan_strings", weights_dir)

    def arrange(self, req: BandRequest, rules: bool = True, score: bool = True,
                **sampling) -> BandResult:
        """Violin II, viola and cello for ``req`` (violin I = ``req.melody``, never changed).

        Deterministic for ``req.seed``. ``rules`` (default on): the cello is the bass
        (``sample.cello_bass``: held through short rests while the others play, down by
        octaves where it would sound above them); ``rules=False`` is the card's ablation
        (every note as sampled). ``sampling`` overrides the config's sampling keys for one
        call (``share_noise=False``: noise drawn per step instead of along the form;
        ``attack_scale``, ``pitch_scale``, ``vary``). ``score=False`` skips the critic
        (``BandResult.score`` is None).
        """
        unknown = set(sampling) - set(SAMPLING_KEYS)
        if unknown:
            raise TypeError(f"unknown sampling keys {sorted(unknown)}")
        with single_thread(), torch.no_grad():
            return arrange(self, req, rules, score, {**self.cfg, **sampling})


__all__ = ["StringQuartet", "BandRequest", "BandResult"]
