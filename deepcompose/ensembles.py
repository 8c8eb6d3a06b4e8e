"""General MIDI programs for the generated voices (``--ensemble``).

Each ensemble gives programs for the generated alto, tenor and bass tracks
(0-based GM program numbers). The user's melody keeps its own program.
"""

from __future__ import annotations

from .errors import DeepcomposeError

ENSEMBLES: dict[str, tuple[int, int, int]] = {
    "piano": (0, 0, 0),  # Acoustic Grand Piano
    "strings": (41, 42, 43),  # Viola, Cello, Contrabass
    "choir": (52, 52, 52),  # Choir Aahs
    "organ": (19, 19, 19),  # Church Organ
    "brass": (60, 57, 58),  # French Horn, Trombone, Tuba
    "woodwinds": (71, 69, 70),  # Clarinet, English Horn, Bassoon
    "guitar": (24, 24, 32),  # Nylon Guitar x2, Acoustic Bass
}
DEFAULT_ENSEMBLE = "piano"


def ensemble_programs(name: str | None) -> tuple[int, int, int]:
    """Programs for (alto, tenor, bass); a clear error names the known ensembles."""
    name = (name or DEFAULT_ENSEMBLE).lower()
    if name not in ENSEMBLES:
        raise DeepcomposeError(
            f"unknown ensemble {name!r}; choose one of {', '.join(sorted(ENSEMBLES))}"
        )
    return ENSEMBLES[name]
