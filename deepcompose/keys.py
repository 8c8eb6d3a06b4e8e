"""Key finding (Krumhansl-Schmuckler with the Krumhansl-Kessler 1982 profiles) and scales.

Pitch class is ``pitch % 12`` throughout. A key is ``(tonic_pc, mode)`` with
mode ``"major"`` or ``"minor"``.
"""

from __future__ import annotations

import numpy as np

MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
PC_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor plus the raised 7th


def pitch_class_histogram(pitches, durations=None) -> np.ndarray:
    """Total duration (or count) per pitch class ``[12]``."""
    hist = np.zeros(12)
    pitches = np.asarray(pitches, dtype=int)
    weights = np.ones(len(pitches)) if durations is None else np.asarray(durations, dtype=float)
    np.add.at(hist, pitches % 12, weights)
    return hist


def estimate_key(pitches, durations=None) -> tuple[int, str]:
    """The key whose profile correlates best with the duration-weighted pitch-class histogram.

    Returns ``(0, "major")`` (C major) when there are no notes.
    """
    hist = pitch_class_histogram(pitches, durations)
    if hist.sum() == 0 or np.allclose(hist, hist[0]):
        return 0, "major"
    best, best_r = (0, "major"), -np.inf
    for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            r = np.corrcoef(hist, np.roll(profile, tonic))[0, 1]
            if r > best_r:
                best, best_r = (tonic, mode), r
    return best


def song_key(song) -> tuple[int, str] | None:
    """The key of a Song: ``estimate_key`` over its pitched (non-drum) notes weighted by
    duration in beats; None when it has none. The one estimate that ``inspect`` and the
    plot's title show (the source's key signature, ``song.key``, is reported beside it,
    never instead of it)."""
    notes = [n for t in song.tracks if not t.is_drum for n in t.notes]
    if not notes:
        return None
    return estimate_key([n.pitch for n in notes], [n.end - n.start for n in notes])


def song_key_name(song) -> str | None:
    """``song_key`` as a name (``"G major"``), or None."""
    key = song_key(song)
    return key_name(*key) if key else None


def home_tonics(tonic: int, mode: str) -> tuple[int, int]:
    """The pitch classes a tune in this key may end home on: its tonic and its relative's
    (a melody alone often reads as its relative key: a D major tune as B minor)."""
    return tonic % 12, (tonic + (3 if mode == "minor" else 9)) % 12


def held_final(last_length: float, lengths) -> bool:
    """Is a melody's last note its final, not a pickup back into a repeat? It is when it
    lasts at least as long as the melody's median note (``lengths``, any unit, the same as
    ``last_length``): the 16th E that ends *The Morning of Life* after a held D is not."""
    return len(lengths) > 0 and last_length >= float(np.median(lengths))


def ending_key(tonic: int, mode: str, last_pitch: int, hist=None,
               held: bool = False) -> tuple[int, str, bool]:
    """The key a melody in ``(tonic, mode)`` ends in, read from its last pitch: ``(tonic,
    mode, home)``. Ending on a home tonic (``home_tonics``), that pitch class is the tonic
    (the relative's in the other mode) and ``home`` is True. Given the melody's
    pitch-class histogram ``hist`` ``[12]`` and a ``held`` last note (``held_final``), a
    tune that ends off the key's tonic triad ends on its own final (``modal_final``: E
    Dorian reads as D major), home too. Else the key itself, False (a melody that stops
    on its 3rd or 5th is over I anyway; a short last note leads back to a repeat)."""
    pc = last_pitch % 12
    if pc == tonic % 12:
        return pc, mode, True
    if pc in home_tonics(tonic, mode):
        return pc, "major" if mode == "minor" else "minor", True
    final = modal_final(hist, tonic, mode, pc) if hist is not None and held else None
    if final is not None:
        return pc, final, True
    return tonic % 12, mode, False


def modal_final(hist, tonic: int, mode: str, final: int) -> str | None:
    """A folk tune ends on its final, which the key estimate may not read as a tonic (a
    Dorian, Mixolydian or Aeolian tune reads as the major key of its scale, or as the
    key of its 4th): when the last pitch class ``final`` lies off the estimated key's tonic
    triad, the tune is read as ending home on it, in the mode of the third the melody
    sings above it more (``hist`` ``[12]``, duration per pitch class): ``"minor"`` or
    ``"major"``. None when the final is in the tonic triad, or the melody never sings a
    perfect fifth above it (no triad to end on)."""
    hist = np.asarray(hist, dtype=float)
    if final in triad(tonic, mode == "minor") or hist[(final + 7) % 12] <= 0:
        return None
    return "minor" if hist[(final + 3) % 12] > hist[(final + 4) % 12] else "major"


def triad(root: int, minor: bool) -> frozenset[int]:
    """The pitch classes of the major (minor) triad on ``root``."""
    return frozenset((root + d) % 12 for d in (0, 3 if minor else 4, 7))


def dominant_seventh(tonic: int) -> frozenset[int]:
    """The pitch classes of V7 in the key of ``tonic``, major or minor (the raised leading
    tone in minor, as a cadence has it): V, VII, II, IV."""
    return frozenset((tonic + d) % 12 for d in (7, 11, 2, 5))


def scale_pitch_classes(tonic: int, mode: str) -> frozenset[int]:
    """Pitch classes of the major scale, or of natural minor plus the raised 7th."""
    steps = MAJOR_STEPS if mode == "major" else MINOR_STEPS
    return frozenset((tonic + s) % 12 for s in steps)


def key_name(tonic: int, mode: str) -> str:
    """``(7, "major")`` -> ``"G major"`` (music21 spelling of flats: ``B-``)."""
    return f"{PC_NAMES[tonic % 12]} {mode}"


def parse_key_name(name: str) -> tuple[int, str]:
    """``"G major"`` / ``"e minor"`` / ``"B- major"`` -> ``(tonic_pc, mode)``."""
    parts = name.strip().split()
    if len(parts) != 2 or parts[1].lower() not in ("major", "minor"):
        raise ValueError(f"not a key name: {name!r}")
    letter = parts[0]
    base = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[letter[0].upper()]
    for acc in letter[1:]:
        base += {"#": 1, "-": -1, "b": -1}[acc]
    return base % 12, parts[1].lower()
