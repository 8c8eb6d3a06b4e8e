"""Coconet-style autoregressive CNN: an orderless NADE over four-voice grids.

Huang et al., "Counterpoint by Convolution" (ISMIR 2017). The net sees a voice
grid ``[4 voices, T steps]`` (16th-note steps, 4 per beat) in which some cells
are *masked* (unknown), and predicts a softmax over ``P1 = 60`` classes
(rest, or a MIDI pitch 30..88) for every (voice, step) cell. Training masks
random subsets of every size and rescales the loss by the mask size, so one
net gives every conditional ``p(x_masked | x_rest)``: accompaniment, infilling,
continuation and melody editing are all "fill in the masked cells".

Net (fully convolutional along time, so any length works; see ``receptive_field``):
  1. stem: two 3x3 convolutions over time x pitch on the one-hot pitch rolls of
     the 4 voices (zeroed where masked) plus the 4 mask planes (8 channels);
  2. the pitch axis is folded into channels and projected to ``hidden``;
  3. residual blocks of dilated 1-D convolutions over time (RMS-normed);
  4. a 1x1 head to 4 x 60 logits per step.
Sampling is blocked Gibbs with an annealed masking schedule (Yao et al. 2014).

Files: ``net.py`` (coding and net), ``train.py`` (masks, loss, trainer),
``sampling.py`` (Gibbs, the voice-leading mask, pseudo-likelihood), this one (the
composer and likelihoods).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...representations.voices import REST, STEPS_PER_BEAT, Meter, grid_to_notes
from ..common.composer import Composer, single_thread
from .net import (
    VOICES,
    ArcnnNet,
    beat_phase,
    decode,
    encode,
    meter_phase,
)
from .sampling import cell_log_probs, gibbs

# ------------------------------------------------------------------ the composer


def melody_edits(old: np.ndarray, new: np.ndarray) -> tuple[int, int]:
    """(removed, added) notes between two melody rows ``[T]``.

    A note of ``old`` is kept when ``new`` holds the same note (pitch, start and end
    steps); every note of ``new`` that is not a note of ``old`` counts as added.
    """
    a, b = set(grid_to_notes(old)), set(grid_to_notes(new))
    return len(a - b), len(b - a)


def interior_rests(grid: np.ndarray) -> np.ndarray:
    """Bool ``[4, T]``: rests that lie between a row's first and last sounding step."""
    out = np.zeros(grid.shape, bool)
    for v, row in enumerate(grid):
        on = np.flatnonzero(row != REST)
        if on.size:
            out[v, on[0] : on[-1]] = row[on[0] : on[-1]] == REST
    return out


class ArcnnComposer(Composer):
    """Coconet-style AR-CNN behind the compose interface.

    ``temperature`` is where the softmax temperature of the Gibbs sampler starts; it
    cools to ``COOL * temperature`` by the last iteration (0 = always the likeliest).
    Controls: ``iterations`` (Gibbs sweeps; for ``enhance`` the melody-edit
    proposals), ``chains`` (parallel Gibbs chains, best kept by pseudo-likelihood),
    ``max_remove`` (enhance: percent of melody notes that may go, default 20) and
    ``max_add`` (enhance: notes that may be added, default 16) and ``voice_leading``
    (default True: sampling never writes new parallel fifths or octaves; see ``gibbs``).
    ``top_k`` and ``top_p`` do not apply to this model.
    """

    ITERATIONS = 48  # default Gibbs iterations (see the card for the speed/quality trade)
    COOL = 0.5  # the sampling temperature falls from T to COOL * T over the iterations
    UNIT = 1  # Gibbs blocks hide runs of UNIT steps of one voice
    ENHANCE_ITERATIONS = 32

    def __init__(self, net: ArcnnNet, config: dict):
        self.net = net.eval()
        self.config = config

    @classmethod
    def from_weights(cls, tensors: dict, meta: dict) -> ArcnnComposer:
        net = ArcnnNet(**meta["config"])
        net.load_state_dict({k: v.float() for k, v in tensors.items()})
        return cls(net, meta["config"])

    # -- generation

    def generate(self, task, grid, known, meter, seed, temperature=1.0,
                 voice_leading: bool = True, **controls):
        """See ``Composer.generate``. The net's beat phase counts from the meter's bar lines
        (``meter.offset``: a pickup), as do enhance's spans and Gibbs blocks. Runs on one
        torch thread (restored afterwards): Gibbs sampling is many small forward passes,
        which threads slow down on a busy CPU."""
        with single_thread():
            return self._generate(task, grid, known, meter or Meter(), seed, temperature,
                                  bool(voice_leading), **controls)

    @torch.no_grad()
    def _generate(self, task, grid, known, meter, seed, temperature, voice_leading,
                  **controls):
        grid = np.asarray(grid, dtype=np.int16)
        known = np.asarray(known, dtype=bool)
        if grid.ndim != 2 or grid.shape[0] != VOICES or known.shape != grid.shape:
            raise ValueError(f"expected grid and known [4, steps]; got {grid.shape}, {known.shape}")
        gen = torch.Generator().manual_seed(int(seed))
        iterations = controls.get("iterations")
        if task == "enhance":
            return self._enhance(grid, known, meter, gen, temperature, iterations,
                                 float(controls.get("max_remove", 20.0)),
                                 int(controls.get("max_add", 16)), voice_leading)
        iterations = self.ITERATIONS if iterations is None else int(iterations)
        return self._fill(grid, known, meter, gen, temperature, iterations,
                          int(controls.get("chains", 1)), voice_leading)

    def _fill(self, grid, known, meter, gen, temperature, iterations, chains=1,
              voice_leading=True):
        """Sample every unknown cell; known cells come back unchanged.

        Known rests inside a voice (between its first and last note) are sampled too
        (latent) and restored afterwards, so the other voices keep harmonizing through a
        melody's rests as they would in a chorale; leading and trailing rests stay given
        (the piece has not begun or is over there).
        """
        T = grid.shape[1]
        free = torch.as_tensor(~known | (interior_rests(grid) & known)).expand(chains, -1, -1)
        ids = torch.as_tensor(encode(grid)).expand(chains, -1, -1)
        phase = meter_phase(T, meter)  # [4, T]
        ids = gibbs(self.net, ids, free, phase, iterations, temperature, gen,
                    cool=self.COOL, unit=self.UNIT, voice_leading=voice_leading,
                    offset=meter.offset)
        best = 0
        if chains > 1:
            plls = cell_log_probs(self.net, ids, phase, 4, gen).mean((1, 2))
            best = int(plls.argmax())
        return np.where(known, grid, decode(ids[best].numpy())).astype(np.int16)

    def _enhance(self, grid, known, meter, gen, temperature, iterations, max_remove, max_add,
                 voice_leading=True):
        """DeepComposer's melody edit: resample short spans of row 0 within note budgets.

        The other rows are first harmonized under the input melody (as context), then
        each iteration hides a random span of 1-8 beats of the melody and redraws it
        from the net; a proposal is accepted only while at most ``max_remove`` percent
        of the input's melody notes are gone and at most ``max_add`` notes are new
        (``melody_edits``). Finally rows 1-3 are re-harmonized under the edited melody.
        ``iterations = 0`` returns the melody unchanged (with the harmonization).
        """
        if not 0 <= max_remove <= 100:
            raise ValueError(f"max_remove is a percentage 0-100; got {max_remove}")
        iterations = self.ENHANCE_ITERATIONS if iterations is None else int(iterations)
        T = grid.shape[1]
        keep = known.copy()
        keep[0] = True
        out = self._fill(grid, keep, meter, gen, temperature, self.ITERATIONS // 2,
                         voice_leading=voice_leading)
        if iterations <= 0:
            return out
        melody = grid[0]
        budget = math.floor(max_remove / 100 * len(grid_to_notes(melody)))
        ids = torch.as_tensor(encode(out))[None]
        phase = meter_phase(T, meter)
        for _ in range(iterations):
            span = int(torch.randint(1, 9, (), generator=gen)) * STEPS_PER_BEAT
            start = int(torch.randint(0, max(1, T - span + 1), (), generator=gen))
            start = max(0, start - (start - meter.offset) % STEPS_PER_BEAT)  # on a beat
            hide = torch.zeros(1, VOICES, T, dtype=torch.bool)
            hide[0, 0, start : start + span] = True
            proposal = gibbs(self.net, ids, hide, phase, 2, temperature, gen, cool=self.COOL,
                             voice_leading=voice_leading)
            row = decode(proposal[0, 0].numpy())
            removed, added = melody_edits(melody, row)
            if removed <= budget and added <= max_add:
                ids = proposal
        out = decode(ids[0].numpy())
        keep = known.copy()
        keep[0] = True
        return self._fill(out, keep, meter, gen, temperature, self.ITERATIONS // 2,
                          voice_leading=voice_leading)

    # -- likelihood

    @torch.no_grad()
    def score(self, grid: np.ndarray, meter: Meter) -> float:
        """Mean pseudo-log-likelihood per cell (nats); each cell sees a random 7/8 of the rest."""
        grid = np.asarray(grid, dtype=np.int16)
        gen = torch.Generator().manual_seed(0)
        ids = torch.as_tensor(encode(grid))[None]
        phase = meter_phase(grid.shape[1], meter or Meter())
        return float(cell_log_probs(self.net, ids, phase, 8, gen).mean())

    @torch.no_grad()
    def nll(self, pieces: list[np.ndarray], order: str = "random", fraction: float = 0.1,
            seed: int = 0) -> dict:
        """Coconet's frame-wise NLL, nats per frame (a frame = the 4 voices at one 16th step).

        For each piece one ordering is drawn: frames in a random order (``order="random"``)
        or left to right (``"chronological"``), and the 4 voices of each frame in a random
        order. Frame ``f``'s term is ``-sum_j log p(x[v_j, f] | frames visited before f,
        voices v_1..v_{j-1} of f)``, conditioning on the ground truth throughout, so the terms
        of all frames add up to ``-log p(piece)`` under that ordering of the orderless NADE.
        Each term costs 4 forward passes, so ``fraction`` of the frames of each piece (drawn
        uniformly, at least one) are scored: ``nll`` = mean of the scored terms (unbiased
        for the per-frame mean, all frames at ``fraction=1``), ``sem`` its standard error,
        ``nll_per_cell`` = nll / 4.
        """
        rng = np.random.default_rng(seed)
        R = self.net.radius
        terms = []
        for piece in pieces:
            ids = torch.as_tensor(encode(piece))  # [4,T]
            T = ids.shape[1]
            frame_order = np.arange(T) if order == "chronological" else rng.permutation(T)
            rank = np.empty(T, dtype=np.int64)
            rank[frame_order] = np.arange(T)
            voice_order = np.stack([rng.permutation(VOICES) for _ in range(T)])  # [T,4]
            chosen = np.flatnonzero(rng.random(T) < fraction)
            if chosen.size == 0:
                chosen = rng.integers(0, T, 1)
            W = min(T, 2 * R + 1)
            xs, hides, phases, where = [], [], [], []
            for f in chosen:
                # a window of W steps around frame f sees everything the whole piece would
                start = int(np.clip(f - R, 0, T - W))
                later = torch.as_tensor(rank[start : start + W] >= rank[f])  # [W] not yet seen
                for j in range(VOICES):
                    hide = later[None].repeat(VOICES, 1)  # [4,W]
                    hide[voice_order[f, :j], f - start] = False  # voices scored before
                    xs.append(ids[:, start : start + W])
                    hides.append(hide)
                    phases.append(beat_phase(W, start))
                    where.append((int(voice_order[f, j]), f - start))
            cell = []
            for i in range(0, len(xs), 128):
                x, h = torch.stack(xs[i : i + 128]), torch.stack(hides[i : i + 128])
                logp = self.net(x, h, torch.stack(phases[i : i + 128])).log_softmax(-1)
                v, t = (torch.as_tensor(c) for c in zip(*where[i : i + 128], strict=True))
                b = torch.arange(len(x))
                cell.append(-logp[b, v, t, x[b, v, t]])
            terms.append(torch.cat(cell).view(-1, VOICES).sum(1).numpy())
        terms = np.concatenate(terms)
        nll = float(terms.mean())
        return {"nll": nll, "sem": float(terms.std() / np.sqrt(len(terms))),
                "nll_per_cell": nll / VOICES, "frames_scored": int(len(terms)),
                "order": order, "fraction": fraction,
                "unit": "nats per 16th-note frame (4 voices)"}
