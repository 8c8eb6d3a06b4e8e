"""The pop band GAN: bass, keys and a counter-melody under a melody, learned from POP909.

``PopBand.load().arrange(BandRequest) -> BandResult`` is the model ``compose --model gan
--style pop`` plays. The networks and features are in ``gan_pop_net``, sampling in
``gan_pop_sample``, training in ``gan_pop_train``; the card (``weights/gan_pop.md``)
has the data, the training command and the numbers.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..chords import class_label, parse_chord
from ..errors import DeepcomposeError
from ..representations.multitrack import (
    NAMES,
    PROGRAMS,
    BandPart,
    BandRequest,
    BandResult,
    steps_for,
)
from .base import (
    WEIGHTS_DIR,
    build_module,
    critic_on_demand,
    load_tensors,
    one_line,
    read_meta,
    single_thread,
)
from .gan_pop_net import DEFAULT_CONFIG, RANGES, TINY_CONFIG, Critic, Generator
from .gan_pop_sample import arrange


class PopBand:
    """The shipped pop band: ``PopBand.load().arrange(request) -> BandResult``."""

    def __init__(self, cfg: dict, generator: Generator, critic_tensors: dict):
        self.cfg, self.generator = cfg, generator.eval()
        self._critic_tensors, self._critic = critic_tensors, None

    @classmethod
    def load(cls, weights_dir: Path | str = WEIGHTS_DIR, name: str = "gan_pop") -> PopBand:
        """Load ``weights_dir/NAME.safetensors`` + ``NAME.json`` (safetensors only)."""
        stem = Path(weights_dir) / name
        if not stem.with_suffix(".safetensors").exists():
            raise DeepcomposeError(f"no shipped weights for the pop band at {stem}.safetensors")
        meta = read_meta(stem.with_suffix(".json"))
        if meta["family"] != "gan_pop":
            raise DeepcomposeError(f"weights {stem}.json are for {meta['family']!r}, not gan_pop")
        cfg = {**DEFAULT_CONFIG, **meta["config"]}
        tensors = load_tensors(stem.with_suffix(".safetensors"))
        try:
            with single_thread():
                G = build_module(Generator, cfg, tensors, "generator.")
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise DeepcomposeError(
                f"pop band weights do not match their config: {one_line(exc)}") from None
        return cls(cfg, G, {k: v for k, v in tensors.items() if k.startswith("critic.")})

    @property
    def critic(self) -> Critic:
        """The critic, built on first use (``generate`` does not need it)."""
        return critic_on_demand(self, Critic)

    def arrange(self, req: BandRequest, rules: bool = True, score: bool = True) -> BandResult:
        """Bass, keys and counter-melody for ``req`` (see ``BandRequest``).

        Deterministic for ``req.seed``. ``rules`` (default on) applies the decoding rules
        stated in the card: bass and keys pitches limited to the tones of the chord
        sounding (given or inferred), bass and keys notes end at a chord change, and a
        bar of the melody's span with no attack at all gets the keys' likeliest attack.
        ``rules=False`` is the ablation: every note exactly as sampled. ``score=False``
        skips the critic (``BandResult.score`` is None): a single result needs no ranking.
        """
        with single_thread(), torch.no_grad():
            return arrange(self, req, rules, score)



__all__ = ["PopBand", "BandRequest", "BandResult", "BandPart", "DEFAULT_CONFIG", "TINY_CONFIG",
           "RANGES", "NAMES", "PROGRAMS", "steps_for", "class_label", "parse_chord"]
