"""The pop band GAN: bass, keys and a counter-melody under a melody, learned from POP909.

``PopBand.load().arrange(BandRequest) -> BandResult`` is the model ``compose --model gan
--style pop`` plays. The networks and features are in ``net``, sampling in
``sample``, training in ``train``; the card (``weights/gan_pop.md``)
has the data, the training command and the numbers.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ...chords import class_label, parse_chord
from ...representations.multitrack import (
    NAMES,
    PROGRAMS,
    BandPart,
    BandRequest,
    BandResult,
    steps_for,
)
from ..common.composer import single_thread
from ..common.gan_player import GanPlayer
from ..common.weights import load_family
from .net import DEFAULT_CONFIG, RANGES, TINY_CONFIG, Critic, Generator
from .sample import arrange


class PopBand(GanPlayer):
    """The shipped pop band: ``PopBand.load().arrange(request) -> BandResult``."""

    generator_class, critic_class, default_config = Generator, Critic, DEFAULT_CONFIG

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> PopBand:
        """As ``GanPlayer.from_weights``; weights whose config predates issue 26 (no
        ``phrase_features`` key) are read without the phrase-position inputs."""
        config = {"phrase_features": False, **meta["config"]}
        return super().from_weights(tensors, {**meta, "config": config})

    @classmethod
    def load(cls, weights_dir: Path | str | None = None) -> PopBand:
        """The band from ``weights_dir`` (default: the shipped weights)."""
        return load_family("gan_pop", weights_dir)

    def arrange(self, req: BandRequest, rules=True, score: bool = True) -> BandResult:
        """Bass, keys and counter-melody for ``req`` (see ``BandRequest``).

        Deterministic for ``req.seed``. ``rules`` (default on) applies the decoding rules
        stated in the card (``sample.RULES``): bass and keys on the chord's tones, their
        notes cut at chord changes, a silent bar of the melody's span filled, the keys in
        one register per phrase, the counter-melody in the melody's rests and below it,
        phrase dynamics. ``rules=False`` turns them all off (the ablation), a list of names
        keeps those only. ``score=False`` skips the critic (``BandResult.score`` is None):
        a single result needs no ranking.
        """
        with single_thread(), torch.no_grad():
            return arrange(self, req, rules, score)


__all__ = ["PopBand", "BandRequest", "BandResult", "BandPart", "DEFAULT_CONFIG", "TINY_CONFIG",
           "RANGES", "NAMES", "PROGRAMS", "steps_for", "class_label", "parse_chord"]
