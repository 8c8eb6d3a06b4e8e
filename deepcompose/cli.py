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

from deepcompose.errors import DeepcomposeError

FORMATS = {".mid": "midi", ".midi": "midi", ".musicxml": "musicxml", ".mxl": "musicxml",
           ".xml": "musicxml", ".json": "json"}
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
            raise DeepcomposeError(
                f"cannot tell the output format of {output}; use .mid, .musicxml, .mxl or .json")
        if fmt and FORMATS[ext] != fmt:
            raise DeepcomposeError(f"--format {fmt} does not match the extension of {output}")
        return output, FORMATS[ext]
    if fmt == "json" or (notes_json and fmt is None):
        return None, "json"
    fmt = fmt or "midi"
    stem = Path(melody).stem if melody else "notes"
    return f"{stem}-{model}{EXTENSIONS[fmt]}", fmt


COMPOSE_OPTIONS = [
    click.option("--melody", "-m", type=str, help="Melody file: MIDI, MusicXML, ABC or JSON."),
    click.option("--notes-json", type=str, help="Melody as JSON notes: FILE or - (stdin)."),
    click.option("--track", type=str, help="Melody track by name or index (default: see README)."),
    click.option("--model", type=click.Choice(["gan", "arcnn", "transformer"]), default="gan",
                 show_default=True),
    click.option("--task", type=click.Choice(["accompany", "continue", "enhance", "infill"]),
                 default="accompany", show_default=True),
    click.option("--bars", type=str, help="continue: N new bars; infill: A:B (1-based)."),
    click.option("--seed", type=int, default=0, show_default=True),
    click.option("--temperature", type=float, default=1.0, show_default=True,
                 help="Creative risk: 0 is the safest choice, higher is riskier."),
    click.option("--top-k", type=int, help="Sample among the k likeliest (transformer)."),
    click.option("--top-p", type=float, help="Nucleus sampling mass (transformer)."),
    click.option("--iterations", type=int, help="Sampling iterations (arcnn)."),
    click.option("--max-remove", type=float, help="enhance: most percent of melody notes removed."),
    click.option("--max-add", type=int, help="enhance: most notes added."),
    click.option("--candidates", type=int, default=1, show_default=True,
                 help="Generate N and keep the best (see README)."),
    click.option("--ensemble", type=str, help="GM programs for new parts: piano, strings, ..."),
    click.option("-o", "--output", type=str, help="Output file; format by extension."),
    click.option("--format", "fmt", type=click.Choice(["midi", "musicxml", "json"])),
    click.option("--plot", type=str, help="Also write a piano-roll PNG (needs the 'plot' extra)."),
]


def compose_options(f):
    for option in reversed(COMPOSE_OPTIONS):
        f = option(f)
    return f


@click.command("compose")
@compose_options
def compose_command(melody, notes_json, track, model, task, bars, seed, temperature, top_k, top_p,
                    iterations, max_remove, max_add, candidates, ensemble, output, fmt, plot):
    """Complete a melody: new parts under it, a continuation, an infill or an edit."""
    import deepcompose

    if bool(melody) == bool(notes_json):
        raise DeepcomposeError("give exactly one of --melody FILE or --notes-json FILE|-")
    path, out_fmt = _output_target(output, fmt, melody, notes_json, model)
    if plot:
        from deepcompose.plot import require_matplotlib

        require_matplotlib()
    source = melody if melody else _read_notes_json(notes_json)
    if melody and not Path(melody).is_file():
        raise DeepcomposeError(f"no such file: {melody}")
    controls = {k: v for k, v in dict(top_k=top_k, top_p=top_p, iterations=iterations,
                                       max_remove=max_remove, max_add=max_add).items()
                if v is not None}
    track_sel = int(track) if track is not None and track.isdigit() else track
    song = deepcompose.compose(source, model=model, task=task, track=track_sel, bars=bars,
                               seed=seed, temperature=temperature, ensemble=ensemble,
                               candidates=candidates, **controls)
    if plot:
        from deepcompose.pipeline import load_song
        from deepcompose.plot import plot_song

        # accompany/continue put the melody first; infill/enhance keep the input's track order
        index = 0 if task in ("accompany", "continue") else load_song(source).melody_index(
            track_sel)
        plot_song(song, plot, melody_index=index)
    if path is None:
        click.echo(json.dumps(song.to_notes()))
    else:
        song.write(path)
        click.echo(f"wrote {path}", err=True)


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
@click.option("--model", required=True, type=click.Choice(["gan", "arcnn", "transformer"]))
@click.option("--style", default=None,
              help="gan only: chorale (default, JSB voices) or pop (the band: --data pop909 "
                   "for bass/keys/counter, --data groove for drums).")
@click.option("--data", default="jsb", show_default=True,
              help="'jsb', 'music21', 'pop909', 'groove' or a folder of MIDI files.")
@click.option("--steps", default=1000, show_default=True, type=int, help="Optimizer updates.")
@click.option("--out", default=None, help="Run folder (default runs/MODEL).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.pt.")
@click.option("--tiny", is_flag=True, help="The tiny test configuration.")
@click.option("--config", "overrides", multiple=True, help="Override a config value: key=value.")
@click.option("--threads", type=int, help="torch threads per process.")
@click.option("--checkpoint-every", default=200, show_default=True, type=int)
@click.option("--validate-every", default=500, show_default=True, type=int)
def train_command(model, style, data, steps, out, seed, resume, tiny, overrides, threads,
                  checkpoint_every, validate_every):
    """Train a model; writes OUT/FAMILY.safetensors + .json, a log and checkpoints."""
    from deepcompose.train import family_name, parse_overrides, train

    family = family_name(model, style, data)
    metrics = train(model=model, style=style, data=data, steps=steps,
                    out=out or f"runs/{family}", seed=seed,
                    resume=resume, tiny=tiny, overrides=parse_overrides(list(overrides)),
                    checkpoint_every=checkpoint_every, validate_every=validate_every,
                    threads=threads)
    click.echo(json.dumps(metrics))


@main.command("models")
@click.option("--json", "as_json", is_flag=True)
def models_command(as_json):
    """The installed models, their tasks and cards."""
    from deepcompose.models.base import describe_models

    rows = describe_models()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['name']:12s} tasks: {', '.join(r['tasks'])}")
        click.echo(f"{'':12s} weights: {r['weights'] or 'missing'}")
        click.echo(f"{'':12s} card: {r['card'] or 'missing'}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; loopback unless you say otherwise.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--preload", default="gan", show_default=True,
              help="Comma-separated models to load at start.")
def serve_command(host, port, preload):
    """Localhost JSON server for DAW bridges: GET /health, GET /models, POST /compose."""
    from deepcompose.server import serve

    serve(host=host, port=port, preload=[m for m in preload.split(",") if m])


@main.command("batch")
@click.argument("in_dir")
@click.argument("out_dir")
@click.option("--model", required=True, type=click.Choice(["gan", "arcnn", "transformer"]))
@click.option("--task", default="accompany", show_default=True,
              type=click.Choice(["accompany", "continue", "enhance", "infill"]))
@click.option("--workers", type=int, help="Worker processes (default: CPU count).")
@click.option("--engine", default="local", show_default=True, type=click.Choice(["local", "ray"]))
@click.option("--address", help="Ray cluster address (default: a local Ray).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--bars", type=str, help="As for compose.")
@click.option("--temperature", type=float, default=1.0, show_default=True)
def batch_command(in_dir, out_dir, model, task, workers, engine, address, seed, bars, temperature):
    """Compose every melody under IN_DIR into OUT_DIR (resumable; manifest.jsonl).

    Exit status 0 when every input succeeded, 1 when some failed (see the manifest).
    """
    from deepcompose.batch import run_batch

    summary = run_batch(in_dir, out_dir, model=model, task=task, workers=workers, engine=engine,
                        address=address, seed=seed, bars=bars, temperature=temperature)
    click.echo(json.dumps(summary), err=True)
    return 0 if summary.get("error", 0) == 0 else 1


@main.command("evaluate")
@click.option("--model", required=True, type=click.Choice(["gan", "arcnn", "transformer"]))
@click.option("--data", default="jsb", show_default=True, help="'jsb' or a folder of MIDI files.")
@click.option("--split", default="test", show_default=True,
              type=click.Choice(["train", "valid", "test"]))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--limit", type=int, help="Only the first N pieces.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def evaluate_command(model, data, split, seed, limit, as_json):
    """Harmonize each piece's real melody: model vs data metrics, plus NLL where defined."""
    from deepcompose.evaluate import evaluate, format_report

    report = evaluate(model=model, data=data, split=split, seed=seed, limit=limit,
                      progress=not as_json)
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
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        pickup = f", pickup {r['pickup']:g} beat" if r["pickup"] else ""
        click.echo(f"{r['name']:15s} {r['meter']:4s} {r['bars']:3d} bars{pickup}  "
                   f"{r['title']}  ({r['source']})")


@main.command("studio")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; loopback unless you say otherwise.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option("--preload", default="", help="Comma-separated models to load at start.")
def studio_command(host, port, no_browser, preload):
    """The studio page in your browser: enter a melody, generate, listen, download."""
    import threading
    import webbrowser

    from deepcompose.server import serve

    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    click.echo(f"deepcompose studio: {url}", err=True)
    if not no_browser:
        threading.Timer(0.8, lambda: webbrowser.open(url)).start()
    serve(host=host, port=port, preload=[m for m in preload.split(",") if m])


def compose_main():
    """Entry point of the ``compose`` console script."""
    _run(compose_command)


def deepcompose_main():
    """Entry point of the ``deepcompose`` console script."""
    _run(main)


if __name__ == "__main__":
    deepcompose_main()
