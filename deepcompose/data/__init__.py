"""Training and evaluation data as voice grids ``[4, steps]`` (see ``voices.py``).

Sources (``load_voices(source, split)`` in ``sources.py`` picks one by name):
- ``"jsb"``: the canonical JSB chorales split (Boulanger-Lewandowski 2012) in the
  Coconet four-voice 16th-note format, shipped in ``datasets/jsb/`` with its source
  README. 229 train / 76 valid / 77 test pieces (``jsb.py``).
- ``"music21"``: the Bach chorales in music21's corpus (``load_music21_chorales`` in
  ``music21_chorales.py``). They are the same chorales as JSB (other editions): never
  train on them and report JSB test numbers.
- a folder of MIDI files (``load_midi_folder`` in ``midi_folder.py``), tracks mapped to
  the roles S, A, T, B (``roles.py``).

Splits of the last two are deterministic: a file goes to train / valid / test
(80 / 10 / 10) by a hash of its name (its path relative to the folder), so adding
files never moves the others (``split_of`` in ``splits.py``).

Augmentation: ``augment`` transposes whole pieces by semitone shifts that keep
every voice inside ``PITCH_RANGE`` (``pitch_range.py``).

The band's data have their own modules: ``pop909.py`` (POP909 songs) and ``groove.py``
(Groove MIDI drums).
"""

from .jsb import JSB_PATH, load_jsb
from .midi_folder import load_midi_folder
from .music21_chorales import load_music21_chorales
from .pitch_range import PITCH_RANGE, augment, fold_into_range, transposition_range
from .roles import ROLE_PROGRAMS, ROLE_WORDS, ROLES, assign_roles, song_to_grid, tracks_to_grid
from .sources import load_voices
from .splits import REPO_ROOT, SPLITS, split_of

__all__ = [
    "JSB_PATH", "PITCH_RANGE", "REPO_ROOT", "ROLES", "ROLE_PROGRAMS", "ROLE_WORDS", "SPLITS",
    "assign_roles", "augment", "fold_into_range", "load_jsb", "load_midi_folder",
    "load_music21_chorales", "load_voices", "song_to_grid", "split_of", "tracks_to_grid",
    "transposition_range",
]
