"""Does the harmony land? Issue 26's ending measures on complete validation pieces, the real
accompaniment as the anchor, one style per function.

    python benchmarks/cadence_quality.py --style chorale [--weights DIR] [--before DIR]
                                         [--seeds 1 2 3] [--limit N] [--ablation]
                                         [--json out.json]

A style is one function in ``STYLES``: ``pieces(weights_dir, seeds, limit, rules) ->
list[Piece]``, complete validation pieces (never trained on), each with its melody, its
real accompaniment and the model's (from the weights in ``weights_dir``, None: the shipped
ones; one take per seed; ``rules=False``: its decoding rules off), and its bar lines.
Everything else is shared: ``metrics.cadence.cadence_report`` per piece for the real parts
and for every model take, with the real arrangement's tonic, and ``summarize`` per column.
Adding the band or the quartet is one function and one row.

The checks (issue 26, for the model under test, ``--weights``):

    bass home under the last melody note (pieces that end home) >= 0.85, and within 0.05
    of the real where the real is higher; no semitone clash in the final sonority >= 0.90;
    phrase ends (the last melody note of every 8th bar) with the bass on I or V >= 0.60.

``--before DIR``: another weights folder (the model before a change) as one more column;
``--ablation``: the model with its decoding rules off as one more (``no rule``).
Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's deepcompose

from deepcompose.metrics.cadence import cadence_report, summarize  # noqa: E402

PHRASE_BARS = 8  # issue 26: the last melody note of every 8th bar
ROWS = ("bass_home", "ends_home", "no_final_clash", "phrase_end", "full", "semitone", "tritone",
        "pieces")


@dataclass
class Piece:
    """One complete piece: notes ``(pitch, start_beat, end_beat)``; ``model`` one take of the
    accompaniment per seed; ``bar_lines`` the full bars' start beats, then the end."""

    name: str
    melody: list
    real: list  # parts, each a list of notes
    model: list  # takes, each a list of parts
    bar_lines: list


# ---------------------------------------------------------------------- styles


def chorale_pieces(weights_dir, seeds, limit, rules: bool = True) -> list[Piece]:
    """The JSB valid chorales (76): Bach's soprano in, the chorale GAN's alto, tenor and bass
    out (``generate`` on the voice grid, temperature 1, one take per seed), beside Bach's.
    The grids carry no bar lines: the meter and pickup are ``guess_meter``'s, for both."""
    from deepcompose.data import load_jsb
    from deepcompose.models.common.weights import load_family
    from deepcompose.models.gan.net import guess_meter
    from deepcompose.representations.voices import STEPS_PER_BEAT, grid_to_notes

    gan = load_family("gan", weights_dir)

    def notes(row):
        return [(p, a / STEPS_PER_BEAT, b / STEPS_PER_BEAT) for p, a, b in grid_to_notes(row)]

    out = []
    for i, grid in enumerate(load_jsb("valid")[:limit]):
        meter = guess_meter(grid)
        known = grid.copy() != grid.copy()
        known[0] = True
        takes = [[notes(r) for r in gan.generate("accompany", grid, known, meter, s, 1.0,
                                                 rules=rules)[1:]] for s in seeds]
        steps = grid.shape[1]
        bars = list(range(meter.offset, steps, meter.steps_per_bar)) + [steps]
        out.append(Piece(f"valid{i:02d}", notes(grid[0]), [notes(r) for r in grid[1:]], takes,
                         [b / STEPS_PER_BEAT for b in bars]))
    return out


STYLES = {"chorale": chorale_pieces}


# ---------------------------------------------------------------------- shared


def reports(pieces: list[Piece]) -> tuple[list[dict], list[dict]]:
    """``cadence_report`` of the real parts and of every model take, the tonic the real
    arrangement's (so both columns count the same pieces as ending home)."""
    from deepcompose.metrics.cadence import tonic_of

    real, model = [], []
    for p in pieces:
        tonic = tonic_of(p.melody, p.real)
        real.append(cadence_report(p.melody, p.real, p.bar_lines, tonic, PHRASE_BARS))
        model += [cadence_report(p.melody, take, p.bar_lines, tonic, PHRASE_BARS)
                  for take in p.model]
    return real, model


def checks(model: dict, real: dict) -> dict:
    """Issue 26's checks of one summary against the real one -> name: (ok, text)."""
    def ok(x, test):
        return not math.isnan(x) and test(x)

    bh, rb = model["bass_home"], real["bass_home"]
    return {
        "bass_home >= 0.85": (ok(bh, lambda x: x >= 0.85), f"{bh:.3f}"),
        "bass_home within 0.05 of the real": (
            ok(bh, lambda x: rb - x <= 0.05 + 1e-9 or x >= rb), f"{bh:.3f} vs {rb:.3f}"),
        "no_final_clash >= 0.90": (ok(model["no_final_clash"], lambda x: x >= 0.90),
                                   f"{model['no_final_clash']:.3f}"),
        "phrase_end >= 0.60": (ok(model["phrase_end"], lambda x: x >= 0.60),
                               f"{model['phrase_end']:.3f}"),
    }


def fmt(x) -> str:
    if isinstance(x, int):
        return str(x)
    return "-" if x is None or x != x else f"{x:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="chorale", choices=sorted(STYLES))
    ap.add_argument("--weights", type=Path, help="weights folder (default: the shipped)")
    ap.add_argument("--before", type=Path, help="another weights folder, as a column")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--limit", type=int, help="only the first N pieces")
    ap.add_argument("--json", type=Path, help="write every number here")
    ap.add_argument("--ablation", action="store_true",
                    help="also the model with its decoding rules off (rules=False)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    fn = STYLES[args.style]
    pieces = fn(args.weights, args.seeds, args.limit)
    real, model = reports(pieces)
    cols = {"real": summarize(real)}
    if args.before:
        cols["before"] = summarize(reports(fn(args.before, args.seeds, args.limit))[1])
    if args.ablation:
        cols["no rule"] = summarize(reports(fn(args.weights, args.seeds, args.limit,
                                               False))[1])
    cols["model"] = summarize(model)
    print(f"== cadences: {args.style}, {len(pieces)} complete validation pieces, "
          f"{len(args.seeds)} take(s) each (seeds {' '.join(map(str, args.seeds))}) ==")
    print(f"{'metric':16s}" + "".join(f"{c:>10s}" for c in cols))
    for r in ROWS:
        print(f"{r:16s}" + "".join(f"{fmt(cols[c][r]):>10s}" for c in cols))
    result = checks(cols["model"], cols["real"])
    for name, (good, text) in result.items():
        print(f"{name:36s} {text:>16s}  {'PASS' if good else 'FAIL'}")
    ok = all(good for good, _ in result.values())
    print(f"\n{'PASS' if ok else 'FAIL'} ({time.perf_counter() - t0:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"style": args.style, "seeds": args.seeds,
                                         "columns": cols,
                                         "checks": {k: v[0] for k, v in result.items()}},
                                        indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
