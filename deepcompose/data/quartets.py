"""The OpenScore String Quartets (Gotham, Redbond et al., DLfM 2023; CC0): the corpus.

``datasets/quartets/`` holds the MusicXML (``scores/<Composer>/<Work>/sq<id>.mxl``: one file
per score, mostly a whole work; two works come as several files) and ``notes.npz``, the
prepared notes ``load_quartets`` reads (~0.15 s). Rebuild it from the MusicXML (~16 minutes
on one core; ``quartet_score.read_score`` per file) with
``python -m deepcompose.data.quartets --rebuild``. The records (``Movement``, ``Excerpt``)
and how a score is read are in ``quartet_score``.

Split by work (a folder; 105 works in 110 files), never by movement: ``VALID_WORKS`` is
``valid`` (11 works: the first 10 by SHA-1 of the folder name, plus Mozart's K.464, whose
missing fourth movement may be a withheld test file); the rest ``train``. The 12 withheld
test files are not in the copy.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import DeepcomposeError
from .quartet_score import (  # noqa: F401  (the records, re-exported for the loaders' users)
    PARTS,
    PROGRAMS,
    TICKS,
    Excerpt,
    Movement,
    read_score,
)

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
QUARTETS_DIR = REPO_ROOT / "datasets" / "quartets"
CACHE_NAME = "notes.npz"
VALID_WORKS = (  # the first 10 works by SHA-1 of their folder name, plus Mozart's K.464
    "Arriaga,_Juan_Crisóstomo_de/String_Quartet_No.3_in_E-flat_Major",
    "Carreño,_Teresa/String_Quartet",
    "Debussy,_Claude/String_Quartet_in_G_minor,_Op.10",
    "Haydn,_Joseph/String_Quartet_in_C_major,_Hob.III65,_Op.64_No.1",
    "Haydn,_Joseph/String_Quartet_in_D_major,_Hob.III3,_Op.1_No.3",
    "Haydn,_Joseph/String_Quartet_in_E-flat_major,_Hob.III31,_Op.20_No.1",
    "Haydn,_Joseph/String_Quartet_in_E-flat_major,_Hob.III64,_Op.64_No.6",
    "Mayer,_Emilie/String_Quartet_in_D_Major",
    "Mendelssohn,_Felix/String_Quartet_No.1,_Op.12",
    "Mozart,_Wolfgang_Amadeus/String_Quartet_No.18_in_A_major,_K.464_(Op._10,_No._5)",
    "Saint-Georges,_Joseph_Bologne/String_Quartet_in_G_minor,_Op.1_No.5",
)


# ---------------------------------------------------------------------- cache


def score_files(root: Path | str = QUARTETS_DIR) -> list[tuple[str, int, Path]]:
    """``(work, score id, path)`` of every score under ``root/scores`` (sorted by id)."""
    root = Path(root)
    files = sorted((root / "scores").glob("*/*/sq*.mxl"), key=lambda p: int(p.stem[2:]))
    return [(f"{p.parent.parent.name}/{p.parent.name}", int(p.stem[2:]), p) for p in files]


def rebuild(root: Path | str = QUARTETS_DIR, out: Path | str | None = None, log=print) -> Path:
    """Parse every score under ``root`` and write the cache (``root/notes.npz``): times as
    int32 ticks (``TICKS`` per beat), the movements' other fields as JSON. A score that
    cannot be read is skipped and named in the log and in the cache's ``skipped`` list."""
    root = Path(root)
    out = Path(out) if out else root / CACHE_NAME
    movements, skipped = [], []
    t0 = time.time()
    for work, sid, path in score_files(root):
        t = time.time()
        try:
            mv = read_score(path, work, sid)
        except Exception as e:  # noqa: BLE001 - one unreadable score must not stop the rest
            skipped.append(f"{sid} {work}: {e}")
            log(f"skip {sid}: {e}")
            continue
        movements += mv
        log(f"{sid} {work}: {len(mv)} movements, {time.time() - t:.1f} s")
    meta, segs, bars = [], [], []
    for m in movements:
        meta.append({k: getattr(m, k) for k in ("work", "score_id", "number", "title", "length",
                                                "pickup", "time_signatures", "key_signatures")})
        segs += [m.parts[r] for r in PARTS]
        bars.append(m.bar_lines)
    counts = np.array([len(s) for s in segs], dtype=np.int64)
    allnotes = np.concatenate(segs) if segs else np.zeros((0, 4))
    ticks = np.round(allnotes[:, 1:3] * TICKS).astype(np.int64)
    tmp = out.with_name(out.name + ".partial.npz")
    np.savez_compressed(
        tmp, meta=np.array(json.dumps({"movements": meta, "skipped": skipped})),
        counts=counts, pitch=allnotes[:, 0].astype(np.uint8),
        start=ticks[:, 0].astype(np.int32), dur=(ticks[:, 1] - ticks[:, 0]).astype(np.int32),
        velocity=allnotes[:, 3].astype(np.uint8),
        bar_counts=np.array([len(b) for b in bars], dtype=np.int64),
        bars=np.round(np.concatenate(bars) * TICKS).astype(np.int64) if bars else np.zeros(0))
    tmp.replace(out)
    log(f"{len(movements)} movements, {len(allnotes)} notes, {len(skipped)} skipped, "
        f"{time.time() - t0:.0f} s -> {out}")
    return out


@functools.lru_cache(maxsize=2)
def _load(cache: str) -> tuple[Movement, ...]:
    if not Path(cache).exists():
        raise DeepcomposeError(f"no prepared quartet notes at {cache}; build them with "
                               "`python -m deepcompose.data.quartets --rebuild`")
    with np.load(cache) as z:
        meta = json.loads(str(z["meta"]))["movements"]
        counts, bar_counts = z["counts"], z["bar_counts"]
        start = z["start"].astype(np.int64)
        table = np.column_stack([z["pitch"], start / TICKS, (start + z["dur"]) / TICKS,
                                 z["velocity"]])
        bars = z["bars"] / TICKS
    seg = np.concatenate([[0], np.cumsum(counts)])
    bseg = np.concatenate([[0], np.cumsum(bar_counts)])
    out = []
    for i, m in enumerate(meta):
        parts = {r: table[seg[4 * i + k]:seg[4 * i + k + 1]] for k, r in enumerate(PARTS)}
        out.append(Movement(
            m["work"], m["score_id"], m["number"], m["title"], m["length"], m["pickup"],
            [tuple(x) for x in m["time_signatures"]], [tuple(x) for x in m["key_signatures"]],
            bars[bseg[i]:bseg[i + 1]], parts))
    return tuple(out)


def split_of(work: str) -> str:
    """``valid`` for the works of ``VALID_WORKS``, else ``train``."""
    return "valid" if work in VALID_WORKS else "train"


def load_quartets(split: str | None = None, root: Path | str = QUARTETS_DIR) -> list[Movement]:
    """The movements of ``split`` (``train``, ``valid``, or None for all) from the cache."""
    if split not in (None, "train", "valid"):
        raise DeepcomposeError(f"the quartets have splits train and valid, not {split!r} "
                               "(the test works are withheld from the copy)")
    movements = _load(str(Path(root) / CACHE_NAME))
    return [m for m in movements if split is None or split_of(m.work) == split]


def load_split(data: str, split: str, root: Path | str = QUARTETS_DIR) -> list[Movement]:
    """``deepcompose.train``'s hook: the movements of ``split`` (``train`` or ``valid``)."""
    if data != "quartets":
        raise DeepcomposeError(f"the string quartet style trains on --data quartets, not {data!r}")
    return load_quartets(split, root)


def summary(movements) -> dict:
    """Counts of works, files, movements, bars and notes of some movements."""
    return {"works": len({m.work for m in movements}), "files": len({m.score_id for m in
            movements}), "movements": len(movements), "bars": sum(len(m.bar_lines) for m in
            movements), "notes": sum(len(a) for m in movements for a in m.parts.values())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Prepare or describe the quartet notes.")
    ap.add_argument("--rebuild", action="store_true", help="parse every MusicXML file again")
    ap.add_argument("--root", type=Path, default=QUARTETS_DIR)
    ap.add_argument("--out", type=Path, help="where to write the cache (default root/notes.npz)")
    args = ap.parse_args(argv)
    if args.rebuild:
        rebuild(args.root, args.out, log=lambda s: print(s, flush=True))
    for split in ("train", "valid"):
        print(split, summary(load_quartets(split, args.root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
