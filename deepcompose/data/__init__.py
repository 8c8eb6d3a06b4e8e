"""Training and evaluation data as voice grids ``[4, steps]`` (see ``voices.py``).

Sources:
- ``"jsb"``: the canonical JSB chorales split (Boulanger-Lewandowski 2012) in the
  Coconet four-voice 16th-note format, shipped in ``datasets/jsb/`` with its source
  README. 229 train / 76 valid / 77 test pieces.
- ``"music21"``: the Bach chorales in music21's corpus (``load_music21_chorales``).
  They are the same chorales as JSB (other editions): never train on them and report
  JSB test numbers.
- a folder of MIDI files (``load_midi_folder``), tracks mapped to the roles S, A, T, B.

Splits of the last two are deterministic: a file goes to train / valid / test
(80 / 10 / 10) by a hash of its name (its path relative to the folder), so adding
files never moves the others.

Augmentation: ``augment`` transposes whole pieces by semitone shifts that keep
every voice inside ``PITCH_RANGE``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from ..decoding import fold_octaves
from ..errors import DeepcomposeError
from ..representations.voices import REST

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
JSB_PATH = REPO_ROOT / "datasets" / "jsb" / "Jsb16thSeparated.json"
SPLITS = ("train", "valid", "test")
PITCH_RANGE = (30, 88)  # lowest and highest MIDI pitch the shipped models cover, inclusive


@functools.cache
def _jsb_json(path: str) -> dict:
    return json.loads(Path(path).read_text())


def load_jsb(split: str, path: Path | str = JSB_PATH) -> list[np.ndarray]:
    """The canonical JSB split as a list of int16 grids ``[4, steps]`` (S, A, T, B; -1 = rest)."""
    if split not in SPLITS:
        raise DeepcomposeError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if not Path(path).exists():
        raise DeepcomposeError(f"JSB data not found at {path}; run from a deepcompose checkout")
    pieces = _jsb_json(str(path))[split]
    return [np.asarray(p, dtype=np.int16).T.copy() for p in pieces]


def load_voices(source: str, split: str) -> list[np.ndarray]:
    """Grids ``[4, steps]`` from ``"jsb"``, ``"music21"`` or a folder of MIDI files."""
    if split not in SPLITS:
        raise DeepcomposeError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if source == "jsb":
        return load_jsb(split)
    if source == "music21":
        return load_music21_chorales(split)
    if Path(source).is_dir():
        return load_midi_folder(source, split=split)
    raise DeepcomposeError(
        f"unknown data source {source!r}; use 'jsb', 'music21' or a folder of MIDI files")


# ---------------------------------------------------------------------- other sources

ROLES = "SATB"
# Default role of a track, first by name (case-insensitive substring), then by General
# MIDI program (0-based); tracks matched by neither fill the roles still empty by
# duration-weighted mean pitch: the highest becomes S, the lowest B, then A and T.
ROLE_WORDS = (
    ("S", ("soprano", "melody", "vocal", "voice", "lead", "tune")),
    ("A", ("alto",)),
    ("T", ("tenor",)),
    ("B", ("bass", "continuo", "basso")),
)
ROLE_PROGRAMS = {
    "S": (40, 56, 64, 68, 72, 73, 74, 75, 79, 53, 54),  # violin, trumpet, soprano sax, oboe,
    # piccolo, flute, recorder, pan flute, ocarina, voice oohs, synth voice
    "A": (41, 65, 69, 71),  # viola, alto sax, english horn, clarinet
    "T": (60, 66, 67),  # french horn, tenor and baritone sax
    "B": tuple(range(32, 40)) + (42, 43, 57, 58, 70),  # basses, cello, contrabass,
    # trombone, tuba, bassoon
}
_PROGRAM_ROLE = {p: r for r, ps in ROLE_PROGRAMS.items() for p in ps}


def split_of(name: str) -> str:
    """Deterministic 80/10/10 split of a file by the SHA-1 of its (relative) name."""
    bucket = int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16) % 10
    return "train" if bucket < 8 else ("valid" if bucket == 8 else "test")


def assign_roles(song, roles: dict | None = None) -> dict[str, list[int]]:
    """Track indices per role ``{"S": [...], "A": [...], "T": [...], "B": [...]}``.

    ``roles`` overrides the defaults: keys are track names (case-insensitive) or General
    MIDI programs (int), values a role letter or None (leave the track out). Drum tracks
    and tracks without notes never get a role.
    """
    roles = {k.lower() if isinstance(k, str) else k: v for k, v in (roles or {}).items()}
    out: dict[str, list[int]] = {r: [] for r in ROLES}
    left = []
    for i, t in enumerate(song.tracks):
        if t.is_drum or not t.notes:
            continue
        name = t.name.lower()
        if name in roles or t.program in roles:
            role = roles[name] if name in roles else roles[t.program]
            if role is not None:
                if role not in ROLES:
                    raise DeepcomposeError(f"unknown role {role!r}; use one of S A T B")
                out[role].append(i)
            continue
        role = next((r for r, words in ROLE_WORDS if any(w in name for w in words)), None)
        role = role or _PROGRAM_ROLE.get(t.program)
        if role is not None:
            out[role].append(i)
        else:
            left.append(i)
    left.sort(key=lambda i: -_mean_pitch(song.tracks[i]))
    for role in ("S", "B", "A", "T"):
        if not out[role] and left:
            out[role].append(left.pop(0) if role != "B" else left.pop())
    return out


def _mean_pitch(track) -> float:
    durs = np.array([n.end - n.start for n in track.notes])
    return float(np.dot([n.pitch for n in track.notes], durs) / durs.sum())


def song_to_grid(song, roles: dict | None = None) -> np.ndarray | None:
    """A Song -> int16 grid ``[4, steps]`` on the 16th grid (S, A, T, B), or None without S.

    S, A and T keep the top line of their tracks, B the bottom line; pitches outside
    ``PITCH_RANGE`` move by octaves into it.
    """
    return tracks_to_grid(song, assign_roles(song, roles))


def tracks_to_grid(song, assigned: dict[str, list[int]]) -> np.ndarray | None:
    """``song`` with track indices per role (see ``assign_roles``) -> grid ``[4, steps]``."""
    from ..decoding import snap
    from ..representations.voices import STEPS_PER_BEAT, empty_grid, notes_to_row

    if not assigned.get("S"):
        return None
    steps = int(np.ceil(song.length_beats * STEPS_PER_BEAT - 1e-9))
    grid = empty_grid(4, steps)
    for v, role in enumerate(ROLES):
        notes = []
        for i in assigned.get(role, []):
            for n in song.tracks[i].notes:
                s, e = snap(n.start, n.end)
                notes.append((n.pitch if role != "B" else 127 - n.pitch, s, e))
        row = notes_to_row(notes, steps)
        if role == "B":
            row[row != REST] = 127 - row[row != REST]
        grid[v] = row
    return fold_into_range(grid)


def fold_into_range(grid: np.ndarray, low: int = PITCH_RANGE[0], high: int = PITCH_RANGE[1]):
    """Move every sounding cell outside ``[low, high]`` by octaves into it."""
    return fold_octaves(grid, low, high).astype(np.int16)


def load_midi_folder(folder, roles: dict | None = None, split: str | None = None,
                     errors: list | None = None) -> list[np.ndarray]:
    """Grids ``[4, steps]`` from every ``.mid``/``.midi`` file under ``folder`` (sorted).

    ``split`` keeps only the files of that split (``split_of`` their relative path).
    Files that cannot be read, or that have no track for S, are skipped; their
    ``(path, reason)`` go to ``errors`` when a list is given.
    """
    from ..song import Song

    folder = Path(folder)
    if not folder.is_dir():
        raise DeepcomposeError(f"not a folder: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    grids = []
    for path in files:
        rel = path.relative_to(folder).as_posix()
        if split is not None and split_of(rel) != split:
            continue
        try:
            grid = song_to_grid(Song.read(path), roles)
        except DeepcomposeError as e:
            if errors is not None:
                errors.append((rel, str(e)))
            continue
        if grid is None or grid.shape[1] == 0:
            if errors is not None:
                errors.append((rel, "no track for the melody (S)"))
            continue
        grids.append(grid)
    if not grids and not files:
        raise DeepcomposeError(f"no MIDI files (.mid, .midi) under {folder}")
    return grids


def load_music21_chorales(split: str | None = None, limit: int | None = None,
                          cache: bool = True) -> list[np.ndarray]:
    """The Bach chorales of music21's corpus with exactly four parts -> grids ``[4, steps]``.

    Parts map to S, A, T, B in score order (their order in every chorale); chorales with
    more or fewer parts (instrumental obbligatos) are left out. Parsing all ~400 takes
    about a minute, so the grids are cached in ``~/.cache/deepcompose`` (per music21
    version) unless ``cache=False``; ``limit`` parses only the first N files, uncached.
    ``split`` keeps the chorales of that split (``split_of`` the file name).
    """
    import music21
    from music21 import corpus

    from ..song import Song

    paths = sorted((p for p in corpus.getComposer("bach") if Path(p).name.startswith("bwv")),
                   key=lambda p: Path(p).name)
    if limit is not None:
        paths, cache = paths[:limit], False
    cache_file = (Path.home() / ".cache" / "deepcompose"
                  / f"music21-{music21.__version__}-chorales.npz")
    if cache and cache_file.exists():
        with np.load(cache_file) as z:
            names, pieces = list(z["names"]), [z[f"g{i}"] for i in range(len(z["names"]))]
    else:
        names, pieces = [], []
        for p in paths:
            score = corpus.parse(p)
            if len(score.parts) != 4:
                continue
            grid = tracks_to_grid(Song.from_music21(score), {r: [i] for i, r in enumerate(ROLES)})
            if grid is not None:
                names.append(Path(p).name)
                pieces.append(grid)
        if cache:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp.npz")
            np.savez_compressed(tmp, names=np.array(names),
                                **{f"g{i}": g for i, g in enumerate(pieces)})
            tmp.replace(cache_file)
    return [g for n, g in zip(names, pieces, strict=True)
            if split is None or split_of(str(n)) == split]


def transposition_range(grid: np.ndarray, low: int = PITCH_RANGE[0], high: int = PITCH_RANGE[1]):
    """Semitone shifts (within +-6) that keep every sounding cell in ``[low, high]``."""
    sounding = grid[grid != REST]
    if sounding.size == 0:
        return range(0, 1)
    lo = max(-6, low - int(sounding.min()))
    hi = min(6, high - int(sounding.max()))
    return range(lo, hi + 1)


def augment(pieces: list[np.ndarray], shifts=range(-6, 6)) -> list[np.ndarray]:
    """Every piece transposed by every shift in ``shifts`` that keeps it in ``PITCH_RANGE``."""
    out = []
    for grid in pieces:
        allowed = set(transposition_range(grid))
        for s in shifts:
            if s in allowed:
                g = grid.copy()
                g[g != REST] += s
                out.append(g)
    return out
