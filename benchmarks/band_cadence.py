"""Does the pop band's harmony land? Issue 26's measures on complete POP909 validation songs.

    python benchmarks/band_cadence.py [--limit N] [--weights DIR] [--before DIR]
                                      [--seeds 1,2] [--ablation] [--out FILE.md]

For each validation song (ids divisible by 10) the piece is the melody's whole span: from the
bar line at (or before) its first note to the first bar line at or after the end of its last
note, shifted to start at beat 0. The band gets the melody alone (no chords, bar lines from
beat 0) at each seed, the same seed for every song, as a user passing ``--seed``; "real" is
POP909's own arrangement of the same bars (bass + keys + counter: PIANO + BRIDGE). The tonic
of every column is the one ``metrics.cadence.tonic_of`` estimates from the real arrangement,
so the band is judged in the song's key.

Measures (``deepcompose.metrics.cadence``; beats are quarter notes, sonorities are the
melody and every part): bass home under the melody's last note (share of the songs whose
melody ends on the tonic), no semitone clash in the final sonority, phrase ends (the last
melody note of every 8th bar) with the bass on I or V, full harmony (3 or more pitch
classes) on sounding beats, and of those the semitone-clash and tritone shares.

Thresholds (issue 26, on the seed columns): bass home >= 0.85 and within 0.05 of the real
where the real is higher; no final clash >= 0.90; phrase ends on I or V >= 0.60; full
harmony >= 0.60. ``--before DIR`` adds the weights of before (seed 1, played without the
rules issue 26 added), ``--ablation`` the band at seed 1 without each of issue 26's decoding
rules (``cadence``, ``keys_hold``), without both, and without any rule.
Exit status 1 when a threshold fails.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's deepcompose

from deepcompose.data.pop909 import load_song, song_ids  # noqa: E402
from deepcompose.metrics.cadence import cadence_report, summarize, tonic_of  # noqa: E402
from deepcompose.models.gan_pop import PopBand  # noqa: E402
from deepcompose.models.gan_pop.sample import RULES  # noqa: E402
from deepcompose.models.registry import WEIGHTS_DIR  # noqa: E402
from deepcompose.representations.multitrack import BandRequest  # noqa: E402

ROLES = ("bass", "keys", "counter")
PHRASE_BARS = 8


def complete_song(song):
    """``(melody, real parts {role: notes}, bar_lines, beats_per_bar, length)`` of the
    melody's whole span (notes ``(pitch, start, end, velocity)`` in beats from the span's
    first bar line), or None for a song without melody."""
    melody = song.notes("melody")
    if not melody:
        return None
    bpb = song.beats_per_bar
    lines = np.nonzero(np.asarray(song.beat_in_bar) == 0)[0].astype(float)
    m0 = min(n[1] for n in melody)
    m1 = max(n[2] for n in melody)
    before = lines[lines <= m0 + 1e-6]
    start = float(before[-1]) if len(before) else float(np.floor(m0))
    after = lines[lines >= m1 - 1e-6]
    end = float(after[0]) if len(after) else start + bpb * math.ceil((m1 - start) / bpb)
    length = end - start

    def cut(notes):
        return [(p, a - start, min(b, end) - start, v) for p, a, b, v in notes
                if start <= a < end]

    bar_lines = [b - start for b in lines if start <= b < end] + [length]
    return cut(melody), {r: cut(song.notes(r)) for r in ROLES}, bar_lines, bpb, length


def request(melody, length: float, bpb: int, seed: int) -> BandRequest:
    return BandRequest(melody, length, bpb, 0.0, (4, 4) if bpb == 4 else (3, 4), None,
                       seed=seed)


def variant(band, **cfg):
    """``band`` with some sampling settings changed (a shallow copy; weights shared)."""
    other = copy.copy(band)
    other.cfg = {**band.cfg, **cfg}
    return other


def evaluate(columns: dict, songs) -> dict:
    """``{column: summarize(...)}`` over ``songs`` (``complete_song`` tuples); ``columns``:
    ``{name: None (the real arrangement) or (band, seed, rules)}``."""
    reports = {c: [] for c in columns}
    for melody, real, bar_lines, bpb, length in songs:
        real_parts = [real[r] for r in ROLES]
        tonic = tonic_of(melody, real_parts)
        for col, spec in columns.items():
            if spec is None:
                parts = real_parts
            else:
                band, seed, rules = spec
                res = band.arrange(request(melody, length, bpb, seed), rules=rules, score=False)
                parts = [p.notes for p in res.parts]
            reports[col].append(cadence_report(melody, parts, bar_lines, tonic, PHRASE_BARS))
    return {c: summarize(r) for c, r in reports.items()}


ROWS = (  # key, label, test(value, real value) -> bool, threshold text
    ("bass_home", "bass home under the melody's last note (songs ending home)",
     lambda v, r: v >= 0.85 and (r <= v or r - v <= 0.05),
     ">= 0.85, within 0.05 of real if real is higher"),
    ("no_final_clash", "no semitone clash in the final sonority", lambda v, r: v >= 0.90,
     ">= 0.90"),
    ("phrase_end", "phrase ends (every 8th bar) with the bass on I or V",
     lambda v, r: v >= 0.60, ">= 0.60"),
    ("full", "full harmony (>= 3 pitch classes) of sounding beats", lambda v, r: v >= 0.60,
     ">= 0.60"),
    ("semitone", "of full beats: holding a semitone clash", None, "-"),
    ("tritone", "of full beats: holding a tritone", None, "-"),
)


def table(vals: dict, checked) -> tuple[str, bool]:
    """Markdown table of ``evaluate``'s rows; PASS/FAIL on the ``checked`` columns."""
    cols = list(vals)
    real = vals["real"]
    rows = ["| measure | " + " | ".join(cols) + " | threshold | result |",
            "|" + "---|" * (len(cols) + 3)]
    ok_all = True
    for key, label, test, thr in ROWS:
        res = [test(vals[c][key], real[key]) for c in checked] if test else []
        ok_all &= all(res)
        rows.append(f"| {label} | " + " | ".join(f"{vals[c][key]:.2f}" for c in cols)
                    + f" | {thr} | " + (" / ".join("PASS" if r else "FAIL" for r in res)
                                         or "-") + " |")
    rows.append("| songs (of them ending on the tonic) | " + " | ".join(
        f"{vals[c]['pieces']} ({vals[c]['ends_home']})" for c in cols) + " | - | - |")
    return "\n".join(rows), ok_all


ISSUE26_RULES = ("cadence", "keys_hold")  # the decoding terms issue 26 added


def without(*names) -> list[str]:
    return [r for r in RULES if r not in names]


def ablation(band) -> dict:
    """Seed-1 columns with decoding off: each issue-26 rule, both (the network with the
    rules of before), and every rule."""
    return {**{f"no {r}": (band, 1, without(r)) for r in ISSUE26_RULES},
            "network + old rules": (band, 1, without(*ISSUE26_RULES)),
            "no rules": (band, 1, False)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="only the first N validation songs")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--weights", type=Path, default=WEIGHTS_DIR,
                    help="folder with gan_pop.safetensors + gan_pop.json")
    ap.add_argument("--before", type=Path, help="weights of before: a 'before' column (seed 1)")
    ap.add_argument("--ablation", action="store_true")
    ap.add_argument("--set", action="append", default=[],
                    help="key=value sampling setting for the band (tuning; JSON values)")
    ap.add_argument("--out", type=Path, help="also write the table here (markdown)")
    args = ap.parse_args(argv)
    import json

    t = time.perf_counter()
    band = PopBand.load(args.weights)
    if args.set:
        band = variant(band, **{k: json.loads(v) for k, v in (s.split("=", 1)
                                                             for s in args.set)})
    seeds = [int(s) for s in args.seeds.split(",") if s]
    ids = song_ids("valid")[:args.limit] if args.limit else song_ids("valid")
    songs = [w for sid in ids if (w := complete_song(load_song(sid))) is not None]
    columns = {"real": None}
    if args.before:
        # the weights and sampler of before: without issue 26's rules
        columns["before (seed 1)"] = (PopBand.load(args.before), 1, without(*ISSUE26_RULES))
    columns |= {f"seed {s}": (band, s, True) for s in seeds}
    if args.ablation:
        columns |= ablation(band)
    vals = evaluate(columns, songs)
    text, ok = table(vals, [f"seed {s}" for s in seeds])
    bars = sum(len(s[2]) - 1 for s in songs)
    text += (f"\n\n{len(songs)} complete POP909 validation songs ({bars} bars, the melody's "
             f"whole span), melody alone in; weights {args.weights}"
             + (f", before {args.before}" if args.before else "")
             + f"; wall time {time.perf_counter() - t:.0f} s.")
    print(text)
    if args.out:
        args.out.write_text("# Pop band cadences (benchmarks/band_cadence.py)\n\n" + text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
