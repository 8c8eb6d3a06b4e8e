"""What the drummer hears: the conditions of the drum GAN, from a Groove take or a song.

The drum GAN is trained on Groove (drums only, no melodies) and plays under songs (a
melody, no drums). It is conditioned on features both have, each in [-1, 1], per bar
(``COND`` names them, in the order the networks read them):

- ``energy``: how busy this phrase is against the other phrases of the same piece: the
  rank of the phrase's onset count among the piece's phrases (``P``-bar windows), mapped
  from [0, 1] to [-1, 1]. Groove: the drums' own onsets in the 4-bar training window
  against every 4-bar window of the take. Song: the melody's onsets in the phrase
  against the song's other phrases (a verse against its chorus).
- ``level``: how busy the piece is against its peers: the rank of its onsets per beat.
  Groove: the take's drum density among the takes of its style. Song: the melody's
  density against POP909's training melodies (``POP909_DENSITY``, deciles).
- ``sync``: how syncopated the piece is against its peers: the rank of its share of
  onsets on the odd 16ths (the "e" and "a" of a beat). Groove: the drums' share among the
  takes of the style; song: the melody's share against POP909's (``POP909_SYNC``).
- ``tempo``: ``log2(bpm / 110)`` clipped to [-1, 1] (55 to 220 bpm). Groove: the take's
  ``bpm``; song: its first tempo.

Besides the conditions, the song gives the phrase plan: which bars end a phrase (and get
a fill). ``phrase_plan`` puts the phrase grid where the melody breathes (rests or holds at
the end of the bar) and skips the fill of a phrase end that the melody sings through.

The mapping from a melody's rhythm to a drummer's density is the assumption: a phrase
with more melody notes than the song's others (a chorus against its verse) is played
with the energy Groove's drummers give their busier windows. Without a melody every
condition is 0 (the median), with the tempo if given.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from ...representations.drums import STEPS_PER_BEAT

COND = ("energy", "level", "sync", "tempo")
N_COND = len(COND)
TEMPO_CENTER = 110.0  # bpm at tempo 0

# Deciles (0, 10, ..., 100%) over POP909's 783 training songs, measured once
# (``benchmarks/band_drums.py --reference``): melody onsets per beat over the melody's
# span, and the share of melody onsets on odd 16th steps.
POP909_DENSITY = (0.495, 0.834, 0.972, 1.063, 1.123, 1.211, 1.311, 1.411, 1.591, 1.792, 6.979)
POP909_SYNC = (0.0, 0.0, 0.012, 0.032, 0.072, 0.143, 0.239, 0.318, 0.386, 0.463, 0.663)


def centered(rank: float) -> float:
    """[0, 1] -> [-1, 1]."""
    return float(np.clip(2.0 * rank - 1.0, -1.0, 1.0))


def tempo_feature(bpm: float | None) -> float:
    if bpm is None or not math.isfinite(bpm) or bpm <= 0:
        return 0.0
    return float(np.clip(math.log2(bpm / TEMPO_CENTER), -1.0, 1.0))


def ranks(values) -> np.ndarray:
    """Each value's rank among ``values`` in [0, 1] (ties share their mean rank; a single
    value, or all equal, is 0.5)."""
    v = np.asarray(values, float)
    if len(v) < 2:
        return np.full(len(v), 0.5)
    order = v.argsort(kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(len(v), dtype=float)
    for x in np.unique(v):  # ties: mean rank
        at = v == x
        r[at] = r[at].mean()
    return r / (len(v) - 1)


def quantile_of(x: float, deciles) -> float:
    """Where ``x`` falls among a reference's deciles, in [0, 1] (linear in between)."""
    d = np.asarray(deciles, float) + np.arange(len(deciles)) * 1e-9  # strictly increasing
    return float(np.interp(x, d, np.linspace(0.0, 1.0, len(d))))


def window_energy(bar_onsets, window: int) -> np.ndarray:
    """Per bar ``i`` of a take: the rank of the onsets in bars ``i .. i + window - 1`` among
    all such windows of the take, centered to [-1, 1] (``[n]``; windows that run past the
    end use what is left)."""
    c = np.asarray(bar_onsets, float)
    sums = np.array([c[i:i + window].sum() * window / max(len(c[i:i + window]), 1)
                     for i in range(len(c))])
    return np.array([centered(r) for r in ranks(sums)])


def odd_share(steps) -> float:
    """Share of onsets (16th steps) on odd steps; 0 without onsets."""
    s = np.asarray(steps, np.int64)
    return float(np.mean(s % 2 == 1)) if len(s) else 0.0


# ------------------------------------------------------------------ a song


def melody_steps(melody) -> np.ndarray:
    """Melody onsets ``(pitch, start_beat, ...)`` -> their 16th steps (nearest)."""
    return np.array(sorted(int(math.floor(n[1] * STEPS_PER_BEAT + 0.5)) for n in melody),
                    np.int64)


def phrase_plan(bars, onsets: np.ndarray, phrase_bars: int, ends=None) -> list[bool]:
    """Which of ``bars`` ``[(start_step, length, full_bar_steps), ...]`` end a phrase (a fill).

    Without a melody (no ``onsets``): every ``phrase_bars``-th bar. With one: each bar's
    *breath* is the share of its second half after its last melody onset (1 when the
    melody rests or holds there, 0 when it sings to the bar line); the phrase grid is put
    at the offset (0 .. phrase_bars - 1) whose phrase-end bars breathe most (ties: 0; a
    first phrase is at least phrase_bars - 1 bars), and a phrase end whose breath is
    under a quarter (the melody sings through it) gets no fill, unless it ends a pair of
    phrases. The last bar always ends a phrase (``ends`` adds the planner's own end
    rule: a short last bar passes its fill to the bar before)."""
    n = len(bars)
    P = max(int(phrase_bars), 1)
    if not n:
        return []
    if len(onsets) == 0:
        out = [(i + 1) % P == 0 for i in range(n)]
    else:
        breath = []
        for s, length, _full in bars:
            inside = onsets[(onsets >= s) & (onsets < s + length)]
            half = s + length / 2
            last = inside.max() if len(inside) else -math.inf
            breath.append(float(np.clip((s + length - max(last + 1, half))
                                        / max(length / 2, 1), 0, 1)))
        best_k, best = 0, -1.0
        for k in range(P):
            ends_k = [breath[i] for i in range(n) if (i + 1 - k) % P == 0 and i + 2 >= P]
            score = float(np.mean(ends_k)) if ends_k else -1.0
            if score > best + 1e-9:
                best_k, best = k, score
        out = []
        for i in range(n):
            end = (i + 1 - best_k) % P == 0 and i + 2 >= P
            pair = (i + 1 - best_k) % (2 * P) == 0
            out.append(end and (breath[i] >= 0.25 or pair))
    out[-1] = True
    for i in ends or ():
        if 0 <= i < n:
            out[i] = True
    return out


def song_conditions(bars, fills, melody=None, bpm: float | None = None,
                    phrase_bars: int = 4) -> np.ndarray:
    """Per bar ``[n, N_COND]``: the conditions of ``COND`` for a song whose bars are
    ``[(start_step, length, full_bar_steps), ...]`` and phrase ends ``fills``.

    ``energy`` is constant over a phrase (the bars up to and including a phrase end, at
    most ``2 * phrase_bars``): the rank of its melody onsets per beat among the song's
    phrases (0 for a song of one phrase); ``level`` and ``sync`` are the melody's against
    POP909's; ``tempo`` from ``bpm``. Without melody notes all but ``tempo`` are 0."""
    n = len(bars)
    cond = np.zeros((n, N_COND), np.float32)
    cond[:, COND.index("tempo")] = tempo_feature(bpm)
    steps = melody_steps(melody or [])
    if not n or not len(steps):
        return cond
    phrases, cur = [], []
    for i in range(n):
        cur.append(i)
        if fills[i] or len(cur) >= 2 * phrase_bars:
            phrases.append(cur)
            cur = []
    if cur:
        phrases.append(cur)
    counts = []
    for ph in phrases:
        a = bars[ph[0]][0]
        b = bars[ph[-1]][0] + bars[ph[-1]][1]
        beats = max((b - a) / STEPS_PER_BEAT, 1e-9)
        counts.append(((steps >= a) & (steps < b)).sum() / beats)
    for ph, r in zip(phrases, ranks(counts), strict=True):
        cond[ph, COND.index("energy")] = centered(r) if len(phrases) > 1 else 0.0
    span = max((steps[-1] - steps[0]) / STEPS_PER_BEAT + 1.0, 1.0)
    cond[:, COND.index("level")] = centered(quantile_of(len(steps) / span, POP909_DENSITY))
    cond[:, COND.index("sync")] = centered(quantile_of(odd_share(steps), POP909_SYNC))
    return cond


def fingerprint(cond: np.ndarray, fills) -> int:
    """A stable 32-bit number of a song's conditions and phrase plan (to seed its draws)."""
    data = np.round(np.asarray(cond, float), 3).tobytes() + bytes(int(bool(f)) for f in fills)
    return zlib.crc32(data)
