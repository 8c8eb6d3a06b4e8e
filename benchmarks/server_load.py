"""Load test of ``deepcompose serve`` with the shipped models.

Starts the server in this process (models preloaded), and for each model with weights:

1. warm latency: ``--warm`` sequential requests, one at a time (median, seconds);
2. load: ``--requests`` requests fired at once from as many client threads, each on its own
   connection; reports failures (anything but a 200 with 4 tracks), median and p95 latency
   under load, wall time and throughput.

The melody is the first ``--bars`` bars of a held-out folk tune (benchmarks/data/folk, 4/4),
sent inline as JSON notes; each request has its own seed. Prints a markdown table.

Usage: ``python benchmarks/server_load.py [--models gan,arcnn] [--requests 100] [--bars 8]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deepcompose.models.registry import describe as describe_models
from deepcompose.server import make_server
from deepcompose.song import Song

FOLK = Path(__file__).resolve().parent / "data" / "folk"
TUNE = "00-44-mary-s-dream.mid"


def melody_notes(bars: int) -> tuple[list[dict], float]:
    """JSON notes of the first ``bars`` bars of the folk tune, and its tempo."""
    song = Song.read(FOLK / TUNE)
    _, num, den = song.time_signatures[0]
    end = bars * num * 4 / den
    track = song.tracks[song.melody_index()]
    notes = [{"pitch": n.pitch, "start": n.start, "duration": min(n.end, end) - n.start,
              "velocity": n.velocity} for n in track.notes if n.start < end]
    return notes, song.tempos[0][1]


def post(url_host: str, port: int, body: bytes) -> tuple[bool, float, str]:
    """(ok, seconds, error) for one POST /compose on a fresh connection."""
    t0 = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(url_host, port, timeout=600)
        conn.request("POST", "/compose", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        ok = resp.status == 200 and len(json.loads(data)["tracks"]) >= 4
        err = "" if ok else f"{resp.status}: {data[:200]!r}"
    except Exception as exc:  # a failure to count, whatever it is
        ok, err = False, f"{type(exc).__name__}: {exc}"
    return ok, time.perf_counter() - t0, err


def run_model(host, port, model, notes, tempo, n_requests, n_warm) -> dict:
    def body(seed):
        name, _, style = model.partition("-")  # "gan-pop": the gan's band
        extra = {"style": style} if style else {}
        return json.dumps({"tempo": tempo, "time_signature": [4, 4], "notes": notes,
                           "model": name, "task": "accompany", "seed": seed,
                           **extra}).encode()

    warm = []
    for i in range(n_warm + 1):
        ok, secs, err = post(host, port, body(10_000 + i))
        if not ok:
            raise SystemExit(f"{model}: warm-up request failed: {err}")
        if i:  # the first call may still pay one-time costs
            warm.append(secs)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(n_requests) as pool:
        results = list(pool.map(lambda s: post(host, port, body(s)), range(n_requests)))
    wall = time.perf_counter() - t0
    lat = sorted(s for _, s, _ in results)
    errors = [e for ok, _, e in results if not ok]
    return {"model": model, "warm_median": statistics.median(warm), "requests": n_requests,
            "failures": len(errors), "first_error": errors[0] if errors else "",
            "load_median": statistics.median(lat), "load_p95": lat[int(0.95 * (len(lat) - 1))],
            "wall": wall, "throughput": n_requests / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", help="comma-separated (default: every model with weights)")
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--warm", type=int, default=5, help="sequential warm requests per model")
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = ap.parse_args()

    available = [r["name"] for r in describe_models() if r["weights"]]
    available += ["gan-pop"] if "gan" in available else []  # the band: gan --style pop
    models = args.models.split(",") if args.models else available
    missing = [m for m in models if m not in available]
    if missing or not models:
        raise SystemExit(f"no weights for {missing or 'any model'}; available: {available}")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    notes, tempo = melody_notes(args.bars)
    t0 = time.perf_counter()
    server = make_server("127.0.0.1", 0, preload=sorted({m.split("-")[0] for m in models}),
                         quiet=True)
    load_s = time.perf_counter() - t0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    print(f"server up in {load_s:.1f} s with {', '.join(models)}; melody: {TUNE}, "
          f"{args.bars} bars, {len(notes)} notes", file=sys.stderr)
    rows = []
    try:
        for m in models:
            rows.append(run_model(host, port, m, notes, tempo, args.requests, args.warm))
            print(f"{m}: done", file=sys.stderr)
    finally:
        server.shutdown()
        server.server_close()

    print(f"\n{args.requests} concurrent POST /compose per model, {args.bars}-bar melody, "
          f"accompany\n")
    print("| model | warm median (s) | requests | failures | median under load (s) | "
          "p95 under load (s) | wall (s) | requests/s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['warm_median']:.3f} | {r['requests']} | {r['failures']} | "
              f"{r['load_median']:.2f} | {r['load_p95']:.2f} | {r['wall']:.1f} | "
              f"{r['throughput']:.1f} |")
    for r in rows:
        if r["failures"]:
            print(f"\n{r['model']}: first failure: {r['first_error']}")
    if any(r["failures"] for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
