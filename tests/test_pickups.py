"""Pickups: every model harmonizes on the true beats, counted from the first full bar line.

The tunes are real chorale melodies with Bach's own harmonization beside them, so "as good
as a real harmonization" has a reference measured with the same true bar lines:

- a 3/4 chorale with a quarter-note pickup (JSB test pieces 7 and 29, as Bach wrote them);
- the same melodies written in 6/8 with an 8th-note pickup (the first 8th of the pickup
  cut), where a model that counted beats from the first note would be half a beat off.

Each goes through ``deepcompose.compose`` as a ``Song`` whose ``pickup`` is set, like a
user's file. Quarter-note beats and downbeats are counted from the true bar lines
(``metrics.on_beat_consonance`` with ``song.meter()``); the *shifted* grid is the one a
model ignoring the pickup would use (beats from the first note).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepcompose  # noqa: E402
from deepcompose import metrics  # noqa: E402
from deepcompose.data import load_jsb  # noqa: E402
from deepcompose.representations.voices import Meter, grid_to_notes  # noqa: E402
from deepcompose.song import Note, Song, Track  # noqa: E402

MODELS = ("gan", "arcnn", "transformer")
PIECES = (7, 29)  # JSB test chorales in 3/4 that open with a quarter-note pickup
METERS = {"3/4, quarter pickup": (0, (3, 4), 1.0), "6/8, 8th pickup": (2, (6, 8), 0.5)}
BEAT_SLACK = 0.03  # on-beat consonance: two tunes of 16 bars are a small sample
DOWNBEAT_SLACK = 0.07  # downbeats: 16 per tune, 48 pairs


def as_notes(row):
    return [(p, a / 4, b / 4) for p, a, b in grid_to_notes(row)]


def tune(index: int, cut: int, time_signature, pickup: float):
    """(melody song, Bach's notes per voice) of chorale ``index`` from grid step ``cut``."""
    grid = load_jsb("test")[index][:, cut:]
    voices = [as_notes(row) for row in grid]
    melody = Track("Soprano", 0, False, [Note(p, a, b, 90) for p, a, b in voices[0]])
    return Song(tracks=[melody], time_signatures=[(0.0, *time_signature)], pickup=pickup), voices


@pytest.fixture(scope="module")
def harmonized():
    """(meter name, model) -> list over the tunes of (true meter, melody, model parts,
    Bach's parts); plus (meter name, "bach")."""
    out = {}
    for name, (cut, ts, pickup) in METERS.items():
        tunes = [tune(i, cut, ts, pickup) for i in PIECES]
        out[name, "bach"] = [(s.meter(), v[0], v[1:]) for s, v in tunes]
        for model in MODELS:
            rows = []
            for song, voices in tunes:
                result = deepcompose.compose(song, model=model, seed=1)
                assert result.pickup == pickup and result.meter() == song.meter()
                parts = [[(n.pitch, n.start, n.end) for n in t.notes] for t in result.tracks[1:]]
                rows.append((song.meter(), voices[0], parts))
            out[name, model] = rows
    return out


def consonance(rows, bars: bool) -> float:
    return float(np.mean([metrics.on_beat_consonance(mel, parts, meter, bars=bars)
                          for meter, mel, parts in rows]))


def onset_share(rows, every: int, shifted: bool) -> float:
    """Share of the parts' note onsets on a grid of ``every`` steps from the true bar lines
    (or, ``shifted``, from the first note, as if there were no pickup)."""
    hits = [((round(n[1] * 4) - (0 if shifted else meter.offset)) % every == 0)
            for meter, _, parts in rows for part in parts for n in part]
    return float(np.mean(hits))


def test_the_tunes_have_the_pickups_they_claim():
    assert tune(7, *METERS["3/4, quarter pickup"])[0].meter() == Meter(12, 4)
    assert tune(7, *METERS["6/8, 8th pickup"])[0].meter() == Meter(12, 2)


@pytest.mark.parametrize("meter", sorted(METERS))
@pytest.mark.parametrize("model", MODELS)
def test_on_beat_consonance_on_the_true_beats_matches_bach(harmonized, model, meter):
    ours, bach = harmonized[meter, model], harmonized[meter, "bach"]
    assert consonance(ours, bars=False) >= consonance(bach, bars=False) - BEAT_SLACK
    assert consonance(ours, bars=True) >= consonance(bach, bars=True) - DOWNBEAT_SLACK


@pytest.mark.parametrize("model", MODELS)
def test_six_eight_parts_move_on_the_true_beats_not_the_shifted_ones(harmonized, model):
    rows = harmonized["6/8, 8th pickup", model]
    assert onset_share(rows, 4, shifted=False) > 1.2 * onset_share(rows, 4, shifted=True)
    assert onset_share(rows, 12, shifted=False) > 1.2 * onset_share(rows, 12, shifted=True)


def test_the_arcnn_net_sees_the_beat_phase_of_the_true_bar_lines(monkeypatch):
    """The AR-CNN's beat input counts from the bar line, not from the first note."""
    from deepcompose.models.common.weights import get_model

    comp = get_model("arcnn")
    seen = []
    real = comp.net.forward
    monkeypatch.setattr(comp.net, "forward",
                        lambda ids, mask, phase: seen.append(phase) or real(ids, mask, phase))
    song, _ = tune(7, *METERS["6/8, 8th pickup"])
    deepcompose.compose(song, model="arcnn", seed=0, iterations=2)
    phase = seen[0].reshape(-1, 4, seen[0].shape[-1])[0]  # [4, T] one-hot
    steps = np.arange(phase.shape[1])
    assert np.array_equal(phase.argmax(0).numpy(), (steps - 2) % 4)  # beat 1 at step 2
