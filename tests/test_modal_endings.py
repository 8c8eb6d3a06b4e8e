"""A folk tune that ends on its modal final (issue 26's "the last chord home", beyond the
major and minor keys): every arrangement style puts its bass on that final."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from deepcompose import compose  # noqa: E402
from deepcompose.data.folk import load_folk  # noqa: E402
from deepcompose.keys import estimate_key, home_tonics  # noqa: E402
from deepcompose.song import Note, Song, Track  # noqa: E402

TUNE = "oneills1850/Crabs in the Skillet"  # held out of training (the folk valid split)


@pytest.fixture(scope="module")
def crabs_in_the_skillet() -> Song:
    tune = next(t for t in load_folk("valid") if t.name.startswith(TUNE))
    notes = [Note(int(p), float(s), float(e), 90) for p, s, e in tune.notes]
    return Song(tracks=[Track("Melody", 0, False, notes)], tempos=[(0.0, 100.0)],
                time_signatures=[tuple(x) for x in tune.time_signatures],
                pickup=float(tune.pickup))


@pytest.mark.parametrize("style", ["chorale", "pop", "strings"])
def test_the_bass_lands_on_a_modal_final(crabs_in_the_skillet, style):
    """The jig reads as F major and ends on a held G (G Dorian): before 0.4.3 the chorale
    put C under that G, the band and the quartet D."""
    melody = crabs_in_the_skillet.tracks[0].notes
    last = max(melody, key=lambda n: n.start)
    tonic, mode = estimate_key([n.pitch for n in melody], [n.end - n.start for n in melody])
    assert (tonic, mode) == (5, "major") and last.pitch % 12 == 7
    assert last.end - last.start >= 1.0 and 7 not in home_tonics(tonic, mode)
    out = compose(crabs_in_the_skillet, model="gan", style=style, seed=1)
    under = [n for t in out.tracks[1:] if not t.is_drum for n in t.notes
             if n.start <= last.start + 1e-6 < n.end]
    assert under and min(under, key=lambda n: n.pitch).pitch % 12 == 7
