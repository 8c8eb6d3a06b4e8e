"""deepcompose evaluate: model and data blocks, Bach's own numbers in range."""

import json

from deepcompose.evaluate import evaluate, format_report


def test_blocks_and_bach_consonance(chord_model):
    report = evaluate(chord_model, data="jsb", split="test", limit=12, progress=False)
    json.dumps(report)  # JSON-ready: no nan, no numpy scalars
    for block in ("model", "data"):
        assert {"consonance", "keyfit", "parallels", "polyphony"} <= set(report[block])
    assert 0.85 <= report["data"]["consonance"] <= 0.97
    assert report["data"]["parallels"] < 3
    assert report["pieces"] == 12
    assert "consonance" in format_report(report)


def test_model_block_measures_the_model_not_the_data(chord_model):
    report = evaluate(chord_model, data="jsb", split="valid", limit=5, progress=False)
    # the test chord model holds two chords: its voices barely move, Bach's do
    assert report["model"]["voice_range"] < report["data"]["voice_range"]
