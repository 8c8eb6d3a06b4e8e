"""POP909 (Wang, Chen et al., ISMIR 2020; MIT) as band-arrangement training examples.

Reads the repo copy under ``datasets/pop909/`` (``NNN/NNN.mid``, ``beat_midi.txt``,
``chord_midi.txt``). Times: POP909's MIDI time signature is unreliable, so every time
goes through the beat annotations: seconds -> beats by linear interpolation between the
annotated beats (beat 0 = the first annotated beat; extrapolated with the first/last beat
interval outside them); then beats -> 16th steps (``STEPS_PER_BEAT`` = 4), rounded.

Roles: ``MELODY`` -> melody, ``BRIDGE`` -> counter, ``PIANO`` -> split into ``bass`` (the
lowest piano line: a note is bass when no lower piano note sounds at its onset and it is
at most ``BASS_MAX`` = MIDI 60) and ``keys`` (every other piano note). The split keeps
the piano's notes exactly once: bass + keys re-assemble the original piano part.

Split (deterministic, by song id): ids divisible by 10 are ``valid`` (~10%), the rest
``train``. Ids divisible by 23 are not in the copy (POP909's withheld test songs).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..chords import chord_class, parse_chord
from ..errors import DeepcomposeError
from .splits import REPO_ROOT

POP909_DIR = REPO_ROOT / "datasets" / "pop909"
STEPS_PER_BEAT = 4
BASS_MAX = 60
TRACKS = ("melody", "bass", "keys", "counter")


@dataclass
class PopSong:
    """One song on the beat grid. Note arrays are ``[n, 4]`` int32 rows
    ``(pitch, start_step, duration_steps, velocity)``, sorted by start."""

    song_id: int
    beats_per_bar: int          # 4 (841 songs) or 3 (29 songs annotated with 3-beat bars)
    first_bar_beat: int         # beat index of the first annotated downbeat
    steps: int                  # length in 16th steps
    beat_in_bar: np.ndarray     # [steps // 4] int: beats since the last annotated downbeat
    tracks: dict                # role -> [n, 4] int32 note array (see above)
    chord_steps: np.ndarray     # [steps] int16 chord class (0 = N), see deepcompose.chords
    bass_steps: np.ndarray      # [steps] int8 the chord's bass pitch class (-1 under N)
    chords: list                # [(start_beat, end_beat, harte_label)] as annotated

    def notes(self, role: str) -> list[tuple[int, float, float, int]]:
        """A track as ``(pitch, start_beat, end_beat, velocity)`` tuples (beats)."""
        s = STEPS_PER_BEAT
        return [(int(p), a / s, (a + d) / s, int(v)) for p, a, d, v in self.tracks[role]]

    def window(self, bars: int):
        """The first ``bars`` bars from the bar line at (or before) the first melody note,
        shifted to start at beat 0: ``(melody, accompaniment, chords, length_beats)``, the
        accompaniment being the bass, keys and counter notes that start inside and the chords
        ``(start, end, label)`` clipped to it. None for a song without melody."""
        melody = self.notes("melody")
        if not melody:
            return None
        m0 = melody[0][1]
        lines = np.nonzero(np.asarray(self.beat_in_bar) == 0)[0]
        before = lines[lines <= m0 + 1e-6]
        start = float(before[-1]) if len(before) else float(np.floor(m0))
        length = float(bars * self.beats_per_bar)
        end = start + length

        def cut(notes):
            return [(p, a - start, min(b, end) - start, v) for p, a, b, v in notes
                    if start <= a < end]

        acc = [n for role in ("bass", "keys", "counter") for n in cut(self.notes(role))]
        chords = [(max(a, start) - start, min(b, end) - start, lab) for a, b, lab in self.chords
                  if b > start and a < end]
        return cut(melody), acc, chords, length


def song_ids(split: str, root: Path = POP909_DIR) -> list[int]:
    """Song ids of ``split`` (``train``, ``valid`` or ``all``) present under ``root``."""
    if split not in ("train", "valid", "all"):
        raise DeepcomposeError(f"POP909 has splits train and valid (and all), not {split!r}")
    if not root.is_dir():
        raise DeepcomposeError(f"POP909 not found at {root}")
    ids = sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())
    if split == "all":
        return ids
    return [i for i in ids if (i % 10 == 0) == (split == "valid")]


def _beats_of(times: np.ndarray, beat_times: np.ndarray) -> np.ndarray:
    """Seconds -> beats on the annotated grid, linearly extrapolated outside it."""
    idx = np.arange(len(beat_times), dtype=np.float64)
    out = np.interp(times, beat_times, idx)
    first, last = beat_times[1] - beat_times[0], beat_times[-1] - beat_times[-2]
    out = np.where(times < beat_times[0], (times - beat_times[0]) / first, out)
    return np.where(times > beat_times[-1], idx[-1] + (times - beat_times[-1]) / last, out)


def _note_array(notes, beat_times) -> np.ndarray:
    if not notes:
        return np.zeros((0, 4), dtype=np.int32)
    raw = np.array([(n.pitch, n.start, n.end, n.velocity) for n in notes], dtype=np.float64)
    a = np.round(_beats_of(raw[:, 1], beat_times) * STEPS_PER_BEAT)
    b = np.round(_beats_of(raw[:, 2], beat_times) * STEPS_PER_BEAT)
    arr = np.stack([raw[:, 0], a, np.maximum(b - a, 1), raw[:, 3]], 1).astype(np.int32)
    arr = arr[arr[:, 1] >= 0]
    return arr[np.lexsort((arr[:, 0], arr[:, 1]))]


def split_piano(piano: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Piano notes ``[n, 4]`` -> (bass, keys): bass = notes that are the lowest sounding
    piano pitch at their onset step and at most ``BASS_MAX``."""
    lowest = np.full(steps + 1, 999, dtype=np.int32)
    for p, a, d, _ in piano:
        seg = lowest[a:min(a + d, steps)]
        np.minimum(seg, p, out=seg)
    is_bass = np.array([p <= BASS_MAX and p <= lowest[min(a, steps)] for p, a, _, _ in piano],
                       dtype=bool)
    # Two notes of the lowest pitch can start together only as a duplicate; keep one.
    return piano[is_bass], piano[~is_bass]


def load_song(song_id: int, root: Path = POP909_DIR) -> PopSong:
    """Read one song folder into a ``PopSong``."""
    import pretty_midi

    folder = root / f"{song_id:03d}"
    beats = np.loadtxt(folder / "beat_midi.txt", ndmin=2)
    beat_times = beats[:, 0]
    down = np.nonzero(beats[:, 2] == 1)[0]
    if len(beat_times) < 8 or len(down) < 2:
        raise DeepcomposeError(f"POP909 song {song_id}: too few beat annotations")
    spacing = np.bincount(np.diff(down)).argmax()
    bpb = 3 if spacing % 3 == 0 else 4  # downbeats every 6 beats mark pairs of 3-beat bars
    beat_in_bar = np.empty(len(beat_times) + 64, dtype=np.int32)  # room for the tail
    marks = np.zeros(len(beat_in_bar), dtype=bool)
    marks[down] = True
    count = (-down[0]) % bpb
    for i in range(len(beat_in_bar)):
        count = 0 if marks[i] else (count + 1) % bpb
        beat_in_bar[i] = count
    pm = pretty_midi.PrettyMIDI(str(folder / f"{song_id:03d}.mid"))
    by_name = {inst.name.strip().upper(): inst.notes for inst in pm.instruments}
    melody = _note_array(by_name.get("MELODY", []), beat_times)
    counter = _note_array(by_name.get("BRIDGE", []), beat_times)
    piano = _note_array(by_name.get("PIANO", []), beat_times)
    ends = [a[:, 1] + a[:, 2] for a in (melody, counter, piano) if len(a)]
    steps = int(max((e.max() for e in ends), default=0))
    steps = min(-(-steps // STEPS_PER_BEAT) * STEPS_PER_BEAT, len(beat_in_bar) * STEPS_PER_BEAT)
    bass, keys = split_piano(piano, steps)
    chords, chord_steps = [], np.zeros(steps, dtype=np.int16)
    bass_steps = np.full(steps, -1, dtype=np.int8)
    for line in (folder / "chord_midi.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        s, e = _beats_of(np.array([float(parts[0]), float(parts[1])]), beat_times)
        chords.append((round(float(s), 4), round(float(e), 4), parts[2]))
        a, b = max(0, round(s * STEPS_PER_BEAT)), min(steps, round(e * STEPS_PER_BEAT))
        chord_steps[a:b] = chord_class(parts[2])
        bass_steps[a:b] = -1 if parts[2] == "N" else parse_chord(parts[2])[2]
    tracks = {"melody": melody, "bass": bass, "keys": keys, "counter": counter}
    tracks = {k: v[v[:, 1] < steps] for k, v in tracks.items()}
    return PopSong(song_id, bpb, int(down[0]),
                   steps, beat_in_bar[:steps // STEPS_PER_BEAT], tracks, chord_steps, bass_steps,
                   chords)


@functools.lru_cache(maxsize=4)
def _load_all(split: str, root: str) -> tuple:
    return tuple(load_song(i, Path(root)) for i in song_ids(split, Path(root)))


def load_split(data: str, split: str, root: Path = POP909_DIR) -> list[PopSong]:
    """``deepcompose.train``'s hook: the songs of ``split`` (``train`` or ``valid``)."""
    if data != "pop909":
        raise DeepcomposeError(f"the pop band trains on --data pop909, not {data!r}")
    return list(_load_all(split, str(root)))


def song_meta(root: Path = POP909_DIR) -> dict[int, dict]:
    """``index.csv`` rows by song id (name, artist, beats per measure, ...)."""
    with open(root / "index.csv", newline="", encoding="utf-8") as f:
        return {int(r["song_id"]): r for r in csv.DictReader(f)}
