"""Objective metrics for accompaniment, written from their definitions.

Conventions (shared by ``accompaniment``, ``pianoroll`` and ``summary``):

- A note is a tuple ``(pitch, start_beat, end_beat)``; beats are quarter notes. A *part* is
  a list of notes; the *melody* is one part, the *accompaniment* is a list of parts.
- Pitch class is ``pitch % 12`` (C4=60 and C5=72 are the same class). Chroma is never
  made by reshaping the pitch axis.
- Harmony metrics work on the 16th-note grid (``STEPS_PER_BEAT = 4`` steps per beat): a
  note sounds at steps ``round(start*4) .. max(round(start*4)+1, round(end*4)) - 1``.
  Durations (``keyfit``, ``tiny_notes``) use the notes' own times in beats.
- The *melody line* is the highest melody pitch sounding at a step.
- A ratio whose denominator is empty is ``nan`` (e.g. consonance with no accompaniment);
  ``average`` skips nans.


Modules:

- ``accompaniment``: ``harmony`` (consonance, keyfit, parallels, ... of the parts against
  the melody; each defined in its docstring, with the JSB calibration) and
  ``on_beat_consonance``.
- ``pianoroll``: ``musegan``, MuseGAN's metrics (Dong et al., AAAI 2018) on a bool piano
  roll ``[tracks, steps, 128]``; see its docstring for each convention.
- ``summary``: ``all_metrics`` (both in one flat dict), ``song_metrics``,
  ``grid_metrics``, ``average`` over pieces, ``json_ready``.
- ``grid``: the 16th-grid and nan helpers they share.
- ``band`` and ``drums``: the band's and the drum kit's own metrics (import those modules).
- ``cadence``: does the harmony land (the bass home under the last melody note, the final
  sonority's clash, phrase ends on I or V, full-harmony / semitone / tritone shares of
  the sounding beats; import it).
- ``melody``: a melody continuation against the real one (notes per bar, off-beat share,
  duration and interval histograms, pitch-class similarity, motif reuse; import it).
- ``edit``: what an edit (infill, ``--parts``) kept and changed (import the module).
"""

from .accompaniment import CONSONANT, FOURTH, TINY_BEATS, harmony, on_beat_consonance
from .pianoroll import QUALIFIED_STEPS, chroma, fold_pitch_classes, musegan, tonal_centroid
from .summary import (
    all_metrics,
    average,
    grid_metrics,
    grid_notes,
    json_ready,
    notes_roll,
    song_metrics,
)

__all__ = [
    "CONSONANT", "FOURTH", "QUALIFIED_STEPS", "TINY_BEATS", "all_metrics", "average", "chroma",
    "fold_pitch_classes", "grid_metrics", "grid_notes", "harmony", "json_ready", "musegan",
    "notes_roll", "on_beat_consonance", "song_metrics", "tonal_centroid",
]
