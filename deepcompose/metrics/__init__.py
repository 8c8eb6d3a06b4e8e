"""Objective metrics for accompaniment, written from their definitions.

Conventions (shared by every function here):

- A note is a tuple ``(pitch, start_beat, end_beat)``; beats are quarter notes. A *part* is
  a list of notes; the *melody* is one part, the *accompaniment* is a list of parts.
- Pitch class is ``pitch % 12`` (C4=60 and C5=72 are the same class). Chroma is never
  made by reshaping the pitch axis.
- Harmony metrics work on the 16th-note grid (``STEPS_PER_BEAT = 4`` steps per beat): a
  note sounds at steps ``round(start*4) .. max(round(start*4)+1, round(end*4)) - 1``.
  Durations (``keyfit``, ``tiny_notes``) use the notes' own times in beats.
- The *melody line* is the highest melody pitch sounding at a step.
- A ratio whose denominator is empty is ``nan`` (e.g. consonance with no accompaniment);
  ``average`` skips nans.

``harmony`` returns (all from the definitions of issue 3):

consonance
    On-beat consonance. At each beat where the melody sounds, every pair (melody
    line pitch ``m``, sounding accompaniment note ``a``) counts once per part that sounds
    it; it is consonant when ``(m - a) % 12`` is 0, 3, 4, 7, 8 or 9, or 5 when ``a`` is not
    the lowest accompaniment pitch sounding then. Score = consonant pairs / all pairs.
    Beats are the quarter-note steps counted from the true bar lines (``meter.offset``;
    a pickup of half a beat moves every beat by half a beat); without a meter, the
    integer beats. ``on_beat_consonance(..., bars=True)`` counts the downbeats only.
keyfit
    Share of accompaniment note time (beats) whose pitch class is on the scale of the key:
    ``key`` if given, else ``keys.estimate_key`` on the melody (duration-weighted). Major
    scale, or natural minor plus the raised 7th (``keys.scale_pitch_classes``).
parallels
    Parallel fifths and octaves per 100 chord transitions. Voices: the melody line, plus
    each accompaniment part split into lines by rank from the top at each step (one line
    for a monophonic part). A chord transition is a step boundary ``t-1 -> t`` where at
    least one voice changes (pitch, or rest <-> note). A parallel is a pair of voices both
    sounding at ``t-1`` and ``t``, both moving in the same direction, whose distance
    ``|p_i - p_j| % 12`` is 7 before and after (fifths, compound too) or 0 before and after
    (octaves and unisons): ``decoding.parallel``, the rule the models' samplers obey with
    ``voice_leading=True``. Score = 100 * parallels / transitions.
polyphony
    Mean number of accompaniment notes sounding (counted per part) over the steps where
    at least one accompaniment note sounds.
coverage
    Share of melody-sounding steps at which some accompaniment note sounds.
tiny_notes
    Share of accompaniment notes shorter than 1/8 beat.
above_melody
    Share of accompaniment note time (note-steps) above the melody line; steps where the
    melody is silent count in the total and never as above.
voice_range
    Mean over accompaniment parts of (highest - lowest pitch) in semitones.
voice_crossing
    Share of steps, among those where at least two parts sound, where some lower part (the
    order is melody, then the accompaniment parts as given, high to low) has a note above
    the lowest note of a higher part.

Calibration (JSB test split, 77 chorales, mean over pieces; ``tests/test_metrics.py``):
Bach's own alto/tenor/bass score consonance 0.923, keyfit 0.933, parallels 0.31; random
in-scale notes (``benchmarks/baselines.py``, new note each beat) 0.637, 1.0, 8.1; a held
tonic triad 0.719, 1.0, 0.0. Parallels depend on the grid: sampling the voices once per
beat instead of every 16th (passing notes then hide between samples) gives Bach 1.9.

``musegan`` returns MuseGAN's metrics (Dong et al., AAAI 2018) on a bool piano roll
``[tracks, steps, 128]``; see its docstring for each convention.
"""

from __future__ import annotations

import math

import numpy as np

from .. import keys
from ..decoding import parallel, snap
from ..representations.voices import REST, STEPS_PER_BEAT, Meter, grid_to_notes

CONSONANT = frozenset({0, 3, 4, 7, 8, 9})
FOURTH = 5
TINY_BEATS = 1 / 8
QUALIFIED_STEPS = 3


# ---------------------------------------------------------------------- grids


def _span(note) -> tuple[int, int]:
    """Steps ``[start, end)`` a note covers on the 16th grid (at least one step)."""
    return snap(note[1], note[2])


def _length(melody, parts) -> int:
    ends = [_span(n)[1] for part in [melody, *parts] for n in part]
    return max(ends, default=0)


def _top_line(notes, steps: int) -> np.ndarray:
    """Highest pitch sounding at each step ``[steps]`` (REST where silent)."""
    row = np.full(steps, REST, dtype=np.int32)
    for n in notes:
        a, b = _span(n)
        np.maximum(row[a:b], n[0], out=row[a:b])
    return row


def _sounding(part, steps: int) -> list[list[int]]:
    """Pitches sounding at each step (sorted high to low, one entry per note)."""
    out: list[list[int]] = [[] for _ in range(steps)]
    for n in part:
        a, b = _span(n)
        for t in range(a, min(b, steps)):
            out[t].append(int(n[0]))
    return [sorted(ps, reverse=True) for ps in out]


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


# ---------------------------------------------------------------------- harmony


def harmony(melody, parts, key: tuple[int, str] | None = None,
            meter: Meter | None = None) -> dict:
    """Harmony of accompaniment ``parts`` against ``melody``; see the module docstring.

    ``meter`` places the beats of ``consonance`` (default: integer beats from 0)."""
    melody = [tuple(n) for n in melody]
    parts = [[tuple(n) for n in part] for part in parts]
    steps = _length(melody, parts)
    top = _top_line(melody, steps)  # [steps]
    acc = [_sounding(part, steps) for part in parts]  # [parts][steps] -> pitches
    acc_all = [[p for part in acc for p in part[t]] for t in range(steps)]
    if key is None:
        key = keys.estimate_key([n[0] for n in melody], [n[2] - n[1] for n in melody])
    return {
        "consonance": _consonance(top, acc_all, _beats(steps, meter)),
        "keyfit": _keyfit(parts, key),
        "parallels": _parallels(top, acc, steps),
        "polyphony": _ratio(sum(map(len, acc_all)), sum(1 for a in acc_all if a)),
        "coverage": _ratio(sum(1 for t in range(steps) if top[t] != REST and acc_all[t]),
                           int((top != REST).sum())),
        "tiny_notes": _ratio(sum(1 for p in parts for n in p if n[2] - n[1] < TINY_BEATS),
                             sum(map(len, parts))),
        "above_melody": _ratio(
            sum(1 for t in range(steps) for a in acc_all[t] if top[t] != REST and a > top[t]),
            sum(map(len, acc_all))),
        "voice_range": _ratio(sum(max(n[0] for n in p) - min(n[0] for n in p) for p in parts if p),
                              sum(1 for p in parts if p)),
        "voice_crossing": _crossing([[[int(top[t])] if top[t] != REST else [] for t in
                                      range(steps)], *acc], steps),
    }


def _beats(steps: int, meter: Meter | None, bars: bool = False) -> range:
    """Grid steps of the beats (or, with ``bars``, the bar lines) counted from the true bar
    lines of ``meter`` (None: integer beats, bar lines every 16 steps from 0)."""
    meter = meter or Meter()
    every = meter.steps_per_bar if bars else STEPS_PER_BEAT
    return range(meter.offset % every, steps, every)


def on_beat_consonance(melody, parts, meter: Meter | None = None, bars: bool = False) -> float:
    """``consonance`` of the module docstring on the true beats of ``meter``, or (``bars``) on
    its downbeats only."""
    melody = [tuple(n) for n in melody]
    parts = [[tuple(n) for n in part] for part in parts]
    steps = _length(melody, parts)
    acc = [_sounding(part, steps) for part in parts]
    acc_all = [[p for part in acc for p in part[t]] for t in range(steps)]
    return _consonance(_top_line(melody, steps), acc_all, _beats(steps, meter, bars))


def _consonance(top: np.ndarray, acc_all: list[list[int]], beats) -> float:
    good = total = 0
    for t in beats:
        if top[t] == REST or not acc_all[t]:
            continue
        lowest = min(acc_all[t])
        for a in acc_all[t]:
            interval = (int(top[t]) - a) % 12
            good += interval in CONSONANT or (interval == FOURTH and a != lowest)
            total += 1
    return _ratio(good, total)


def _keyfit(parts, key: tuple[int, str]) -> float:
    scale = keys.scale_pitch_classes(*key)
    durs = [(n[0] % 12, n[2] - n[1]) for part in parts for n in part]
    return _ratio(sum(d for pc, d in durs if pc in scale), sum(d for _, d in durs))


def _lines(top: np.ndarray, acc: list[list[list[int]]], steps: int) -> np.ndarray:
    """Voices ``[voices, steps]``: the melody line, then each part's lines ranked from the top."""
    width = [max((len(part[t]) for t in range(steps)), default=0) for part in acc]
    lines = np.full((1 + sum(width), steps), REST, dtype=np.int32)
    lines[0] = top
    row = 1
    for part, w in zip(acc, width, strict=True):
        for t in range(steps):
            lines[row:row + len(part[t]), t] = part[t]
        row += w
    return lines


def _parallels(top: np.ndarray, acc, steps: int) -> float:
    v = _lines(top, acc, steps)  # [voices, steps]
    if steps < 2:
        return math.nan
    prev, cur = v[:, :-1], v[:, 1:]  # [voices, steps-1]
    transitions = int((prev != cur).any(axis=0).sum())
    count = sum(int(parallel(prev[i], cur[i], prev[j], cur[j]).sum())
                for i in range(len(v)) for j in range(i + 1, len(v)))
    return _ratio(100.0 * count, transitions)


def _crossing(ordered: list[list[list[int]]], steps: int) -> float:
    crossed = counted = 0
    for t in range(steps):
        sounding = [part[t] for part in ordered if part[t]]
        if len(sounding) < 2:
            continue
        counted += 1
        crossed += any(max(low) > min(high) for k, high in enumerate(sounding)
                       for low in sounding[k + 1:])
    return _ratio(crossed, counted)


# ---------------------------------------------------------------------- MuseGAN


def tonal_centroid(chroma) -> np.ndarray:
    """Harte, Sandler & Gasser (2006) 6-D tonal centroid of a 12-bin chroma ``[..., 12]``.

    The L1-normalized chroma is projected onto three circles: fifths (angle ``7*pi/6``
    per pitch class, radius 1), minor thirds (``3*pi/2``, radius 1) and major thirds
    (``2*pi/3``, radius 0.5). An all-zero chroma maps to the origin.
    """
    chroma = np.asarray(chroma, dtype=float)
    pcs = np.arange(12)
    phi = np.stack([  # [6, 12]
        np.sin(pcs * 7 * np.pi / 6), np.cos(pcs * 7 * np.pi / 6),
        np.sin(pcs * 3 * np.pi / 2), np.cos(pcs * 3 * np.pi / 2),
        0.5 * np.sin(pcs * 2 * np.pi / 3), 0.5 * np.cos(pcs * 2 * np.pi / 3),
    ])
    norm = chroma.sum(axis=-1, keepdims=True)
    return (chroma / np.where(norm > 0, norm, 1.0)) @ phi.T


def fold_pitch_classes(x) -> np.ndarray:
    """Sum a MIDI pitch axis ``[..., 128]`` into pitch classes ``[..., 12]`` (pitch % 12)."""
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape[:-1] + (12,))
    for pitch in range(x.shape[-1]):
        out[..., pitch % 12] += x[..., pitch]
    return out


def chroma(roll) -> np.ndarray:
    """Duration-weighted chroma ``[..., 12]`` of a roll ``[..., steps, 128]`` (pitch % 12)."""
    return fold_pitch_classes(np.asarray(roll, dtype=float).sum(axis=-2))


def _notes_in(track: np.ndarray) -> list[int]:
    """Lengths in steps of the notes of one track ``[steps, 128]`` (runs of True per pitch)."""
    padded = np.zeros((track.shape[0] + 2, track.shape[1]), dtype=np.int8)
    padded[1:-1] = track
    edges = np.diff(padded, axis=0)
    starts, ends = np.nonzero(edges.T == 1), np.nonzero(edges.T == -1)
    return list(ends[1] - starts[1])


def musegan(roll, steps_per_bar: int, offset: int = 0,
            qualified_steps: int = QUALIFIED_STEPS) -> dict:
    """MuseGAN's metrics over a bool roll ``[tracks, steps, 128]`` (MIDI pitch axis).

    Bars are the complete bars ``[offset + k*steps_per_bar, offset + (k+1)*steps_per_bar)``;
    a pickup before ``offset`` and a trailing partial bar are left out (when no bar is
    complete, the whole roll is one bar). Scalars are means over tracks; ``per_track``
    holds the lists.

    empty_bars: share of (track, bar) with no note (1.0 = all empty; not inverted).
    used_pitch_classes: distinct pitch classes (``pitch % 12``) per bar, mean over the
        non-empty bars of the track.
    qualified_notes: share of notes at least ``qualified_steps`` steps long. A note is a
        run of True steps at one pitch; at our 16th resolution 3 steps = a dotted 8th
        (MuseGAN's 3 steps were a 32nd at 24 steps per beat, so this is stricter).
    polyphonicity: share of steps (over the complete bars) where 3 or more pitches sound
        in the track (MuseGAN: "more than two"); ``polyphonicity_union`` does the same over
        all tracks together, the useful reading for one-voice-per-track rolls.
    tonal_distance: per pair of tracks, the Euclidean distance between the tonal
        centroids (``tonal_centroid``) of their per-bar chroma, averaged over the bars
        where both sound; ``tonal_distance`` is the mean over pairs, ``tonal_distance_pairs``
        maps ``"i-j"`` to each pair's value.
    """
    roll = np.asarray(roll, dtype=bool)
    tracks, steps = roll.shape[:2]
    n_bars = (steps - offset) // steps_per_bar if steps > offset else 0
    if n_bars > 0:
        body = roll[:, offset:offset + n_bars * steps_per_bar]
        bars = body.reshape(tracks, n_bars, steps_per_bar, roll.shape[2])
    else:
        body, bars = roll, roll[:, None]
    used = bars.any(axis=2)  # [tracks, bars, 128]
    nonempty = used.any(axis=2)  # [tracks, bars]
    pcs = fold_pitch_classes(used) > 0  # [tracks, bars, 12]
    per = {"empty_bars": [], "used_pitch_classes": [], "qualified_notes": [],
           "polyphonicity": []}
    for k in range(tracks):
        per["empty_bars"].append(float(1.0 - nonempty[k].mean()))
        per["used_pitch_classes"].append(_ratio(float(pcs[k][nonempty[k]].sum()),
                                                int(nonempty[k].sum())))
        lengths = _notes_in(body[k])
        per["qualified_notes"].append(_ratio(sum(x >= qualified_steps for x in lengths),
                                             len(lengths)))
        per["polyphonicity"].append(float((body[k].sum(axis=1) >= 3).mean()) if body.shape[1]
                                    else math.nan)
    cents = tonal_centroid(chroma(bars))  # [tracks, bars, 6]
    pairs = {}
    for i in range(tracks):
        for j in range(i + 1, tracks):
            both = nonempty[i] & nonempty[j]
            dist = np.linalg.norm(cents[i] - cents[j], axis=-1)[both]
            pairs[f"{i}-{j}"] = float(dist.mean()) if dist.size else math.nan
    out = {name: _nanmean(vals) for name, vals in per.items()}
    out["polyphonicity_union"] = (float((body.sum(axis=(0, 2)) >= 3).mean()) if body.shape[1]
                                  else math.nan)
    out["tonal_distance"] = _nanmean(list(pairs.values()))
    out["tonal_distance_pairs"] = pairs
    out["per_track"] = per
    return out


def _nanmean(values) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan


# ---------------------------------------------------------------------- conveniences


def notes_roll(parts, steps: int | None = None) -> np.ndarray:
    """Parts of notes in beats -> bool roll ``[parts, steps, 128]`` on the 16th grid."""
    if steps is None:
        steps = _length([], parts)
    roll = np.zeros((len(parts), steps, 128), dtype=bool)
    for k, part in enumerate(parts):
        for n in part:
            a, b = _span(n)
            roll[k, a:min(b, steps), int(n[0])] = True
    return roll


def all_metrics(melody, parts, meter: Meter | None = None, key=None) -> dict:
    """``harmony`` plus ``musegan`` (tracks: melody, then the parts) in one flat dict."""
    meter = meter or Meter()
    out = harmony(melody, parts, key, meter)
    out.update(musegan(notes_roll([melody, *parts]), meter.steps_per_bar, meter.offset))
    return out


def song_metrics(song, melody_index: int = 0, key=None) -> dict:
    """All metrics of a ``Song``: track ``melody_index`` is the melody, the other non-drum
    tracks the accompaniment (in track order, taken as high to low); bars from
    ``song.meter()``."""
    def notes(track):
        return [(n.pitch, n.start, n.end) for n in track.notes]

    melody = notes(song.tracks[melody_index])
    parts = [notes(t) for i, t in enumerate(song.tracks) if i != melody_index and not t.is_drum]
    return all_metrics(melody, parts, song.meter(), key)


def grid_notes(grid) -> list[list[tuple[int, float, float]]]:
    """Voice grid ``[voices, steps]`` (4 steps per beat) -> one list of notes in beats per row."""
    return [[(p, a / STEPS_PER_BEAT, b / STEPS_PER_BEAT) for p, a, b in grid_to_notes(row)]
            for row in np.asarray(grid)]


def grid_metrics(grid, meter: Meter | None = None, key=None) -> dict:
    """All metrics of a voice grid ``[4, steps]``: row 0 the melody, rows 1-3 the parts.

    ``meter`` defaults to 4/4 with no pickup (it only moves MuseGAN's bar lines)."""
    rows = grid_notes(grid)
    return all_metrics(rows[0], rows[1:], meter, key)


def average(results: list[dict]) -> dict:
    """Mean of each scalar metric over several results, skipping nans (dicts are dropped)."""
    keys_ = [k for k, v in results[0].items() if isinstance(v, (int, float))] if results else []
    return {k: _nanmean([float(r[k]) for r in results]) for k in keys_}


def json_ready(obj):
    """nan -> None, numpy scalars -> Python numbers, recursively (for JSON output)."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
