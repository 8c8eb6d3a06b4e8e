"""A test-only Composer: fills unknown cells with a fixed chord under the melody.

It exists so that compose()'s own guarantees (melody untouched, known cells kept,
bars respected) are tested apart from any trained model. Never registered outside tests.
"""

import numpy as np

from deepcompose.models.common.composer import Composer
from deepcompose.representations.voices import REST


class ChordComposer(Composer):

    def generate(self, task, grid, known, meter, seed, temperature=1.0, **controls):
        rng = np.random.default_rng(seed)
        out = grid.copy()
        base = 48 + int(rng.integers(0, 5))
        step = max(1, grid.shape[1] // 4)  # a new chord every quarter of the piece
        for r, interval in ((1, 12), (2, 7), (3, 0)):
            fill = ~known[r]
            out[r, fill] = base + interval + (np.arange(grid.shape[1])[fill] // step) % 2
        fill0 = ~known[0]
        out[0, fill0] = 72
        if task == "enhance" and controls.get("iterations", 1) > 0:
            sounding = np.flatnonzero(out[0] != REST)
            if sounding.size:
                out[0, sounding[-1]] = out[0, sounding[-1]] + 2
        return out
