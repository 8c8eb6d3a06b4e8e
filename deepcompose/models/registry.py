"""The family table: every trained network and the style it plays, registered once.

A *family* is one trained network with its own weights (``weights/NAME.safetensors``,
``NAME.json``, card ``NAME.md``) and a package ``deepcompose.models.NAME``. Users never
name a family: they pick ``--model`` and ``--style``, and the table says which family
plays that pair (``player``). Everything that needs to know about models reads this
table: ``compose`` (plan, tasks, controls), the CLI, the server and the studio's
``/models``, batch (which weights to preload), ``train`` (which trainer and data) and
``deepcompose models``. Nothing outside ``deepcompose.models`` decides by a model or
style name.

A row names its code by dotted strings, so reading the table imports no torch:

- ``player``: ``"module:Class"`` whose ``from_weights(tensors, meta)`` builds the network
  from its weights (``deepcompose.models.common.weights.load_family``);
- ``plan``: how ``compose`` feeds it, a module of ``deepcompose.plans`` (``voices``: the
  voice grid ``[4, steps]``; ``band``: notes in beats per track); ``""`` for a *part*
  that another family's plan plays (``parts``: role -> family, like the band's drums);
- ``trainer``: the module with ``DEFAULT_CONFIG``, ``TINY_CONFIG``,
  ``make_trainer(config, train, valid)`` and, unless it trains on voice grids,
  ``load_split(data, split)`` and ``augment_train(pieces)``.

Adding a style is one package (its network, sampler, trainer), its weights and one
``register(Family(...))`` row; see docs/DESIGN.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from ..controls import COMMON, Control
from ..errors import DeepcomposeError

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
TASKS = ("accompany", "continue", "enhance", "infill")


@dataclass(frozen=True)
class Family:
    """One row of the table. ``name`` is the family, its package and its weights' stem."""

    name: str
    model: str  # the --model that plays it
    styles: tuple[str, ...]  # the --style values it plays (the first row of a model leads)
    summary: str  # one line: what it writes, learned from what
    player: str  # "module:Class" with from_weights(tensors, meta)
    plan: str  # deepcompose.plans module, or "" for a part another family plays
    trainer: str  # module with DEFAULT_CONFIG, TINY_CONFIG, make_trainer
    data: tuple[str, ...]  # training data names (the first is the default); jsb takes folders
    tasks: tuple[str, ...] = ("accompany",)
    controls: tuple[Control, ...] = ()  # its own controls, beyond COMMON and style
    parts: tuple[tuple[str, str], ...] = ()  # (role, family) its plan plays too
    # (role, track name) of the parts --parts and infill redo; a result's tracks are
    # recognised by these names (docs/DESIGN.md, "Editing a result")
    edit_parts: tuple[tuple[str, str], ...] = ()
    lowest: str = ""  # the part an edit keeps lowest (the quartet's cello), or ""
    ensemble: str = "piano"  # default --ensemble
    weights_dir: Path = WEIGHTS_DIR
    melody: str = ""  # "model:style" that writes the melody's new bars first (task continue)

    @property
    def stem(self) -> Path:
        """``weights_dir/NAME``: add ``.safetensors``, ``.json`` or ``.md``."""
        return Path(self.weights_dir) / self.name

    def meta_field(self, key: str, default=None):
        """A field of the weights' JSON (``styles`` of the drums), or ``default``."""
        try:
            return json.loads(self.stem.with_suffix(".json").read_text()).get(key, default)
        except (OSError, ValueError, AttributeError):
            return default


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Add (or replace) a row; returns it. Tests and plug-ins register their own."""
    FAMILIES[family.name] = family
    return family


def unregister(name: str) -> None:
    FAMILIES.pop(name, None)


# ---------------------------------------------------------------- the shipped rows

VOICE_LEADING = Control(
    "voice_leading", "bool", "Forbid new parallel fifths and octaves while sampling.", True)


DECODING_RULES = Control(
    "rules", "bool", "The style's decoding rules; off: every note as sampled (the ablation). "
    "pop: bass and keys on chord tones, notes end at chord changes, keys in one register per "
    "phrase, the counter-melody answers in the melody's rests below it, phrase dynamics "
    "(gan_pop card); strings: the cello holds the bass, cadences (gan_strings card); "
    "chorale: I or V in the bass at the end of every 8-bar phrase (gan card).", True)


CHORDS = Control(
    "chords", "chords", "Chords to play: 'C | G/B | Am7 | F C' (bars split by |) or a JSON file "
    "[[start_beat, end_beat, label], ...]; a progression shorter than the song repeats to its "
    "end; default: the model infers them (the melody transformer: none).", None)
PARTS = Control(
    "parts", "parts", "Redo only these parts of a previous result, on its recorded chords "
    "(with --task infill --bars A:B: only those bars); every other part and the melody stay "
    "exactly as they were. Names: see deepcompose models.", None,
    tasks=("accompany", "infill"))
ARRANGER_TASKS = ("accompany", "continue", "infill")  # the band's and the quartet's


def drum_feels() -> tuple[str, ...]:
    """``--drums`` values: ``none`` plus the feels in the drum family's weights JSON."""
    drums = FAMILIES.get("gan_drums")
    styles = drums.meta_field("styles", []) if drums else []
    return ("none", *[s for s in styles if isinstance(s, str)])


register(Family(
    "gan", "gan", ("chorale",), "alto, tenor, bass under the melody, learned from JSB",
    "deepcompose.models.gan.composer:GanComposer", "voices", "deepcompose.models.gan.train",
    ("jsb",), controls=(VOICE_LEADING, DECODING_RULES)))
register(Family(
    "gan_pop", "gan", ("pop",),
    "a band (bass, keys, counter-melody, drums) learned from POP909 and Groove",
    "deepcompose.models.gan_pop.band:PopBand", "band", "deepcompose.models.gan_pop.train",
    ("pop909",), ensemble="band", parts=(("drums", "gan_drums"),), tasks=ARRANGER_TASKS,
    melody="transformer:pop",
    edit_parts=(("bass", "Bass"), ("keys", "Keys"), ("counter", "Counter"), ("drums", "Drums")),
    controls=(
        Control("drums", "choice", "Drum feel, learned from Groove (default: the model's "
                "pop feel), or none.", None, choices=drum_feels),
        CHORDS, DECODING_RULES, PARTS,
    )))
register(Family(
    "gan_drums", "gan", ("pop",), "drums in Groove's feels, the band's drummer",
    "deepcompose.models.gan_drums.kit:DrumKit", "", "deepcompose.models.gan_drums.train",
    ("groove",)))
register(Family(
    "gan_strings", "gan", ("strings",),
    "a string quartet (violin II, viola, cello under violin I) learned from the OpenScore "
    "String Quartets",
    "deepcompose.models.gan_strings.quartet:StringQuartet", "band",
    "deepcompose.models.gan_strings.train", ("quartets",), ensemble="quartet",
    tasks=ARRANGER_TASKS, melody="transformer:classical",
    edit_parts=(("violin2", "Violin II"), ("viola", "Viola"), ("cello", "Cello")),
    lowest="cello", controls=(DECODING_RULES, PARTS)))
register(Family(
    "arcnn", "arcnn", ("chorale",), "Coconet-style AR-CNN: harmonize, continue, infill, "
    "edit the melody; learned from JSB",
    "deepcompose.models.arcnn.composer:ArcnnComposer", "voices",
    "deepcompose.models.arcnn.train", ("jsb",),
    tasks=("accompany", "continue", "infill", "enhance"), controls=(
        Control("iterations", "int", "Gibbs sampling iterations (default 48; enhance: the "
                "number of edit proposals, 0 keeps the melody).", None, 0, 1000),
        Control("max_remove", "float", "enhance: most percent of the melody's notes removed.",
                20.0, 0.0, 100.0, tasks=("enhance",)),
        Control("max_add", "int", "enhance: most notes added.", 16, 0, 10_000,
                tasks=("enhance",)),
        VOICE_LEADING,
    )))
TOP_K = Control("top_k", "int", "Sample among the k likeliest tokens (default: all).", None,
                1, 1000)
TOP_P = Control("top_p", "float", "Nucleus sampling: the smallest set of tokens with this "
                "much probability (default 0.9).", None, 0.0, 1.0, open_low=True)
register(Family(
    "transformer", "transformer", ("chorale",), "music transformer: harmonize or continue "
    "all four voices; learned from JSB",
    "deepcompose.models.transformer.composer:TransformerComposer", "voices",
    "deepcompose.models.transformer.train", ("jsb",), tasks=("accompany", "continue"),
    controls=(TOP_K, TOP_P, VOICE_LEADING)))
register(Family(
    "melody", "transformer", ("pop", "folk", "classical"),
    "melody transformer: continue or infill one melodic line in its style, over chords if "
    "given; learned from POP909 melodies, music21's public-domain folk tunes and violin I of "
    "the OpenScore String Quartets",
    "deepcompose.models.melody.player:MelodyPlayer", "melody",
    "deepcompose.models.melody.train", ("melodies", "pop909", "folk", "quartets"),
    tasks=("continue", "infill"), controls=(TOP_K, TOP_P, CHORDS)))


# ---------------------------------------------------------------- look-ups


def models() -> list[str]:
    """The ``--model`` names, in table order."""
    return list(dict.fromkeys(f.model for f in FAMILIES.values()))


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise DeepcomposeError(f"unknown model family {name!r}; families: "
                               f"{', '.join(FAMILIES)}")
    return FAMILIES[name]


def players(model: str) -> list[Family]:
    """The families ``compose --model MODEL`` can play (not parts), first the default."""
    out = [f for f in FAMILIES.values() if f.model == model and f.plan]
    if not out:
        raise DeepcomposeError(f"unknown model {model!r}; available: {', '.join(models())}")
    return out


def styles_of(model: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for f in players(model) for s in f.styles))


def player(model: str, style: str | None = None) -> Family:
    """The family that plays ``--model MODEL --style STYLE`` (None: the model's default)."""
    fams = players(model)
    if style is None:
        return fams[0]
    for f in fams:
        if style in f.styles:
            return f
    raise DeepcomposeError(f"model {model!r} has no style {style!r}; choose one of "
                           f"{', '.join(styles_of(model))}")


def parts_of(fam: Family) -> dict[str, Family]:
    """role -> the family that plays that part in ``fam``'s plan."""
    return {role: family(name) for role, name in fam.parts}


def needed(model: str, style: str | None = None) -> list[Family]:
    """The families a ``--model MODEL --style STYLE`` job loads: its player and its parts."""
    fam = player(model, style)
    return [fam, *parts_of(fam).values()]


def families_named(spec: str) -> list[Family]:
    """``--preload`` words: a family (``gan_pop``), a model (``gan``: its default style) or
    ``MODEL:STYLE`` (``gan:pop``), each with the parts it plays."""
    if spec in FAMILIES and FAMILIES[spec].plan:
        return [FAMILIES[spec], *parts_of(FAMILIES[spec]).values()]
    if spec in FAMILIES:
        return [FAMILIES[spec]]
    model, _, style = spec.partition(":")
    return needed(model, style or None)


def tasks_of(model: str) -> tuple[str, ...]:
    return tuple(t for t in TASKS if any(t in f.tasks for f in players(model)))


def check_task(model: str, task: str, style: str | None = None) -> None:
    """Raise a clear error when ``model`` (in ``style``) cannot do ``task``."""
    if task not in TASKS:
        raise DeepcomposeError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    fam = player(model, style)
    if task in fam.tasks:
        return
    if task in tasks_of(model) and len(styles_of(model)) > 1:
        raise DeepcomposeError(f"--style {style or fam.styles[0]} does task "
                               f"{' or '.join(fam.tasks)} only, not {task}")
    others = [m for m in models() if m != model and task in tasks_of(m)]
    hint = f"; models with it: {', '.join(others)}" if others else ""
    raise DeepcomposeError(f"model {model!r} cannot do task {task!r}{hint}")


# ---------------------------------------------------------------- controls


def style_control(model: str) -> Control | None:
    """``--style`` for a model with more than one style, its help written from the rows."""
    fams = players(model)
    styles = styles_of(model)
    if len(styles) < 2:
        return None
    text = "; ".join(f"{s}: {f.summary}" for f in fams for s in f.styles)
    return Control("style", "choice", text + ".", styles[0], choices=styles)


def controls_of(model: str) -> tuple[Control, ...]:
    """COMMON, ``--style`` where the model has styles, then each family's own controls
    (restricted to the styles of the families that declare them)."""
    style = style_control(model)
    own: dict[str, Control] = {}
    for f in players(model):
        for c in f.controls:
            scoped = replace(c, styles=c.styles or f.styles) if style else c
            if c.name in own:  # declared by several families: the union of their styles
                prev = own[c.name]
                scoped = replace(prev, styles=tuple(dict.fromkeys(prev.styles + scoped.styles))
                                 ) if prev.styles and scoped.styles else replace(prev, styles=())
            own[c.name] = scoped
    return COMMON + ((style,) if style else ()) + tuple(own.values())


def all_controls() -> dict[str, Control]:
    """Every control by name, each once (the CLI makes one option per entry); a choice that
    several models offer (``--style``) takes the union of their choices, and each model
    checks its own (``resolve``)."""
    out: dict[str, Control] = {}
    for m in models():
        for c in controls_of(m):
            prev = out.get(c.name)
            if prev is None:
                out[c.name] = c
            elif c.kind == "choice" and c.options() != prev.options():
                merged = tuple(dict.fromkeys(prev.options() + c.options()))
                out[c.name] = replace(prev, choices=merged, help=f"{prev.help} {m}: {c.help}")
    return out


def models_with(name: str) -> list[str]:
    return sorted(m for m in models() if any(c.name == name for c in controls_of(m)))


def resolve(model: str, task: str, given: dict) -> dict:
    """Validate ``given`` controls for ``model`` and ``task``; fill in the defaults (the
    contract of ``deepcompose.controls.resolve_controls``, with this model's controls)."""
    from ..controls import resolve_controls

    players(model)  # an unknown model is named before any control
    out = resolve_controls(model, task, given, controls_of(model), all_controls(), models_with)
    if out.get("parts"):
        check_parts(player(model, out.get("style")), out["parts"])
    return out


def check_parts(fam: Family, parts) -> None:
    """Raise the one error for a ``--parts`` name that ``fam``'s style does not have."""
    roles = [role for role, _ in fam.edit_parts]
    for name in parts:
        if name not in roles:
            raise DeepcomposeError(f"--style {fam.styles[0]} has no part {name!r}; its parts: "
                                   f"{', '.join(roles)}")


def describe_controls(model: str, styles: tuple[str, ...] = ()) -> list[dict]:
    """The model's controls as JSON; with ``styles``, only those that apply to them."""
    return [c.describe() for c in controls_of(model)
            if not styles or not c.styles or set(c.styles) & set(styles)]


# ---------------------------------------------------------------- training


def trainee(model: str, style: str | None = None, data: str | None = None) -> Family:
    """The family that ``train --model M --style S --data D`` trains."""
    fams = [f for f in FAMILIES.values() if f.model == model and f.trainer
            and (style is None and f is player(model) or style in f.styles)]
    if not fams:
        player(model, style)  # names the unknown model or style
    if data is None or len(fams) == 1:
        return fams[0]
    for f in fams:
        if data in f.data:
            return f
    known = ", ".join(f"--model {f.model} --style {f.styles[0]} --data {d}"
                      for f in fams for d in f.data)
    raise DeepcomposeError(f"nothing to train for --model {model} --style {style} --data "
                           f"{data}; choose one of: {known}")


# ---------------------------------------------------------------- listing


def describe(loaded=frozenset()) -> list[dict]:
    """One JSON-ready row per family (``deepcompose models --json``, ``GET /models``)."""
    rows = []
    for f in FAMILIES.values():
        weights, card, meta = (f.stem.with_suffix(x) for x in (".safetensors", ".md", ".json"))
        trained = f.meta_field("trained", {}) if meta.exists() else {}
        host = next((h.name for h in FAMILIES.values() if f.name in dict(h.parts).values()),
                    None)
        rows.append({
            "family": f.name, "name": f.name, "model": f.model, "styles": list(f.styles),
            "summary": f.summary, "tasks": list(f.tasks), "plan": f.plan or None,
            "part_of": host, "parts": dict(f.parts), "data": list(f.data),
            "edit_parts": dict(f.edit_parts),
            "controls": describe_controls(f.model, f.styles) if f.plan else [],
            "weights": str(weights) if weights.exists() else None,
            "card": str(card) if card.exists() else None,
            "trained": trained if isinstance(trained, dict) else {},
            "loaded": f.name in loaded,
        })
    return rows


def describe_models(loaded=frozenset()) -> list[dict]:
    """One row per ``--model`` (the studio's model list): its tasks, styles, families and
    controls, and the weights and loaded state of its default family."""
    rows = []
    for m in models():
        fams = players(m)
        weights = fams[0].stem.with_suffix(".safetensors")
        rows.append({"name": m, "tasks": list(tasks_of(m)), "styles": list(styles_of(m)),
                     "families": [f.name for f in fams],
                     "weights": str(weights) if weights.exists() else None,
                     "controls": describe_controls(m), "loaded": fams[0].name in loaded})
    return rows
