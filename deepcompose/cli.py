"""Command-line interface: ``compose`` and ``deepcompose <command>``.

Thin: parse, call the library, report. Bad input or usage -> one line
``error: ...`` on stderr and exit status 2, with nothing written.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from deepcompose import controls as contract
from deepcompose.errors import DeepcomposeError
from deepcompose.models import registry

FORMATS = {".mid": "midi", ".midi": "midi", ".musicxml": "musicxml", ".mxl": "musicxml",
           ".xml": "musicxml", ".json": "json", ".wav": "audio", ".ogg": "audio"}
EXTENSIONS = {"midi": ".mid", "musicxml": ".musicxml", "json": ".json"}


def _run(command, args=None) -> None:
    """Run a click command with the project's error contract (exit 2 + one ``error:`` line)."""
    try:
        rv = command.main(args=args, standalone_mode=False)
    except (DeepcomposeError, click.ClickException) as exc:
        msg = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
        click.echo(f"error: {msg.splitlines()[0] if msg else type(exc).__name__}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # never a traceback for users; DEEPCOMPOSE_DEBUG=1 shows it
        if os.environ.get("DEEPCOMPOSE_DEBUG"):
            raise
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}".splitlines()[0], err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


def _read_notes_json(source: str) -> dict:
    text = sys.stdin.read() if source == "-" else _read_text(source)
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise DeepcomposeError(f"notes JSON is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DeepcomposeError("notes JSON must be an object with 'tracks' or 'notes'")
    return obj


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DeepcomposeError(f"cannot read {path}: {exc}") from None


def _output_target(output, fmt, melody, notes_json, model) -> tuple[str | None, str]:
    """(path or None for stdout, format)."""
    if output:
        ext = Path(output).suffix.lower()
        if ext not in FORMATS:
            raise DeepcomposeError(f"cannot tell the output format of {output}; use "
                                   f"{', '.join(FORMATS)}")
        if fmt and FORMATS[ext] != fmt:
            raise DeepcomposeError(f"--format {fmt} does not match the extension of {output}")
        return output, FORMATS[ext]
    if fmt == "json" or (notes_json and fmt is None):
        return None, "json"
    fmt = fmt or "midi"
    stem = Path(melody).stem if melody else "notes"
    return f"{stem}-{model}{EXTENSIONS[fmt]}", fmt


def _control_option(c):
    """A click option for a control of ``deepcompose.controls`` (validated there, not here)."""
    models = ", ".join(registry.models_with(c.name)) if c not in contract.COMMON else "all"
    rng = c.range_text() if c.kind in ("int", "float", "choice") else ""
    help_text = f"{c.help} {rng[:1].upper()}{rng[1:]}{'.' if rng else ''} Models: {models}."
    if c.kind == "bool":
        name = c.name.replace("_", "-")
        return click.option(f"--{name}/--no-{name}", c.name, default=None, help=help_text)
    return click.option(c.flag, c.name, type=str, default=None, help=help_text,
                        metavar=c.kind.upper())


COMPOSE_OPTIONS = [
    click.option("--melody", "-m", type=str, help="Melody file: MIDI, MusicXML, ABC or JSON."),
    click.option("--notes-json", type=str, help="Melody as JSON notes: FILE or - (stdin)."),
    click.option("--example", type=str, help="A bundled example melody instead of --melody "
                 "(see 'deepcompose examples')."),
    click.option("--soundfont", type=str, help="SoundFont (.sf2) for -o .wav/.ogg "
                 "(default: pretty_midi's General MIDI one)."),
    click.option("--track", type=str, help="Melody track by name or index (default: see README)."),
    click.option("--pickup", type=str, metavar="BEATS",
                 help="Beats before the first full bar (MIDI and JSON input; MusicXML and ABC "
                      "say it themselves)."),
    click.option("--model", type=click.Choice(registry.models()), default="gan",
                 show_default=True),
    click.option("--task", type=click.Choice(contract.TASKS), default="accompany",
                 show_default=True),
    *[_control_option(c) for c in registry.all_controls().values()],
    click.option("-o", "--output", type=str, help="Output file; format by extension."),
    click.option("--format", "fmt", type=click.Choice(["midi", "musicxml", "json"])),
    click.option("--plot", type=str, help="Also write a piano-roll PNG (needs the 'plot' extra)."),
]


def with_options(options):
    """Decorator: the click ``options`` in the order given."""
    def add(f):
        for option in reversed(options):
            f = option(f)
        return f
    return add


def parse_controls(raw: dict) -> dict:
    """Command-line strings of the controls the user gave -> typed values (``compose`` and
    ``run_batch`` check them against the model and task before reading any file)."""
    known = registry.all_controls()
    given = {name: known[name].parse(text) for name, text in raw.items() if text is not None}
    if isinstance(given.get("chords"), str) and Path(given["chords"]).is_file():
        given["chords"] = _chords_file(Path(given["chords"]))
    return given


def _chords_file(path: Path) -> list:
    """``--chords FILE``: a JSON chords list, or a notes JSON file (such as an earlier
    result) whose ``chords`` the band then plays."""
    from deepcompose.chords import parse_chord_json

    if not _read_text(str(path)).lstrip().startswith("{"):
        return parse_chord_json(path)
    record = _read_notes_json(str(path)).get("chords")
    if not isinstance(record, list) or not record:
        raise DeepcomposeError(f"--chords {path} is a notes JSON file without chords")
    return parse_chord_json(record)


def _pickup(text):
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise DeepcomposeError(f"pickup must be a number of beats; got {text!r}") from None


@click.command("compose")
@with_options(COMPOSE_OPTIONS)
def compose_command(melody, notes_json, track, pickup, model, task, output, fmt, plot, **raw):
    """Complete a melody: new parts under it, a continuation, an infill or an edit."""
    import deepcompose

    example, soundfont = raw.pop("example", None), raw.pop("soundfont", None)
    if sum(map(bool, (melody, notes_json, example))) != 1:
        raise DeepcomposeError("give one of --melody FILE, --notes-json FILE|- or --example NAME "
                               "(a bundled melody; 'deepcompose examples' lists them)")
    if example:
        from deepcompose.melodies import path as example_path

        melody = str(example_path(example))
    if soundfont and Path(output or "").suffix.lower() not in (".wav", ".ogg"):
        raise DeepcomposeError("--soundfont applies to audio output: -o FILE.wav or .ogg")
    given = parse_controls(raw)
    path, out_fmt = _output_target(output, fmt, melody, notes_json, model)
    if plot:
        from deepcompose.plot import require_matplotlib

        require_matplotlib()
        if Path(plot).suffix.lower() != ".png":
            raise DeepcomposeError(f"--plot writes a PNG; name it .png, not {plot}")
    if melody and Path(melody).is_dir():
        raise DeepcomposeError(f"--melody {melody} is a folder; give a file "
                               "(or use 'deepcompose batch' for a folder)")
    if melody and not Path(melody).exists():
        raise DeepcomposeError(f"no such file: {melody}")
    _check_outputs(path, plot, melody or (notes_json if notes_json != "-" else None),
                   "-o" if output else "the output")
    if out_fmt == "audio":  # a missing or broken SoundFont fails now, not after composing
        from deepcompose.io.audio import load_soundfont

        load_soundfont(soundfont)
    source = melody if melody else _read_notes_json(notes_json)
    track_sel = int(track) if track is not None and track.isdigit() else track
    song = deepcompose.compose(source, model=model, task=task, track=track_sel,
                               pickup=_pickup(pickup), **given)
    _write_outputs(song, path, soundfont, plot,
                   lambda: _melody_track(song, source, task, track_sel))


def _check_outputs(path, plot, source, named: str = "-o") -> None:
    """Fail before composing on what would fail after it: the output (``named``) or --plot
    onto the input file, into a missing folder or onto a folder."""
    for option, target in ((named, path), ("--plot", plot)):
        if target is None:
            continue
        out = Path(target)
        if source and out.exists() and Path(source).exists() and os.path.samefile(out, source):
            raise DeepcomposeError(f"{option} {target} is the input melody; write the result "
                                   "to another file (the input is never overwritten)")
        if out.is_dir():
            raise DeepcomposeError(f"cannot write {target}: it is a folder")
        folder = out.parent if str(out.parent) else Path(".")
        if not folder.is_dir():
            raise DeepcomposeError(f"cannot write {target}: folder {folder} does not exist")


def _write_outputs(song, path, soundfont, plot, melody_index) -> None:
    """The result (a file or stdout), then the plot: the PNG is drawn first, beside its
    place, and appears only once the result is written, so a failed run leaves neither."""
    from contextlib import nullcontext

    from deepcompose.atomic import atomic_path

    with atomic_path(plot) if plot else nullcontext() as plot_tmp:
        if plot:
            from deepcompose.plot import plot_song

            plot_song(song, plot_tmp, melody_index=melody_index())
        if path is None:
            click.echo(json.dumps(song.to_notes()))
        else:
            song.write(path, **({"soundfont": soundfont} if soundfont else {}))
            click.echo(f"wrote {path}", err=True)
    if plot:
        click.echo(f"wrote {plot}", err=True)


def _melody_track(song, source, task, track_sel) -> int:
    """Where the melody is in the output: first for accompany/continue, else its input index."""
    if task in ("accompany", "continue"):
        return 0
    from deepcompose.pipeline import load_song

    return load_song(source).melody_index(track_sel)


@click.group()
@click.version_option(package_name="deepcompose")
def main():
    """deepcompose: complete a melody with a GAN, an AR-CNN or a transformer, on your machine."""


main.add_command(compose_command)


@main.command("inspect")
@click.argument("file")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def inspect_command(file, as_json):
    """Tracks, tempi, meter, bars, key and length of a MIDI/MusicXML/ABC/JSON file."""
    from deepcompose.inspect import describe, format_text
    from deepcompose.song import Song

    info = describe(Song.read(file), path=file)
    click.echo(json.dumps(info, indent=2) if as_json else format_text(info))


@main.command("train")
@click.option("--model", required=True, type=click.Choice(registry.models()))
@click.option("--style", default=None,
              help="The style to train (default: the model's first); 'deepcompose models' "
                   "lists each family with its styles and data.")
@click.option("--data", default=None,
              help="Training data (default: the family's own): 'jsb', 'music21', 'pop909', "
                   "'groove', ... or a folder of MIDI files for the chorale models.")
@click.option("--steps", default=1000, show_default=True, type=int, help="Optimizer updates.")
@click.option("--out", default=None, help="Run folder (default runs/MODEL).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.pt.")
@click.option("--init", type=click.Path(dir_okay=False),
              help="Fine-tune: start from this weights file (.safetensors) instead of random "
                   "weights; a layer may have grown input channels (added features, last).")
@click.option("--tiny", is_flag=True, help="The tiny test configuration.")
@click.option("--config", "overrides", multiple=True, help="Override a config value: key=value.")
@click.option("--threads", type=int, help="torch threads per process.")
@click.option("--checkpoint-every", default=200, show_default=True, type=int)
@click.option("--validate-every", default=500, show_default=True, type=int)
@click.option("--metrics-every", type=click.IntRange(min=0),
              help="Steps between sample metrics (default: steps/20; 0: none).")
def train_command(model, style, data, steps, out, seed, resume, init, tiny, overrides, threads,
                  checkpoint_every, validate_every, metrics_every):
    """Train a model; writes OUT/FAMILY.safetensors + .json, a log and checkpoints."""
    from deepcompose.train import parse_overrides, train

    family = registry.trainee(model, style, data).name
    metrics = train(model=model, style=style, data=data, steps=steps,
                    out=out or f"runs/{family}", seed=seed,
                    resume=resume, tiny=tiny, overrides=parse_overrides(list(overrides)),
                    checkpoint_every=checkpoint_every, validate_every=validate_every,
                    threads=threads, metrics_every=metrics_every, init=init)
    click.echo(json.dumps(metrics))


@main.command("curves")
@click.argument("run_dir")
@click.option("-o", "--output", default="curves.png", show_default=True,
              help="The PNG to write.")
def curves_command(run_dir, output):
    """Draw a training run's losses and sample metrics over steps (real values dashed)."""
    from deepcompose.curves import draw

    n_losses, n_metrics = draw(run_dir, output)
    click.echo(f"wrote {output} ({n_losses} losses, {n_metrics} metrics)", err=True)


@main.command("models")
@click.option("--json", "as_json", is_flag=True)
def models_command(as_json):
    """Every model family: its model and styles, tasks, weights, card and controls."""
    rows = registry.describe()
    click.echo(json.dumps(rows, indent=2) if as_json else _models_text(rows))


def _models_text(rows) -> str:
    """``registry.describe()`` as the lines ``deepcompose models`` prints."""
    lines = []
    for r in rows:
        styled = any(c["name"] == "style" for c in r["controls"])
        plays = (f"part of {r['part_of']}" if not r["plan"] else f"--model {r['model']}"
                 + (f" --style {', '.join(r['styles'])}" if styled else ""))
        lines += [f"{r['family']:12s} {plays}: {r['summary']}",
                  f"{'':12s} tasks: {', '.join(r['tasks'])}; trains on: {', '.join(r['data'])}",
                  f"{'':12s} weights: {r['weights'] or 'missing'}",
                  f"{'':12s} card: {r['card'] or 'missing'}"]
        if r["edit_parts"]:
            lines.append(f"{'':12s} parts (--parts): {', '.join(r['edit_parts'])}")
        lines += [f"{'':12s} {c['flag']}: {c['range']}" for c in r["controls"]
                  if c["name"] not in contract.COMMON_NAMES]
    return "\n".join(lines)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; loopback unless you say otherwise.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--preload", default="gan", show_default=True,
              help="Comma-separated models (MODEL or MODEL:STYLE) or families to load at "
                   "start.")
def serve_command(host, port, preload):
    """Localhost JSON server for DAW bridges: GET /health, GET /models, POST /compose."""
    from deepcompose.server import serve

    serve(host=host, port=port, preload=[m for m in preload.split(",") if m])


BATCH_OPTIONS = [_control_option(c) for c in registry.all_controls().values()
                 if c.name != "seed"]


@main.command("batch")
@click.argument("in_dir")
@click.argument("out_dir")
@click.option("--model", required=True, type=click.Choice(registry.models()))
@click.option("--task", default="accompany", show_default=True,
              type=click.Choice(contract.TASKS))
@click.option("--workers", type=int, help="Worker processes (default: CPU count).")
@click.option("--engine", default="local", show_default=True, type=click.Choice(["local", "ray"]))
@click.option("--address", help="Ray cluster address (default: a local Ray).")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Base seed; each file's seed derives from it and the file's path.")
@click.option("--audio", type=click.Choice(["wav", "ogg"]),
              help="Also write audio beside each MIDI output.")
@with_options(BATCH_OPTIONS)
def batch_command(in_dir, out_dir, model, task, workers, engine, address, seed, audio, **raw):
    """Compose every melody under IN_DIR into OUT_DIR (resumable; manifest.jsonl).

    Takes every control of compose. Exit status 0 when every input succeeded, 1 when
    some failed (see the manifest).
    """
    from deepcompose.batch import run_batch

    given = parse_controls(raw)
    summary = run_batch(in_dir, out_dir, model=model, task=task, workers=workers, engine=engine,
                        address=address, seed=seed, audio=audio, **given)
    click.echo(json.dumps(summary), err=True)
    return 0 if summary.get("error", 0) == 0 else 1


@main.command("evaluate")
@click.option("--model", required=True, type=click.Choice(registry.models()))
@click.option("--style", default=None, help="The style to evaluate (default: the model's "
              "first).")
@click.option("--data", default=None, help="'jsb' (default) or a folder of MIDI files; the "
              "melody transformer scores its style's own validation lines.")
@click.option("--split", default=None, type=click.Choice(["train", "valid", "test"]),
              help="Default: test (JSB), valid (the melody transformer).")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--limit", type=int, help="Only the first N pieces.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def evaluate_command(model, style, data, split, seed, limit, as_json):
    """Harmonize each piece's real melody: model vs data metrics, plus NLL where defined."""
    from deepcompose.evaluate import evaluate, format_report

    report = evaluate(model=model, style=style, data=data, split=split, seed=seed,
                      limit=limit, progress=not as_json)
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))


# ---------------------------------------------------------------- audio, examples, studio


@main.command("render")
@click.argument("file")
@click.option("-o", "--output", required=True, help="Audio file to write: .wav or .ogg (Opus).")
@click.option("--soundfont", type=str, help="A SoundFont (.sf2); default: the General MIDI one "
              "that pretty_midi ships.")
def render_command(file, output, soundfont):
    """Render a MIDI, JSON, MusicXML or ABC file to audio through a GM SoundFont."""
    from deepcompose.io import audio
    from deepcompose.song import Song

    if Path(output).suffix.lower() not in (".wav", ".ogg"):
        raise DeepcomposeError(f"cannot write audio to {output}: use .wav or .ogg")
    song = Song.read(file)
    if song.note_count == 0:
        raise DeepcomposeError(f"{file} has no notes to render")
    audio.write(song, output, soundfont=soundfont)
    click.echo(f"wrote {output} ({song.length_seconds:.1f} s of music)", err=True)


@main.command("examples")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def examples_command(as_json):
    """The example melodies bundled with deepcompose (use one with compose --example NAME)."""
    from deepcompose.melodies import describe

    rows = describe()
    click.echo(json.dumps(rows, indent=2) if as_json else _examples_text(rows))


def _examples_text(rows) -> str:
    """``melodies.describe()`` as the lines ``deepcompose examples`` prints."""
    return "\n".join(
        f"{r['name']:15s} {r['meter']:4s} {r['bars']:3d} bars"
        + (f", pickup {r['pickup']:g} beat" if r["pickup"] else "")
        + f"  {r['title']}  ({r['source']})" for r in rows)


@main.command("studio")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; loopback unless you say otherwise.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option("--preload", default="", help="Comma-separated models (MODEL or MODEL:STYLE) "
              "or families to load at start.")
def studio_command(host, port, no_browser, preload):
    """The studio page in your browser: enter a melody, generate, listen, download."""
    import webbrowser

    from deepcompose.server import serve

    serve(host, port, [m for m in preload.split(",") if m], what="studio",
          on_ready=None if no_browser else webbrowser.open)


def compose_main():
    """Entry point of the ``compose`` console script."""
    _run(compose_command)


def deepcompose_main():
    """Entry point of the ``deepcompose`` console script."""
    _run(main)


if __name__ == "__main__":
    deepcompose_main()
