"""Fuzz the readers and the server; print how many inputs were tried (issue 9).

    python benchmarks/fuzz.py [--midi 5000] [--json 3000] [--requests 3000] [--http 300]

- MIDI reader: mutated copies of the valid odd-file corpus (bytes flipped, cut,
  inserted; lengths and delta times inflated) and random bytes behind a real header.
- JSON reader (``Song.from_notes`` as used for ``.json`` files and ``--notes-json``):
  mutated valid documents (values replaced by other types, out-of-range numbers,
  deleted keys) and mutated JSON text.
- Server: ``parse_request`` on mutated request bodies, then ``--http`` of them over real
  HTTP to a running server with the shipped GAN: every answer must be 200, 400 or 413,
  and the server must still answer ``/health`` afterwards.

An uncaught exception is anything but ``DeepcomposeError`` from a reader, or any other
HTTP status from the server. Exit status 1 if there was one.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import random
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "data"))
import make_corpus  # noqa: E402

from deepcompose.errors import DeepcomposeError  # noqa: E402
from deepcompose.io.midi import parse_midi  # noqa: E402
from deepcompose.song import Song  # noqa: E402

ODD_VALUES = [None, True, -1, 0, 1e308, -1e308, float("inf"), "x", "", [], {}, [1, 2],
              2**70, 128, -5, 0.5, "60", {"pitch": 60}]
VALID_DOC = {"tempo": 96, "time_signature": [3, 4], "key": "G major",
             "tracks": [{"name": "Melody", "program": 0, "is_drum": False,
                         "notes": [{"pitch": 67 + i % 5, "start": i * 0.5, "duration": 0.5,
                                    "velocity": 90} for i in range(16)]}]}


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(data) or 1)
        op = rng.random()
        if op < 0.45:
            data[i:i + 1] = bytes([rng.randrange(256)])
        elif op < 0.6:
            del data[i:]
        elif op < 0.85:
            data[i:i] = rng.randbytes(rng.randint(1, 8))
        else:
            data[i:i + 4] = b"\x7f\xff\xff\xff"
    return bytes(data)


def mutate_doc(doc, rng: random.Random):
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        node, key = doc, None
        path = []
        while isinstance(node, (dict, list)) and node and rng.random() < 0.8:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            path.append((node, key))
            node = node[key]
        if not path:
            return rng.choice(ODD_VALUES)
        parent, key = path[-1]
        if isinstance(parent, dict) and rng.random() < 0.2:
            del parent[key]
        else:
            parent[key] = rng.choice(ODD_VALUES)
    return doc


def fuzz_midi(n: int, rng: random.Random) -> tuple[int, list]:
    seeds = [build() for build, (kind, _) in make_corpus.CASES.values() if kind == "melody"]
    seeds = [s for s in seeds if len(s) < 20000]
    bad = []
    for i in range(n):
        data = (mutate_bytes(rng.choice(seeds), rng) if i % 10 else
                make_corpus.header(1, 1) + rng.randbytes(rng.randint(0, 300)))
        try:
            parse_midi(data)
        except DeepcomposeError:
            pass
        except Exception as exc:  # noqa: BLE001 - this is what the fuzzer looks for
            bad.append(("midi", repr(exc)[:200]))
    return n, bad


def fuzz_json(n: int, rng: random.Random) -> tuple[int, list]:
    bad = []
    text = json.dumps(VALID_DOC).encode()
    for i in range(n):
        try:
            if i % 3:
                Song.from_notes(mutate_doc(VALID_DOC, rng))
            else:
                Song.from_notes(json.loads(mutate_bytes(text, rng)))
        except (DeepcomposeError, ValueError):  # ValueError: json.loads of broken text
            pass
        except Exception as exc:  # noqa: BLE001
            bad.append(("json", repr(exc)[:200]))
    return n, bad


def request_bodies(n: int, rng: random.Random) -> list[bytes]:
    base = {**VALID_DOC, "model": "gan", "task": "accompany", "seed": 1}
    text = json.dumps(base).encode()
    out = []
    for i in range(n):
        if i % 3:
            out.append(json.dumps(mutate_doc(base, rng), allow_nan=True).encode())
        else:
            out.append(mutate_bytes(text, rng))
    return out


def fuzz_requests(bodies: list[bytes]) -> tuple[int, list]:
    from deepcompose.server import parse_request

    bad = []
    for body in bodies:
        try:
            parse_request(body)
        except DeepcomposeError:
            pass
        except Exception as exc:  # noqa: BLE001
            bad.append(("request", repr(exc)[:200]))
    return len(bodies), bad


def fuzz_http(bodies: list[bytes]) -> tuple[int, list]:
    from deepcompose.server import make_server

    server = make_server("127.0.0.1", 0, preload=("gan",), quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    bad = []
    try:
        for body in bodies:
            conn = http.client.HTTPConnection(host, port, timeout=60)
            conn.request("POST", "/compose", body=body,
                         headers={"Content-Type": "application/json"})
            status = conn.getresponse().status
            conn.close()
            if status not in (200, 400, 413):
                bad.append(("http", f"status {status} for {body[:80]!r}"))
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", "/health")
        if conn.getresponse().status != 200:
            bad.append(("http", "server unhealthy after fuzzing"))
    finally:
        server.shutdown()
    return len(bodies), bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--midi", type=int, default=5000)
    ap.add_argument("--json", type=int, default=3000)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--http", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    counts, problems = {}, []
    t = time.perf_counter()
    for name, (count, bad) in (
        ("MIDI reader", fuzz_midi(args.midi, rng)),
        ("JSON reader", fuzz_json(args.json, rng)),
        ("server parse_request", fuzz_requests(request_bodies(args.requests, rng))),
        ("server over HTTP", fuzz_http(request_bodies(args.http, rng))),
    ):
        counts[name] = count
        problems += bad
    total = sum(counts.values())
    print("| target | fuzzed inputs |\n|---|---|")
    for name, count in counts.items():
        print(f"| {name} | {count:,} |")
    print(f"| total | {total:,} |")
    print(f"uncaught exceptions: {len(problems)} ({time.perf_counter() - t:.0f} s)")
    for p in problems[:10]:
        print("  ", *p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
