"""General MIDI programs for the generated parts (``--ensemble``), by role.

Roles: ``alto``, ``tenor``, ``bass`` (chorale voices), ``bass``, ``keys``, ``counter``
(the pop band; drums are always on channel 10) and ``violin2``, ``viola``, ``cello`` (the
string quartet, whose own ensemble is ``quartet``). Programs are 0-based GM numbers. The
user's melody keeps its own program. Without ``--ensemble`` each family plays its own
default (its row's ``ensemble`` in ``deepcompose.models.registry``).
"""

from __future__ import annotations

from .errors import DeepcomposeError

ENSEMBLES: dict[str, dict[str, int]] = {
    # Acoustic Grand Piano throughout
    "piano": {"alto": 0, "tenor": 0, "bass": 0, "keys": 0, "counter": 0, "violin2": 0,
              "viola": 0, "cello": 0},
    # Viola, Cello, Contrabass; band: String Ensemble 1 comping, Violin counter-melody
    "strings": {"alto": 41, "tenor": 42, "bass": 43, "keys": 48, "counter": 40, "violin2": 40,
                "viola": 41, "cello": 42},
    "choir": {"alto": 52, "tenor": 52, "bass": 52, "keys": 52, "counter": 53, "violin2": 52,
              "viola": 52, "cello": 52},
    "organ": {"alto": 19, "tenor": 19, "bass": 19, "keys": 16, "counter": 19, "violin2": 19,
              "viola": 19, "cello": 19},
    # French Horn, Trombone, Tuba; band: Brass Section comping, Trumpet counter
    "brass": {"alto": 60, "tenor": 57, "bass": 58, "keys": 61, "counter": 56, "violin2": 56,
              "viola": 60, "cello": 58},
    # Clarinet, English Horn, Bassoon; band: Flute counter
    "woodwinds": {"alto": 71, "tenor": 69, "bass": 70, "keys": 71, "counter": 73,
                  "violin2": 73, "viola": 71, "cello": 70},
    # Nylon Guitar x2, Acoustic Bass; band: Steel Guitar comping
    "guitar": {"alto": 24, "tenor": 24, "bass": 32, "keys": 25, "counter": 24, "violin2": 24,
               "viola": 24, "cello": 32},
    # Electric Piano 1 comping, Fingered Bass, Clean Electric Guitar counter
    "band": {"alto": 4, "tenor": 4, "bass": 33, "keys": 4, "counter": 27, "violin2": 27,
             "viola": 4, "cello": 33},
    # the string quartet's own: Violin (violin II), Viola, Cello
    "quartet": {"alto": 41, "tenor": 41, "bass": 42, "keys": 40, "counter": 40, "violin2": 40,
                "viola": 41, "cello": 42},
}


def ensemble_programs(name: str | None, default: str = "piano") -> dict[str, int]:
    """Role -> GM program for ``--ensemble name`` (None: the family's ``default``); a clear
    error names the known ensembles."""
    name = (name or default).lower()
    if name not in ENSEMBLES:
        raise DeepcomposeError(
            f"unknown ensemble {name!r}; choose one of {', '.join(ENSEMBLES)}"
        )
    return ENSEMBLES[name]
