"""Ableton Live through AbletonOSC: new parts under the melody in a session clip.

Setup: install the AbletonOSC remote script (github.com/ideoforms/AbletonOSC) and pick it
as a Control Surface in Live; ``pip install python-osc``. Put your melody in a MIDI clip,
then run either

    deepcompose serve &
    python examples/ableton_osc.py --track 0 --clip 0 --model gan --seed 1

or add ``--local`` to compose in this process without a server. Each generated part
becomes a new MIDI track with a clip in the same slot.

AbletonOSC speaks beats already: ``/live/clip/get/notes`` answers
``track, clip, pitch, start, duration, velocity, mute, pitch, ...`` and
``/live/clip/add/notes`` takes ``track, clip, pitch, start, duration, velocity, mute, ...``.
"""

from __future__ import annotations

import argparse

from deepcompose_client import DEFAULT_URL, compose_request

FIELDS = 5  # pitch, start, duration, velocity, mute
BATCH = 64  # notes per /live/clip/add/notes message (UDP packets stay small)


def notes_from_reply(args) -> list[dict]:
    """The flat reply of ``/live/clip/get/notes`` -> unmuted notes of the JSON schema."""
    flat = list(args)[2:]  # drop track_id, clip_id
    out = []
    for i in range(0, len(flat) - FIELDS + 1, FIELDS):
        pitch, start, duration, velocity, mute = flat[i:i + FIELDS]
        if not mute and duration > 0:
            out.append({"pitch": int(pitch), "start": float(start), "duration": float(duration),
                        "velocity": max(1, min(127, int(round(velocity))))})
    return out


def add_notes_messages(track: int, clip: int, notes: list[dict]) -> list[list]:
    """JSON notes -> argument lists for ``/live/clip/add/notes`` (in batches)."""
    msgs = []
    for i in range(0, len(notes), BATCH):
        args = [track, clip]
        for n in notes[i:i + BATCH]:
            args += [int(n["pitch"]), float(n["start"]), float(n["duration"]),
                     int(n["velocity"]), False]
        msgs.append(args)
    return msgs


def clip_length(notes: list[dict], beats_per_bar: float = 4.0) -> float:
    """Length of a clip holding ``notes``, in beats, rounded up to whole bars."""
    end = max([n["start"] + n["duration"] for n in notes], default=beats_per_bar)
    return -(-end // beats_per_bar) * beats_per_bar


class Live:  # pragma: no cover - needs a running Live
    """Send to AbletonOSC (port 11000) and wait for its replies (port 11001)."""

    def __init__(self, host="127.0.0.1"):
        from pythonosc.dispatcher import Dispatcher
        from pythonosc.osc_server import BlockingOSCUDPServer
        from pythonosc.udp_client import SimpleUDPClient

        self.client = SimpleUDPClient(host, 11000)
        self.replies = {}
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(lambda address, *a: self.replies.__setitem__(address, a))
        self.server = BlockingOSCUDPServer((host, 11001), dispatcher)
        self.server.timeout = 5.0

    def send(self, address, *args):
        self.client.send_message(address, list(args))

    def ask(self, address, *args):
        self.replies.pop(address, None)
        self.send(address, *args)
        while address not in self.replies:
            self.server.handle_request()  # returns after the timeout if Live stays silent
            if address not in self.replies:
                raise TimeoutError(f"no reply to {address}; is AbletonOSC running?")
        return self.replies[address]


def main() -> None:  # pragma: no cover - needs a running Live
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--track", type=int, default=0)
    ap.add_argument("--clip", type=int, default=0)
    ap.add_argument("--model", default="gan")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--local", action="store_true", help="compose in this process, no server")
    args = ap.parse_args()

    live = Live()
    tempo = live.ask("/live/song/get/tempo")[0]
    melody = notes_from_reply(live.ask("/live/clip/get/notes", args.track, args.clip))
    request = {"tempo": tempo, "notes": melody, "model": args.model, "seed": args.seed}
    song = compose_request(request, url=None if args.local else args.url)
    for k, part in enumerate(song["tracks"][1:], start=1):
        index = args.track + k
        live.send("/live/song/create_midi_track", index)
        live.send("/live/track/set/name", index, part["name"])
        live.send("/live/clip_slot/create_clip", index, args.clip, clip_length(part["notes"]))
        for msg in add_notes_messages(index, args.clip, part["notes"]):
            live.send("/live/clip/add/notes", *msg)
    print(f"added {len(song['tracks']) - 1} parts")


if __name__ == "__main__":
    main()
