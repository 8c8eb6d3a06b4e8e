"""Do modal folk tunes end home? The folk validation tunes whose last note, held at least
as long as their median note (``keys.held_final``; a shorter one is a pickup back into a
repeat), lies off the tonic triad of the key their melody reads as (``keys.estimate_key``:
E Dorian reads as D major), arranged by every style; the share whose bass, under the last
melody note, is on that note's pitch class (its final).

    python benchmarks/modal_endings.py [--seed 1] [--styles chorale,pop,strings]

Tunes: ``data.folk.load_folk("valid")`` (never trained on), at least 8 notes, the melody
alone in at 100 bpm in its own meter and pickup. Prints one line per tune and the counts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's deepcompose

from deepcompose import compose  # noqa: E402
from deepcompose.data.folk import load_folk  # noqa: E402
from deepcompose.keys import PC_NAMES, estimate_key, held_final, triad  # noqa: E402
from deepcompose.song import Note, Song, Track  # noqa: E402


def off_triad_tunes() -> list:
    """``(tune, song)`` for every valid tune whose held final is off its key's tonic triad."""
    out = []
    for t in load_folk("valid"):
        n = t.notes
        last = n[n[:, 1].argmax()]
        if len(n) < 8 or not held_final(last[2] - last[1], n[:, 2] - n[:, 1]):
            continue
        tonic, mode = estimate_key(n[:, 0].astype(int), n[:, 2] - n[:, 1])
        if int(n[n[:, 1].argmax(), 0]) % 12 in triad(tonic, mode == "minor"):
            continue
        notes = [Note(int(p), float(s), float(e), 90) for p, s, e in n]
        out.append((t, Song(tracks=[Track("Melody", 0, False, notes)], tempos=[(0.0, 100.0)],
                            time_signatures=[tuple(x) for x in t.time_signatures],
                            pickup=float(t.pickup))))
    return out


def bass_under_last(song: Song, out: Song) -> int | None:
    """The lowest pitch any other pitched track sounds at the melody's last onset."""
    last = max(song.tracks[0].notes, key=lambda n: n.start)
    under = [n.pitch for t in out.tracks[1:] if not t.is_drum for n in t.notes
             if n.start <= last.start + 1e-6 < n.end]
    return min(under) if under else None


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--styles", default="chorale,pop,strings")
    args = ap.parse_args(argv)
    styles = args.styles.split(",")
    t0 = time.time()
    tunes = off_triad_tunes()
    hits = dict.fromkeys(styles, 0)
    for tune, song in tunes:
        final = max(song.tracks[0].notes, key=lambda n: n.start).pitch % 12
        row = [f"{tune.name[:48]:48s} final {PC_NAMES[final]:3s}"]
        for style in styles:
            bass = bass_under_last(song, compose(song, model="gan", style=style, seed=args.seed))
            ok = bass is not None and bass % 12 == final
            hits[style] += ok
            row.append(f"{style} {PC_NAMES[bass % 12] if bass is not None else '-':3s}"
                       f"{'ok' if ok else '  '}")
        print("  ".join(row))
    print(f"\n{len(tunes)} folk validation tunes end on a held note off their key's tonic "
          f"triad; the bass on "
          f"the final (seed {args.seed}): "
          + ", ".join(f"{s} {hits[s]}/{len(tunes)}" for s in styles)
          + f" ({time.time() - t0:.0f} s)")
    return hits


if __name__ == "__main__":
    main()
