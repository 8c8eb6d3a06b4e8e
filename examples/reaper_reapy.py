"""REAPER through reapy: new parts under the melody in the selected MIDI item.

One-time setup: ``pip install python-reapy``, then with REAPER open
``python -c "import reapy; reapy.configure_reaper()"`` and restart REAPER.
Select the MIDI item that holds your melody, then run either

    deepcompose serve &                                   # models stay loaded
    python examples/reaper_reapy.py --model gan --seed 1

or, without a server, ``python examples/reaper_reapy.py --model gan --local``.
Each generated part lands on a new track, in a MIDI item aligned with yours.

reapy reports note times in seconds of project time. They become beats (quarter
notes) through the take's own conversions (seconds -> ticks -> project quarter
notes), so REAPER's tempo map, tempo changes included, does the work.
"""

from __future__ import annotations

import argparse

from deepcompose_client import DEFAULT_URL, compose_request


def melody_request(notes, tempo: float, time_signature=(4, 4), **params) -> dict:
    """``(pitch, start_beat, end_beat, velocity)`` (beats from the item start) -> a request."""
    return {"tempo": tempo, "time_signature": list(time_signature),
            "tracks": [{"name": "Melody", "notes": [
                {"pitch": int(p), "start": round(s, 6), "duration": round(e - s, 6),
                 "velocity": max(1, min(127, int(v)))}
                for p, s, e, v in notes if e > s]}], **params}


def generated_parts(song: dict, skip: int = 1) -> list[tuple[str, list[tuple]]]:
    """The composed song's tracks after the first ``skip`` (your melody) as
    ``(name, [(pitch, start_beat, end_beat, velocity), ...])``."""
    return [(t["name"], [(n["pitch"], n["start"], n["start"] + n["duration"], n["velocity"])
                         for n in t["notes"]])
            for t in song["tracks"][skip:]]


def take_beats(take):
    """Project seconds -> project beats (quarter notes), through the take's tempo map."""
    return lambda seconds: take.ppq_to_beat(take.time_to_ppq(seconds))


def main() -> None:  # pragma: no cover - needs a running REAPER
    import reapy

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gan")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-signature", default="4/4", help="e.g. 3/4")
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--local", action="store_true", help="compose in this process, no server")
    args = ap.parse_args()

    project = reapy.Project()
    if project.n_selected_items == 0:
        raise SystemExit("select the MIDI item that holds your melody first")
    item = project.get_selected_item(0)
    take = item.active_take
    beat = take_beats(take)
    origin = beat(item.position)
    notes = [(n.pitch, beat(n.start) - origin, beat(n.end) - origin, n.velocity)
             for n in take.notes]
    num, den = (int(x) for x in args.time_signature.split("/"))
    request = melody_request(notes, project.bpm, (num, den), model=args.model, seed=args.seed)
    song = compose_request(request, url=None if args.local else args.url)

    with reapy.inside_reaper():
        for name, part in generated_parts(song):
            track = project.add_track(project.n_tracks, name)
            end = max([e for _, _, e, _ in part], default=1.0)
            new = track.add_midi_item(origin, origin + end, quantize=True)  # in beats
            for pitch, start, stop, velocity in part:
                new.active_take.add_note(origin + start, origin + stop, pitch, velocity,
                                         unit="beats", sort=False)
            new.active_take.sort_events()
    print(f"added {len(song['tracks']) - 1} parts")


if __name__ == "__main__":
    main()
