"""The melody transformer as a player: continue or infill one line, best of N candidates.

Input and output are ``MelodyBar`` lists (``representations.melody_tokens``: ticks of 1/12
beat, bars with their meter); ``plans/melody.py`` turns a Song into them and back.
"""

from __future__ import annotations

from ..common.composer import single_thread
from .net import DEFAULT_CONFIG, MelodyTransformer
from .sampling import Draw, decode, template, tokens_of

TOP_P = 0.9  # default nucleus mass (0.95 tried: pop strays further from the prompt's key)


class MelodyPlayer:
    """``continue_line`` and ``infill_line`` for every style the weights were trained on."""

    def __init__(self, model: MelodyTransformer, styles: tuple[str, ...]):
        self.model = model.eval()
        self.styles = styles

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> MelodyPlayer:
        # weights whose config does not name bar_bias predate it (0.4.0-0.4.2)
        model = MelodyTransformer({**DEFAULT_CONFIG, "bar_bias": False, **meta["config"]})
        model.load_state_dict(tensors, strict=True)
        return cls(model, tuple(meta.get("styles", ())))

    def nll(self, lines) -> dict:
        """Nats per note over melody lines (``data.melody_lines.Line``), no chords."""
        from .scoring import mean_nll_per_note

        with single_thread():
            return mean_nll_per_note(self.model, lines)

    def _write(self, before, hole, style: str, *, after=None, chords: bool = False,
               seed: int, temperature: float, top_k, top_p, candidates: int,
               end_home: bool = False) -> Draw:
        """Bars ``hole`` (their templates) after the token lists ``before`` (and before
        ``after``: an infill); the best of ``candidates`` draws (seeds ``seed``, ``seed + 1``,
        ...) by the model's mean log-probability."""
        templates = [template(b) for b in hole]
        top_p = TOP_P if top_p is None else top_p
        with single_thread():
            draws = [decode(self.model, before, templates, style, seed + i, temperature, top_k,
                            top_p, chords, after=after, end_home=end_home)
                     for i in range(max(1, candidates))]
        return max(draws, key=lambda d: d.score)

    def continue_line(self, bars, new, style: str, *, seed: int = 0, temperature: float = 1.0,
                      top_k=None, top_p=None, chords: bool = False, candidates: int = 1,
                      end_home: bool = False) -> Draw:
        """Write the bars ``new`` (templates: meter, length, chords) after ``bars``. With
        ``chords`` the templates' chords are forced where they fall (and the prompt's are
        read); without, no chord is read or written. ``end_home``: the last note on a home
        tonic, held to the last bar line (``sampling.end_last_note``: a song ends there)."""
        return self._write(tokens_of(bars, chords), new, style, chords=chords, seed=seed,
                           temperature=temperature, top_k=top_k, top_p=top_p,
                           candidates=candidates, end_home=end_home)

    def infill_line(self, before, hole, after, style: str, *, seed: int = 0,
                    temperature: float = 1.0, top_k=None, top_p=None, candidates: int = 1
                    ) -> Draw:
        """Write the bars ``hole`` (templates) between ``before`` and ``after`` (bars),
        having read both sides (fill-in-the-middle)."""
        return self._write(tokens_of(before, False), hole, style, after=tokens_of(after, False),
                           seed=seed, temperature=temperature, top_k=top_k, top_p=top_p,
                           candidates=candidates)
