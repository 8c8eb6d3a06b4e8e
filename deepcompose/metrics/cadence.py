"""Does the harmony land? Endings, phrase ends and chord fullness (issue 26's measures).

Inputs are notes ``(pitch, start_beat, end_beat)`` in beats (quarter notes): the melody,
and the accompaniment as a list of parts. A *sonority* at a time is the set of pitch
classes of every note sounding then (melody and accompaniment); the *bass* is the lowest
accompaniment pitch sounding then.

- ``final_bass_home``: the bass under the melody's last note is on the melody's final
  pitch class (for tunes that end on their tonic, the tonic);
- ``final_clash``: the final sonority (under the melody's last note) holds a semitone
  (minor 2nd / major 7th);
- ``phrase_end_bass``: under the last melody note of every ``phrase_bars``-th bar, the
  bass on the key's I or V (share of those phrase ends that have a bass);
- ``harmony_shares``: of the beats where something sounds (sampled at each quarter-note
  beat, plus half a 16th so that notes starting on the beat count), the share with full
  harmony (3 or more pitch classes), and of those the share holding a semitone clash and
  the share holding a tritone.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-6


def sounding(parts, t: float) -> list[int]:
    """Pitches of every note of ``parts`` (lists of notes) sounding at beat ``t``."""
    return [int(n[0]) for part in parts for n in part if n[1] <= t + EPS and n[2] > t + EPS]


def _intervals(pcs) -> set[int]:
    pcs = sorted(set(pcs))
    return {(b - a) % 12 for i, a in enumerate(pcs) for b in pcs[i + 1:]} | \
        {(a - b) % 12 for i, a in enumerate(pcs) for b in pcs[i + 1:]}


def has_semitone(pcs) -> bool:
    return bool(_intervals(pcs) & {1, 11})


def has_tritone(pcs) -> bool:
    return 6 in _intervals(pcs)


def last_note(melody):
    return max(melody, key=lambda n: (n[1], n[0]))


def bass_at(accompaniment, t: float) -> int | None:
    notes = sounding(accompaniment, t)
    return min(notes) if notes else None


def final_bass_home(melody, accompaniment) -> bool | None:
    """The bass under the melody's last note on its pitch class; None with no bass."""
    last = last_note(melody)
    bass = bass_at(accompaniment, last[1] + 0.125)
    return None if bass is None else bass % 12 == last[0] % 12


def final_clash(melody, accompaniment) -> bool:
    last = last_note(melody)
    t = last[1] + 0.125
    return has_semitone({p % 12 for p in sounding([melody, *accompaniment], t)})


def phrase_end_bass(melody, accompaniment, tonic: int, bar_lines, phrase_bars: int = 8
                    ) -> float | None:
    """Share of phrase ends (the last melody note starting in every ``phrase_bars``-th bar;
    ``bar_lines`` the bars' start beats, then the end) with the bass on I or V."""
    hits = []
    for k in range(phrase_bars - 1, len(bar_lines) - 1, phrase_bars):
        inside = [n for n in melody if bar_lines[k] - EPS <= n[1] < bar_lines[k + 1] - EPS]
        if not inside:
            continue
        bass = bass_at(accompaniment, last_note(inside)[1] + 0.125)
        if bass is not None:
            hits.append((bass - tonic) % 12 in (0, 7))
    return float(np.mean(hits)) if hits else None


def harmony_shares(melody, accompaniment) -> dict:
    """``full`` share of sounding beats; ``semitone`` and ``tritone`` shares of the full
    ones (nan where there is none)."""
    parts = [melody, *accompaniment]
    end = max((n[2] for p in parts for n in p), default=0.0)
    full, semi, tri, sounding_beats = 0, 0, 0, 0
    for beat in np.arange(0.0, end, 1.0):
        pcs = {p % 12 for p in sounding(parts, float(beat) + 0.125)}
        if not pcs:
            continue
        sounding_beats += 1
        if len(pcs) >= 3:
            full += 1
            semi += has_semitone(pcs)
            tri += has_tritone(pcs)
    return {"full": full / sounding_beats if sounding_beats else float("nan"),
            "semitone": semi / full if full else float("nan"),
            "tritone": tri / full if full else float("nan"), "beats": sounding_beats}


def tonic_of(melody, accompaniment) -> int:
    """The key's tonic pitch class (``keys.estimate_key`` over every note, duration-weighted)."""
    from ..keys import estimate_key

    notes = [n for part in [melody, *accompaniment] for n in part]
    return estimate_key([n[0] for n in notes], [n[2] - n[1] for n in notes])[0]


def cadence_report(melody, accompaniment, bar_lines, tonic: int | None = None,
                   phrase_bars: int = 8) -> dict:
    """Every measure of this module for one piece: ``bass_home`` (None without a bass),
    ``ends_home`` (the melody's last pitch class is ``tonic``; default: estimated from the
    notes given, so pass the real arrangement's to compare a model with it on the same
    pieces), ``final_clash``, ``phrase_end`` (None without phrase ends), and
    ``harmony_shares``' ``full``, ``semitone``, ``tritone``."""
    tonic = tonic_of(melody, accompaniment) if tonic is None else tonic
    return {"bass_home": final_bass_home(melody, accompaniment),
            "ends_home": last_note(melody)[0] % 12 == tonic,
            "final_clash": final_clash(melody, accompaniment),
            "phrase_end": phrase_end_bass(melody, accompaniment, tonic, bar_lines, phrase_bars),
            **{k: v for k, v in harmony_shares(melody, accompaniment).items() if k != "beats"}}


def summarize(reports: list[dict]) -> dict:
    """Pieces' ``cadence_report`` -> the benchmark row: ``bass_home`` over the pieces that end
    home (issue 26's definition), ``no_final_clash``, ``phrase_end`` (pooled per piece), and
    the mean ``full``, ``semitone``, ``tritone`` shares (nan-skipping); ``pieces``."""
    def mean(values):
        values = [float(v) for v in values if v is not None and v == v]
        return float(np.mean(values)) if values else float("nan")

    home = [r["bass_home"] for r in reports if r["ends_home"]]
    return {"bass_home": mean([h if h is not None else False for h in home]),
            "ends_home": len(home),
            "no_final_clash": mean([not r["final_clash"] for r in reports]),
            "phrase_end": mean([r["phrase_end"] for r in reports]),
            **{k: mean([r[k] for r in reports]) for k in ("full", "semitone", "tritone")},
            "pieces": len(reports)}
