"""Folk tunes from music21's corpus (public-domain collections) as melody lines in beats.

Sources: ``ryansMammoth`` (Ryan's Mammoth Collection, 1883) and ``oneills1850`` (O'Neill's
Music of Ireland, 1903), both shipped inside music21 as ABC. Not the Essen collection
(non-commercial) nor any other corpus folder. Parsing all of them takes minutes, so
``rebuild`` writes ``datasets/folk/notes.npz`` once (``python -m deepcompose.data.folk
--rebuild``) and ``load_folk`` reads it in well under a second.

A ``Tune``: ``notes`` float64 ``[n, 3]`` rows ``(pitch, start_beat, end_beat)`` (beats =
quarter notes from the first written bar, the pickup included), the top line of any chord,
ties merged, grace notes dropped, repeats as written (not expanded); ``time_signatures``
``[(beat, num, den)]``; ``pickup`` beats before the first full bar; ``length`` beats.

Split by tune (the SHA-1 of ``collection/title#index``, ``splits.split_of``: 80/10/10);
never by excerpt.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DeepcomposeError
from .splits import REPO_ROOT, split_of

FOLK_DIR = REPO_ROOT / "datasets" / "folk"
COLLECTIONS = ("ryansMammoth", "oneills1850")
CACHE_NAME = "notes.npz"
TICKS = 840  # cache resolution per beat: 16ths, 32nds, 3-, 5- and 7-tuplets exactly


@dataclass
class Tune:
    """One tune; see the module docstring for the units of every field."""

    name: str                # "collection/title#index", unique
    pickup: float
    length: float
    time_signatures: list    # [(beat, num, den)]
    notes: np.ndarray = field(repr=False)  # [n, 3] float64 (pitch, start, end) in beats


def _read_score(score, name: str) -> Tune | None:
    """A music21 score (one tune) -> ``Tune``; None when it has no notes or no meter."""
    from music21 import meter

    part = score.parts[0] if score.parts else score
    part = part.stripTies()
    flat = part.flatten()
    notes = []
    for n in flat.notes:
        if n.duration.isGrace or n.quarterLength <= 0:
            continue
        pitch = max(p.midi for p in n.pitches) if n.isChord else n.pitch.midi
        start = float(n.getOffsetInHierarchy(part))
        notes.append((pitch, start, start + float(n.quarterLength)))
    if len(notes) < 8:
        return None
    sigs = []
    for ts in flat.getElementsByClass(meter.TimeSignature):
        beat = float(ts.getOffsetInHierarchy(part))
        if not sigs or (sigs[-1][1], sigs[-1][2]) != (ts.numerator, ts.denominator):
            sigs = [s for s in sigs if s[0] < beat - 1e-6] + [(beat, ts.numerator, ts.denominator)]
    if not sigs or sigs[0][0] > 1e-6 or any(d > 8 for _, _, d in sigs):
        return None  # no meter at the start (a misread header) or a freak 1/16 bar
    measures = part.getElementsByClass("Measure")
    pickup = 0.0
    if len(measures) > 1:
        m0 = measures[0]
        bar = m0.barDuration.quarterLength
        if 0 < m0.duration.quarterLength < bar - 1e-6:
            pickup = float(m0.duration.quarterLength)
    arr = np.array(sorted(notes, key=lambda n: (n[1], -n[0])), dtype=np.float64)
    # one note per onset: the top line
    keep = np.concatenate([[True], np.diff(arr[:, 1]) > 1e-6])
    arr = arr[keep]
    arr[:-1, 2] = np.minimum(arr[:-1, 2], arr[1:, 1])
    length = float(max(part.highestTime, arr[:, 2].max()))
    return Tune(name, pickup, length, sigs, arr)


def _read_file(args) -> list[Tune]:
    collection, path = args
    from music21 import converter, stream

    try:
        parsed = converter.parse(path, forceSource=True)
    except Exception:  # noqa: BLE001 - an unreadable file is skipped, not fatal
        return []
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    out = []
    for k, s in enumerate(scores):
        title = (s.metadata.title if s.metadata and s.metadata.title else Path(path).stem)
        try:
            t = _read_score(s, f"{collection}/{title}#{Path(path).stem}.{k}")
        except Exception:  # noqa: BLE001
            t = None
        if t is not None:
            out.append(t)
    return out


def rebuild(out: Path | str = FOLK_DIR / CACHE_NAME, workers: int = 2, log=print) -> Path:
    """Parse both collections and write the cache: times as int32 ticks (``TICKS`` per
    beat), the tunes' other fields as JSON."""
    from multiprocessing import Pool

    from music21 import corpus

    jobs = [(c, str(p)) for c in COLLECTIONS for p in corpus.getComposer(c)]
    t0 = time.time()
    tunes: list[Tune] = []
    with Pool(workers) as pool:
        for i, got in enumerate(pool.imap(_read_file, jobs, chunksize=4)):
            tunes += got
            if i % 100 == 0:
                log(f"{i}/{len(jobs)} files, {len(tunes)} tunes, {time.time() - t0:.0f} s")
    names, seen = [], {}
    for t in tunes:  # unique names (a title may repeat inside a collection)
        seen[t.name] = seen.get(t.name, 0) + 1
        names.append(t.name if seen[t.name] == 1 else f"{t.name}~{seen[t.name]}")
    meta = [{"name": n, "pickup": t.pickup, "length": t.length,
             "time_signatures": t.time_signatures} for n, t in zip(names, tunes, strict=True)]
    allnotes = np.concatenate([t.notes for t in tunes])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial.npz")
    np.savez_compressed(
        tmp, meta=np.array(json.dumps(meta)), counts=np.array([len(t.notes) for t in tunes]),
        pitch=allnotes[:, 0].astype(np.uint8),
        start=np.round(allnotes[:, 1] * TICKS).astype(np.int32),
        end=np.round(allnotes[:, 2] * TICKS).astype(np.int32))
    tmp.replace(out)
    log(f"{len(tunes)} tunes, {len(allnotes)} notes, {time.time() - t0:.0f} s -> {out}")
    return out


@functools.lru_cache(maxsize=2)
def _load(cache: str) -> tuple[Tune, ...]:
    if not Path(cache).exists():
        raise DeepcomposeError(f"no prepared folk tunes at {cache}; build them with "
                               "`python -m deepcompose.data.folk --rebuild`")
    with np.load(cache) as z:
        meta = json.loads(str(z["meta"]))
        table = np.column_stack([z["pitch"], z["start"] / TICKS, z["end"] / TICKS])
        seg = np.concatenate([[0], np.cumsum(z["counts"])])
    return tuple(Tune(m["name"], m["pickup"], m["length"],
                      [tuple(x) for x in m["time_signatures"]], table[seg[i]:seg[i + 1]])
                 for i, m in enumerate(meta))


def load_folk(split: str | None = None, root: Path | str = FOLK_DIR) -> list[Tune]:
    """The tunes of ``split`` (``train``, ``valid``, ``test``, or None for all)."""
    tunes = _load(str(Path(root) / CACHE_NAME))
    return [t for t in tunes if split is None or split_of(t.name) == split]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Prepare or describe the folk tunes.")
    ap.add_argument("--rebuild", action="store_true", help="parse music21's ABC files again")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    if args.rebuild:
        rebuild(workers=args.workers, log=lambda s: print(s, flush=True))
    for split in ("train", "valid", "test"):
        tunes = load_folk(split)
        print(split, len(tunes), "tunes", sum(len(t.notes) for t in tunes), "notes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
