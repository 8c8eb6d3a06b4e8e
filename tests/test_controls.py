"""One controls contract: every control of every model, refused the same way everywhere.

The cases are enumerated from ``deepcompose.controls`` itself, so a new control is tested
the moment it is declared: out-of-range and wrong-type values give exit 2 with one
``error:`` line naming the control (CLI) and a 400 with the same message (server);
nothing is written; a control the model does not use is an error.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import deepcompose
from deepcompose import controls
from deepcompose.errors import DeepcomposeError
from deepcompose.models import registry
from deepcompose.server import parse_request

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MELODY = ROOT / "benchmarks" / "data" / "folk" / "00-44-mary-s-dream.mid"
NOTES = [[67, 0, 1, 90], [69, 1, 1, 90], [71, 2, 2, 90]]


def bad_values(c: controls.Control) -> list:
    """Values outside the control's declared type or range (JSON-typed)."""
    if c.kind == "int":
        return [c.low - 1, c.high + 1, "four", 1.5, True]
    if c.kind == "float":
        low = c.low if c.open_low else c.low - 0.5
        return [low, c.high + 0.5, "hot", [1]]
    if c.kind == "bool":
        return ["maybe", 3]
    if c.kind == "choice":
        return ["no-such-choice", 7]
    if c.kind == "bars":
        return ["four", "3:x", 0, 300, [1]]
    return ["", 5, [[0, 1]]]


def cases():
    for model in registry.models():
        for c in registry.controls_of(model):
            for v in bad_values(c):
                yield model, c, v


def task_for(model, c):
    return c.tasks[0] if c.tasks else "accompany"


def extra_for(c):
    return {"style": "pop"} if c.styles == ("pop",) else {}


@pytest.mark.parametrize("model, c, value", list(cases()),
                         ids=lambda x: getattr(x, "name", str(x)))
def test_python_and_server_refuse_with_the_same_message(model, c, value):
    task = task_for(model, c)
    with pytest.raises(DeepcomposeError) as api:
        deepcompose.compose(NOTES, model=model, task=task, **extra_for(c), **{c.name: value})
    body = {"notes": NOTES, "model": model, "task": task, **extra_for(c), c.name: value}
    with pytest.raises(DeepcomposeError) as server:
        parse_request(json.dumps(body).encode())
    assert str(api.value) == str(server.value)
    assert c.name in str(api.value) and "\n" not in str(api.value)


def cli_cases():
    """One out-of-range and one wrong-type value per control, as typed on a command line."""
    for model in registry.models():
        for c in registry.controls_of(model):
            if c.kind == "bool":
                continue  # a flag pair: click itself refuses a value
            if c.kind in ("int", "float"):
                yield model, c, str(c.high * 2 + 1)
            yield model, c, "four:" if c.kind == "bars" else "not-a-value"


@pytest.mark.parametrize("model, c, text", list(cli_cases()),
                         ids=lambda x: getattr(x, "name", str(x)))
def test_cli_bad_value_is_exit_2_one_line_nothing_written(model, c, text, tmp_path):
    if c.kind == "chords":
        text = "H7 | Q"  # not chord symbols
    args = ["--melody", str(MELODY), "--model", model, "--task", task_for(model, c),
            *(["--style", "pop"] if c.styles == ("pop",) else []), c.flag, text,
            "-o", str(tmp_path / "out.mid")]
    r = subprocess.run([BIN / "compose", *args], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("model, name", [("gan", "top_k"), ("transformer", "iterations"),
                                         ("arcnn", "top_p"), ("gan", "max_add")])
def test_a_control_the_model_does_not_use_is_an_error(model, name):
    with pytest.raises(DeepcomposeError, match=f"model '{model}' has no control {name}"):
        deepcompose.compose(NOTES, model=model, **{name: 1})


def test_task_and_style_bound_controls_are_refused_elsewhere():
    with pytest.raises(DeepcomposeError, match="max_remove applies to task enhance"):
        deepcompose.compose(NOTES, model="arcnn", max_remove=10)
    with pytest.raises(DeepcomposeError, match="drums applies to --style pop"):
        deepcompose.compose(NOTES, model="gan", drums="none")
    with pytest.raises(DeepcomposeError, match="bars applies to task continue or infill"):
        deepcompose.compose(NOTES, model="transformer", bars=2)


def test_models_json_lists_every_declared_control():
    r = subprocess.run([BIN / "deepcompose", "models", "--json"], capture_output=True, text=True)
    rows = json.loads(r.stdout)
    for model in registry.models():  # each family row: the model's controls for its style
        listed = [[c["name"] for c in row["controls"]] for row in rows
                  if row["model"] == model and row["plan"]]
        declared = registry.controls_of(model)
        assert {name for names in listed for name in names} == {c.name for c in declared}
        for row in rows:
            if row["model"] == model and row["plan"]:
                assert [c["name"] for c in row["controls"]] == [
                    c.name for c in declared
                    if not c.styles or set(c.styles) & set(row["styles"])]
