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
        model = MelodyTransformer({**DEFAULT_CONFIG, **meta["config"]})
        model.load_state_dict(tensors, strict=True)
        return cls(model, tuple(meta.get("styles", ())))

    def nll(self, lines) -> dict:
        """Nats per note over melody lines (``data.melody_lines.Line``), no chords."""
        from .scoring import mean_nll_per_note

        with single_thread():
            return mean_nll_per_note(self.model, lines)

    def _best(self, run, seed: int, candidates: int) -> Draw:
        draws = [run(seed + i) for i in range(max(1, candidates))]
        return max(draws, key=lambda d: d.score)

    def continue_line(self, bars, new, style: str, *, seed: int = 0, temperature: float = 1.0,
                      top_k=None, top_p=None, chords: bool = False, candidates: int = 1
                      ) -> Draw:
        """Write the bars ``new`` (templates: meter, length, chords) after ``bars``. With
        ``chords`` the templates' chords are forced where they fall (and the prompt's are
        read); without, no chord is read or written."""
        before = tokens_of(bars, chords)
        hole = [template(b) for b in new]
        with single_thread():
            return self._best(lambda s: decode(
                self.model, before, hole, style, s, temperature, top_k,
                TOP_P if top_p is None else top_p, chords), seed, candidates)

    def infill_line(self, before, hole, after, style: str, *, seed: int = 0,
                    temperature: float = 1.0, top_k=None, top_p=None, candidates: int = 1
                    ) -> Draw:
        """Write the bars ``hole`` (templates) between ``before`` and ``after`` (bars),
        having read both sides (fill-in-the-middle)."""
        pre, post = tokens_of(before, False), tokens_of(after, False)
        hole = [template(b) for b in hole]
        with single_thread():
            return self._best(lambda s: decode(
                self.model, pre, hole, style, s, temperature, top_k,
                TOP_P if top_p is None else top_p, False, after=post), seed, candidates)
