"""Song / Track / Note: notes in beats plus the source's tempo map, meter and key.

Beats are quarter notes throughout (``start``/``end`` of a note, tempo and
time-signature positions). Seconds only appear through the tempo map
(``beats_to_seconds``). Models see piano rolls or voice grids made on demand
(``pianoroll``, ``melody_row``); generated rolls come back through
``from_pianoroll``.

Song is the data model only. Files are read and written by ``deepcompose.io`` (one
module per format); ``Song.read`` / ``Song.write`` are conveniences that dispatch there.
The JSON schema of docs/DESIGN.md is the data model's own dict form (``from_notes`` /
``to_notes``); ``io.json_notes`` reads and writes it as files.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field

import numpy as np

from . import keys, limits
from .decoding import snap
from .errors import DeepcomposeError
from .representations.bars import BarMap
from .representations.voices import STEPS_PER_BEAT, Meter, notes_to_row

# Track names that mark the melody; the default melody rule prefers them.
MELODY_WORDS = ("melody", "vocal", "voice", "lead", "soprano", "tune", "sing")
NOT_MELODY_WORDS = ("counter", "backing", "harmony")  # "Counter-melody" is not the melody


@dataclass
class Note:
    """One note: MIDI ``pitch`` 0-127, ``start``/``end`` in beats, ``velocity`` 1-127."""

    pitch: int
    start: float
    end: float
    velocity: int = 90

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Track:
    """A named instrument: General MIDI ``program`` 0-127, drums on MIDI channel 10."""

    name: str = ""
    program: int = 0
    is_drum: bool = False
    notes: list[Note] = field(default_factory=list)


@dataclass
class Song:
    """Tracks of notes in beats plus tempo map ``(beat, bpm)``, time signatures
    ``(beat, numerator, denominator)``, the source's key signature (``"G major"`` or
    None) and ``pickup`` (beats before the first full bar).

    ``title`` is the piece's title (from the file, or None); ``chords`` are chord symbols
    ``(start_beat, end_beat, label)`` (Harte labels, e.g. ``"A:min7"``) that a model played
    or a file carried.

    ``ticks_per_beat`` is the MIDI resolution of the source (kept so that a MIDI round
    trip is exact to the tick); writers use it.
    """

    tracks: list[Track] = field(default_factory=list)
    tempos: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 120.0)])
    time_signatures: list[tuple[float, int, int]] = field(default_factory=lambda: [(0.0, 4, 4)])
    key: str | None = None
    pickup: float = 0.0
    ticks_per_beat: int = 480
    title: str | None = None
    chords: list[tuple[float, float, str]] = field(default_factory=list)

    def __post_init__(self):
        self.tempos = _normalize_tempos(self.tempos)
        self.time_signatures = _normalize_time_signatures(self.time_signatures)

    # ------------------------------------------------------------------ files

    @classmethod
    def read(cls, path) -> Song:
        """Read ``.mid .midi .musicxml .xml .mxl .abc .json``; DeepcomposeError on bad input.

        Same as ``deepcompose.io.read`` (the format modules live in ``deepcompose.io``).
        """
        return _io().read(path)

    def write(self, path, **options) -> None:
        """Write by extension (``.mid .midi .musicxml .xml .mxl .json`` and audio), atomically.

        Same as ``deepcompose.io.write(song, path)``.
        """
        _io().write(self, path, **options)

    # ------------------------------------------------------------------ JSON / tuples

    @classmethod
    def from_notes(cls, obj) -> Song:
        """The JSON schema of docs/DESIGN.md (``"tracks"`` or ``"notes"``), validated.

        See ``deepcompose.io.json_notes.song_from_dict`` for the optional keys.
        """
        return _io("json_notes").song_from_dict(obj)

    def to_notes(self) -> dict:
        """The JSON schema (``tempo`` = first bpm, ``time_signature`` = first [num, den])."""
        return _io("json_notes").song_to_dict(self)

    @classmethod
    def from_tuples(cls, notes, tempo=120.0, time_signature=(4, 4)) -> Song:
        """Note tuples ``(pitch, start_beat, duration_beats[, velocity])`` -> a one-track Song."""
        return cls.from_notes({"tempo": tempo, "time_signature": list(time_signature),
                               "notes": list(notes)})

    # ------------------------------------------------------------------ other libraries

    @classmethod
    def from_pretty_midi(cls, pm) -> Song:
        """A ``pretty_midi.PrettyMIDI`` -> Song (times through its own tick map)."""
        return _io("midi").song_from_pretty_midi(pm)

    def to_pretty_midi(self):
        """This song as a ``pretty_midi.PrettyMIDI`` (through the MIDI writer)."""
        import io

        import pretty_midi

        return pretty_midi.PrettyMIDI(io.BytesIO(_io("midi").midi_bytes(self)))

    def to_audio(self, sample_rate=44100, soundfont=None):
        """Samples of this song through a GM SoundFont: float32 ``[samples, 2]``."""
        return _io("audio").to_audio(self, sample_rate=sample_rate, soundfont=soundfont)

    @classmethod
    def from_music21(cls, stream) -> Song:
        """A music21 Score / Part / Stream -> Song (one track per part)."""
        return _io("notation").song_from_music21(stream)

    def to_music21(self):
        """A music21 Score: one part per track, with meter, key and tempo marks."""
        return _io("notation_write").song_to_music21(self)

    # ------------------------------------------------------------------ time

    def beats_to_seconds(self, beats: float) -> float:
        """Seconds at ``beats`` through the tempo map."""
        secs, (prev_beat, prev_bpm) = 0.0, self.tempos[0]
        for beat, bpm in self.tempos[1:]:
            if beat >= beats:
                break
            secs += (beat - prev_beat) * 60.0 / prev_bpm
            prev_beat, prev_bpm = beat, bpm
        return secs + (beats - prev_beat) * 60.0 / prev_bpm

    def seconds_to_beats(self, s: float) -> float:
        """Beats at ``s`` seconds through the tempo map."""
        secs, (prev_beat, prev_bpm) = 0.0, self.tempos[0]
        for beat, bpm in self.tempos[1:]:
            seg = (beat - prev_beat) * 60.0 / prev_bpm
            if secs + seg >= s:
                break
            secs += seg
            prev_beat, prev_bpm = beat, bpm
        return prev_beat + (s - secs) * prev_bpm / 60.0

    @property
    def length_beats(self) -> float:
        """End of the last note, in beats (0 for an empty song)."""
        return max((n.end for t in self.tracks for n in t.notes), default=0.0)

    @property
    def length_seconds(self) -> float:
        return self.beats_to_seconds(self.length_beats)

    @property
    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    def bar_map(self) -> BarMap:
        """Where the bars lie, in beats, through every change of meter: from the time
        signatures and the pickup (bar 1 is the first full bar, a pickup is bar 0). The one
        bar count of the project: ``--bars``, the plot, ``--chords`` and the band use it."""
        return BarMap.of(self.time_signatures, self.pickup)

    def bars(self) -> int:
        """Number of bars up to the last note (``bar_map``); a partial pickup bar counts as
        one."""
        return self.bar_map().count(self.length_beats)

    def meter(self) -> Meter:
        """Bar lines on the 16th grid from the FIRST time signature and the pickup.

        ``steps_per_bar = 16 * num / den`` (16 for 4/4, 12 for 3/4 and 6/8);
        ``offset = round(pickup * 4) % steps_per_bar``. The models' beat and bar features
        come from it; bars through changes of meter are ``bar_map``.
        """
        _, num, den = self.time_signatures[0]
        steps_per_bar = max(1, round(STEPS_PER_BEAT * 4 * num / den))
        return Meter(steps_per_bar, round(self.pickup * STEPS_PER_BEAT) % steps_per_bar)

    # ------------------------------------------------------------------ analysis

    def estimated_key(self) -> tuple[int, str]:
        """The key estimated from the notes (``keys.song_key``, the one estimator).

        Always estimated from the notes; the source's key signature stays in ``self.key``.
        """
        return keys.song_key(self) or (0, "major")

    def melody_index(self, track: str | int | None = None) -> int:
        """The track carrying the melody (``--track NAME|INDEX``).

        ``track`` may be an index (int or digit string) or a track name (case-insensitive).
        Default rule, among non-drum tracks with notes: tracks whose name contains
        melody / vocal / voice / lead / soprano / tune / sing win first; then the one with
        the highest mean pitch weighted by duration; ties go to more notes, then the lower
        index. DeepcomposeError when there is no usable track.
        """
        if track is not None and not (isinstance(track, str) and not track.strip()):
            return self._chosen_track(track)
        usable = [i for i, t in enumerate(self.tracks) if not t.is_drum and t.notes]
        if not usable:
            if any(t.notes for t in self.tracks):
                raise DeepcomposeError("only drum notes: there is no melody track to work with")
            raise DeepcomposeError(
                "no notes to use as a melody (notes of zero length are ignored)"
            )
        named = [i for i in usable if _melody_name(self.tracks[i].name)]
        candidates = named or usable

        def rank(i):
            notes = self.tracks[i].notes
            durs = np.array([n.end - n.start for n in notes])
            mean = float(np.dot([n.pitch for n in notes], durs) / durs.sum())
            return (-mean, -len(notes), i)

        return min(candidates, key=rank)

    def _chosen_track(self, track) -> int:
        names = ", ".join(f"{i}:{t.name or '(unnamed)'}" for i, t in enumerate(self.tracks))
        if isinstance(track, str) and track.strip().lstrip("-").isdigit():
            track = int(track)
        if isinstance(track, bool) or not isinstance(track, (int, str)):
            raise DeepcomposeError(f"--track must be a name or an index, not {track!r}")
        if isinstance(track, int):
            if not 0 <= track < len(self.tracks):
                raise DeepcomposeError(f"no track {track}; the tracks are {names or 'none'}")
            index = track
        else:
            matches = [i for i, t in enumerate(self.tracks) if t.name.lower() == track.lower()]
            if not matches:
                raise DeepcomposeError(
                    f"no track named {track!r}; the tracks are {names or 'none'}")
            index = matches[0]
        chosen = self.tracks[index]
        if chosen.is_drum:
            raise DeepcomposeError(f"track {index} ({chosen.name!r}) is a drum track, not a melody")
        if not chosen.notes:
            raise DeepcomposeError(f"track {index} ({chosen.name!r}) has no notes")
        return index

    # ------------------------------------------------------------------ grids

    def pianoroll(self, steps_per_beat: int = 4, pitch_range=(0, 128), tracks=None) -> np.ndarray:
        """Bool roll ``[tracks, steps, pitches]``; pitches ``pitch_range[0] <= p < pitch_range[1]``.

        ``steps = ceil(length_beats * steps_per_beat)``; a note covers the steps from its
        rounded start to its rounded end, at least one step. ``tracks``: indices or names.
        """
        low, high = pitch_range
        chosen = self.tracks if tracks is None else [self.tracks[self._index(t)] for t in tracks]
        steps = math.ceil(self.length_beats * steps_per_beat - 1e-9)
        roll = np.zeros((len(chosen), steps, max(0, high - low)), dtype=bool)
        for k, t in enumerate(chosen):
            for start, end, pitch in _quantized(t.notes, steps_per_beat, steps):
                if low <= pitch < high:
                    roll[k, start:end, pitch - low] = True
        return roll

    @classmethod
    def from_pianoroll(cls, roll, steps_per_beat=4, pitch_low=0, names=None, programs=None,
                       tempo=120.0) -> Song:
        """Rolls ``[tracks, steps, pitches]`` (or ``[steps, pitches]``) -> notes.

        Each run of True steps at one pitch becomes one note of velocity 90.
        """
        roll = np.asarray(roll).astype(bool)
        if roll.ndim == 2:
            roll = roll[None]
        tracks = []
        for k in range(roll.shape[0]):
            notes = []
            padded = np.zeros((roll.shape[1] + 2, roll.shape[2]), dtype=np.int8)
            padded[1:-1] = roll[k]
            edges = np.diff(padded, axis=0)  # +1 at onsets, -1 one step after the end
            for p in range(roll.shape[2]):
                onsets = np.flatnonzero(edges[:, p] == 1)
                ends = np.flatnonzero(edges[:, p] == -1)
                notes += [Note(int(pitch_low + p), float(s / steps_per_beat),
                               float(e / steps_per_beat))
                          for s, e in zip(onsets, ends, strict=True)]
            notes.sort(key=lambda n: (n.start, n.pitch))
            name = names[k] if names is not None else f"Track {k + 1}"
            program = programs[k] if programs is not None else 0
            tracks.append(Track(name=name, program=int(program), notes=notes))
        return cls(tracks=tracks, tempos=[(0.0, float(tempo))])

    def melody_row(self, index: int, steps: int | None = None) -> np.ndarray:
        """Top line of track ``index`` on the 16th grid ``[steps]`` (pitch or REST=-1).

        Starts and ends round to the nearest step; a note shorter than half a step still
        covers one step. ``steps`` defaults to ``ceil(length_beats * 4)``.
        """
        if steps is None:
            steps = math.ceil(self.length_beats * STEPS_PER_BEAT - 1e-9)
        notes = _quantized(self.tracks[index].notes, STEPS_PER_BEAT, steps)
        return notes_to_row([(p, s, e) for s, e, p in notes], steps)

    def _index(self, track) -> int:
        if isinstance(track, str):
            for i, t in enumerate(self.tracks):
                if t.name == track:
                    return i
            raise DeepcomposeError(f"no track named {track!r}")
        return int(track)

    # ------------------------------------------------------------------ checks

    def check_limits(self, where: str = "input") -> None:
        """Refuse songs past ``limits`` (notes, tracks, length)."""
        limits.check_tracks(len(self.tracks), where)
        limits.check_notes(self.note_count, where)
        limits.check_beats(self.length_beats, where)


# ---------------------------------------------------------------------- helpers


def _quantized(notes, steps_per_beat: int, steps: int) -> list[tuple[int, int, int]]:
    """Notes -> ``(start_step, end_step, pitch)`` rounded to the grid, >= 1 step, clipped."""
    out = []
    for n in notes:
        s, e = snap(n.start, n.end, steps_per_beat)
        s, e = max(0, s), min(steps, e)
        if e > s:
            out.append((s, e, n.pitch))
    return out


def _io(module: str = ""):
    """``deepcompose.io`` (or one of its format modules), found at call time.

    The format modules build and consume Songs, so they import this module; Song reaches
    them by name when a convenience method is called, never by an import statement, and
    the import graph has no circle.
    """
    return importlib.import_module("deepcompose.io" + (f".{module}" if module else ""))


def _normalize_tempos(tempos) -> list[tuple[float, float]]:
    """Sorted by beat, one per beat (the last given wins), first at beat 0 (120 bpm if none)."""
    by_beat = {}
    for beat, bpm in tempos:
        by_beat[float(beat)] = float(bpm)
    out = sorted(by_beat.items())
    if not out or out[0][0] > 0:
        out.insert(0, (0.0, out[0][1] if out else 120.0))
    return [(b, t) for b, t in out if b >= 0]


def _normalize_time_signatures(sigs) -> list[tuple[float, int, int]]:
    """Sorted, one per beat, first at beat 0 (4/4 if none), repeats of the same meter dropped."""
    by_beat = {}
    for beat, num, den in sigs:
        by_beat[float(beat)] = (int(num), int(den))
    items = sorted(by_beat.items())
    if not items or items[0][0] > 0:
        items.insert(0, (0.0, items[0][1] if items else (4, 4)))
    out = []
    for beat, (num, den) in items:
        if beat >= 0 and (not out or out[-1][1:] != (num, den)):
            out.append((beat, num, den))
    return out


def _melody_name(name: str) -> bool:
    """A track name that says "melody" (``MELODY_WORDS``) and not a second line."""
    name = name.lower()
    return any(w in name for w in MELODY_WORDS) and not any(w in name for w in NOT_MELODY_WORDS)
