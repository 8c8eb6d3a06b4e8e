"""Every control of every model, declared once: type, range, default, help.

The CLI options and their help, the server's request validation, batch, the Python API
(``deepcompose.compose(**controls)``) and ``deepcompose models --json`` all come from
here, so a value is accepted or refused with the same one-line message everywhere:

    top_k must be an integer from 1 to 1000; got -2

A control that the chosen model, task or style does not use is an error, never ignored.
Controls common to all models are in ``COMMON``; each family declares its own in its row
of the family table (``deepcompose.models.registry``), which also assembles a model's
controls and resolves a request against them. This module imports no torch and no model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .ensembles import ENSEMBLES
from .errors import DeepcomposeError
from .limits import MAX_BEATS

TASKS = ("accompany", "continue", "enhance", "infill")
MAX_CHORDS_TEXT = 20_000  # characters of a --chords text


@dataclass(frozen=True)
class Control:
    """One control. ``kind``: int | float | bool | choice | bars | chords | parts.

    ``low``/``high`` bound numbers (``open_low``: the low end is excluded); ``choices``
    is a tuple or a function returning one; ``tasks``/``styles`` restrict where the
    control applies (empty: everywhere). ``default`` None means the model's own default
    (stated in ``help``).
    """

    name: str
    kind: str
    help: str
    default: object = None
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    choices: tuple | object = ()
    tasks: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def options(self) -> tuple[str, ...]:
        return tuple(self.choices()) if callable(self.choices) else tuple(self.choices)

    def range_text(self) -> str:
        """``an integer from 1 to 1000``, ``one of a, b``, ... (used in help and errors)."""
        if self.kind in ("int", "float"):
            what = "an integer" if self.kind == "int" else "a number"
            if self.low is not None and self.high is not None:
                if self.open_low:
                    return f"{what} above {_num(self.low)} and at most {_num(self.high)}"
                return f"{what} from {_num(self.low)} to {_num(self.high)}"
            return what
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(self.options())
        if self.kind == "bars":
            return "N new bars (continue, 1 to 256) or A:B (infill, 1-based bars, inclusive)"
        if self.kind == "parts":
            return "part names separated by commas (deepcompose models lists each style's)"
        return ("chord symbols by bar ('C | G/B | Am7 | F C') or "
                "[[start_beat, end_beat, label], ...]")

    def _bad(self, value) -> DeepcomposeError:
        return DeepcomposeError(f"{self.name} must be {self.range_text()}; got {show_value(value)}")

    def check(self, value):
        """A Python/JSON value -> the validated value (numbers of the right type only)."""
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if not (isinstance(value, float) and value.is_integer()):
                    raise self._bad(value)
                value = int(value)
            return self._in_range(value)
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self._bad(value)
            if not math.isfinite(float(value)):
                raise self._bad(value)
            return self._in_range(float(value))
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise self._bad(value)
            return value
        if self.kind == "choice":
            if not isinstance(value, str) or value.lower() not in self.options():
                raise self._bad(value)
            return value.lower()
        if self.kind == "bars":
            return self._bars(value)
        if self.kind == "parts":
            return self._parts(value)
        return self._chords(value)

    def parse(self, text: str):
        """A command-line string -> the validated value."""
        if self.kind == "int":
            try:
                return self.check(int(text.strip()))
            except ValueError:
                raise self._bad(text) from None
        if self.kind == "float":
            try:
                return self.check(float(text.strip()))
            except ValueError:
                raise self._bad(text) from None
        if self.kind == "bool":
            if isinstance(text, bool):
                return text
            low = text.strip().lower()
            if low in ("true", "yes", "on", "1"):
                return True
            if low in ("false", "no", "off", "0"):
                return False
            raise self._bad(text)
        return self.check(text)

    def _in_range(self, value):
        low_ok = self.low is None or (value > self.low if self.open_low else value >= self.low)
        if not low_ok or (self.high is not None and value > self.high):
            raise self._bad(value)
        return value

    def _bars(self, value):
        if isinstance(value, str) and ":" in value:
            parts = value.split(":")
            try:
                a, b = (int(p.strip()) for p in parts)
            except ValueError:
                raise self._bad(value) from None
            return self._bar_range(a, b, value)
        if isinstance(value, (list, tuple)) and len(value) == 2:
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise self._bad(value)
            return self._bar_range(value[0], value[1], value)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise self._bad(value) from None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 256:
            raise self._bad(value)
        return value

    def _bar_range(self, a: int, b: int, shown):
        if not 0 <= a <= b <= MAX_BEATS:
            raise self._bad(shown)
        return (a, b)

    def _chords(self, value):
        if isinstance(value, str):
            if not value.strip() or len(value) > MAX_CHORDS_TEXT:
                raise self._bad(value)
            return value
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(c, (list, tuple)) and len(c) == 3 for c in value):
            return [tuple(c) for c in value]
        raise self._bad(value)

    def _parts(self, value) -> tuple[str, ...]:
        """``"bass,keys"`` or ``["bass", "keys"]`` -> ``("bass", "keys")`` (lower case, each
        once); which names a style has is checked by the family table."""
        names = value.split(",") if isinstance(value, str) else value
        if not isinstance(names, (list, tuple)) or not names or len(names) > 16 or not all(
                isinstance(n, str) and n.strip() and len(n) <= 40 for n in names):
            raise self._bad(value)
        return tuple(dict.fromkeys(n.strip().lower() for n in names))

    def describe(self) -> dict:
        """JSON-ready description (``deepcompose models --json``, ``GET /models``)."""
        out = {"name": self.name, "flag": self.flag, "type": self.kind, "help": self.help,
               "default": self.default, "range": self.range_text()}
        if self.kind in ("int", "float"):
            out.update(min=self.low, max=self.high, min_exclusive=self.open_low)
        if self.kind == "choice":
            out["choices"] = list(self.options())
        if self.tasks:
            out["tasks"] = list(self.tasks)
        if self.styles:
            out["styles"] = list(self.styles)
        return out


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def show_value(x) -> str:
    """A short, safe rendering of a user's value for an error message."""
    text = repr(x) if not isinstance(x, int) or abs(x) < 10**30 else "a huge integer"
    return text if len(text) <= 40 else text[:37] + "..."


COMMON = (
    Control("seed", "int", "Random seed: the same seed gives the same music.", 0, 0, 2**63 - 1),
    Control("temperature", "float", "Creative risk: 0 is the safest choice, higher is riskier.",
            1.0, 0.0, 10.0),
    Control("candidates", "int", "Generate N and keep the best by the model's own score.",
            1, 1, 16),
    Control("ensemble", "choice", "General MIDI programs for the new parts.", None,
            choices=tuple(ENSEMBLES)),
    Control("bars", "bars", "continue: N new bars (default 4); infill: A:B, 1-based bars "
            "inclusive (a pickup is bar 0).", None, tasks=("continue", "infill")),
)
COMMON_NAMES = frozenset(c.name for c in COMMON)  # what every model takes (not its own)


def resolve_controls(model: str, task: str, given: dict, controls, known: dict,
                     models_with) -> dict:
    """Validate ``given`` controls for ``model`` and ``task``; fill in the defaults.

    ``controls`` are the model's (``deepcompose.models.registry.controls_of``), ``known``
    every control of any model by name, ``models_with(name)`` the models that take one.

    Returns every control of the model that applies (value or default; None = the model's
    own default). Raises DeepcomposeError naming the control for an unknown control, one
    the model/task/style does not use, or a value of the wrong type or range.
    """
    own = {c.name: c for c in controls}
    if task not in TASKS:
        raise DeepcomposeError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    for name in given:
        if name not in own:
            if name in known:
                others = ", ".join(models_with(name)) or "none"
                raise DeepcomposeError(f"model {model!r} has no control {name}; "
                                       f"models with it: {others}")
            raise DeepcomposeError(f"unknown control {name!r}; model {model!r} takes "
                                   f"{', '.join(own)}")
    values = {name: own[name].check(v) for name, v in given.items() if v is not None}
    style = values.get("style", own["style"].default if "style" in own else None)
    out = {}
    for c in own.values():
        if c.name in values:
            if c.tasks and task not in c.tasks:
                raise DeepcomposeError(f"{c.name} applies to task {' or '.join(c.tasks)} "
                                       f"only, not {task}")
            if c.styles and style not in c.styles:
                raise DeepcomposeError(f"{c.name} applies to --style {' or '.join(c.styles)} "
                                       f"only, not {style}")
            out[c.name] = values[c.name]
        elif (not c.tasks or task in c.tasks) and (not c.styles or style in c.styles):
            out[c.name] = c.default
    if task == "continue" and isinstance(out.get("bars"), tuple):
        raise DeepcomposeError(f"bars for continue is a number of new bars (1 to 256); "
                               f"got {given.get('bars')!r}")
    if task == "infill" and isinstance(out.get("bars"), int):
        raise DeepcomposeError(f"bars for infill is A:B (1-based bars, inclusive); "
                               f"got {given.get('bars')!r}")
    return out
