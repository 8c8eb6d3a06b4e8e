"""General MIDI programs for the generated parts (``--ensemble``), by role.

Roles: ``alto``, ``tenor``, ``bass`` (chorale voices) and ``bass``, ``keys``, ``counter``
(the pop band; drums are always on channel 10). Programs are 0-based GM numbers. The
user's melody keeps its own program. Without ``--ensemble`` each family plays its own
default (its row's ``ensemble`` in ``deepcompose.models.registry``).
"""

from __future__ import annotations

from .errors import DeepcomposeError

ENSEMBLES: dict[str, dict[str, int]] = {
    # Acoustic Grand Piano throughout
    "piano": {"alto": 0, "tenor": 0, "bass": 0, "keys": 0, "counter": 0},
    # Viola, Cello, Contrabass; band: String Ensemble 1 comping, Violin counter-melody
    "strings": {"alto": 41, "tenor": 42, "bass": 43, "keys": 48, "counter": 40},
    "choir": {"alto": 52, "tenor": 52, "bass": 52, "keys": 52, "counter": 53},
    "organ": {"alto": 19, "tenor": 19, "bass": 19, "keys": 16, "counter": 19},
    # French Horn, Trombone, Tuba; band: Brass Section comping, Trumpet counter
    "brass": {"alto": 60, "tenor": 57, "bass": 58, "keys": 61, "counter": 56},
    # Clarinet, English Horn, Bassoon; band: Flute counter
    "woodwinds": {"alto": 71, "tenor": 69, "bass": 70, "keys": 71, "counter": 73},
    # Nylon Guitar x2, Acoustic Bass; band: Steel Guitar comping
    "guitar": {"alto": 24, "tenor": 24, "bass": 32, "keys": 25, "counter": 24},
    # Electric Piano 1 comping, Fingered Bass, Clean Electric Guitar counter
    "band": {"alto": 4, "tenor": 4, "bass": 33, "keys": 4, "counter": 27},
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
