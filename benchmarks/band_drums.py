"""Drums under songs (issue 21): the band's drums on POP909's held-out validation songs.

    python benchmarks/band_drums.py [--seeds 1 2] [--bars 16] [--style pop]
                                    [--weights DIR | --run RUN_DIR] [--deaf]
                                    [--no-song-draws] [--hold H] [--groove-temperature G]
                                    [--clipped]
                                    [--split valid|train] [--limit N] [--md MD]
    python benchmarks/band_drums.py --reference   # POP909 train deciles of song_features

For each validation song (``deepcompose.data.pop909``, ids divisible by 10) the window is
its first ``--bars`` bars from the bar line of its first melody note (``PopSong.window``),
and the drums are what the band plan plays there: ``DrumKit.play`` with the window's
bars, the melody's notes and the song's tempo (from POP909's beat annotations: the
median beat interval). Per seed, over the songs (definitions in
``deepcompose/metrics/drums.py``):

- kick on beat 1 and backbeat (snare on both 2 and 4): shares of the *groove* bars of
  the 4/4 songs (fill bars, as the kit planned them, left out), pooled; and the share of
  songs whose groove bars have a backbeat at least half the time (a steady backbeat);
- distinct parts: how many different drum parts (onset sets) the songs got, of how many;
- drums in every bar: share of songs with an onset in every bar;
- onsets per beat, fills per 16 bars, and the rank correlation between each phrase's
  melody density and drum density (does the drummer follow the song's energy).

Then the pop hook (``compose --example pop-hook --model gan --style pop``): its snare
velocities and bars whose snare hits all four beats. ``--deaf`` plays without the melody
and tempo (the drums before issue 21 did not get them); ``--no-song-draws`` draws from the
seed alone (``DrumKit.song_draws``), ``--clipped`` keeps Groove's velocity deciles
clipped at 127 (``DrumKit.ceiling``): the ablations of the card. Real reference: Groove's
pop and rock ``beat`` takes (4/4, all splits), every bar.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deepcompose.metrics import drums as M  # noqa: E402
from deepcompose.representations.drums import SNARE, drum_class  # noqa: E402

TARGET_KICK, TARGET_BACKBEAT = 0.65, 0.50


def song_bpm(song_id: int) -> float:
    """The song's tempo from its beat annotations: 60 / the median beat interval."""
    from deepcompose.data.pop909 import POP909_DIR

    beats = np.loadtxt(POP909_DIR / f"{song_id:03d}" / "beat_midi.txt", ndmin=2)[:, 0]
    return float(60.0 / np.median(np.diff(beats)))


def songs(bars: int, limit: int | None, split: str = "valid") -> list[dict]:
    from deepcompose.data.pop909 import load_song, song_ids

    ids = song_ids(split)
    out = []
    for sid in ids[:limit] if limit else ids:
        s = load_song(sid)
        w = s.window(bars)
        if w is None or not w[0]:
            continue
        out.append({"id": sid, "melody": w[0], "length": w[3], "bpb": s.beats_per_bar,
                    "bpm": song_bpm(sid)})
    return out


def real_reference() -> dict:
    """Kick on 1 / backbeat shares of Groove's pop and rock beat takes (4/4, all splits)."""
    from deepcompose.data.groove import load_groove

    out = {}
    for style in ("pop", "rock"):
        k, b = [], []
        for p in load_groove(None, beat_type="beat"):
            if p.style != style or p.time_signature != (4, 4):
                continue
            notes, bars = p.notes(), p.bars()
            silent = {i for i in range(p.n_bars) if bars[i, :, :, 0].sum() == 0}
            k.append(M.kick_on_one_counts(notes, p.n_bars * 4, skip=silent))
            b.append(M.backbeat_counts(notes, p.n_bars * 4, skip=silent))
        out[style] = (M.share(k), M.share(b))
    return out


def phrase_follow(notes, melody, plan, length: float) -> list[tuple[float, float]]:
    """(melody onsets per beat, drum onsets per beat) of each phrase of the plan."""
    fills, out, start = plan["bar_fills"], [], 0
    for i, f in enumerate(fills):
        if f or i == len(fills) - 1:
            a, b = start * 4.0, min((i + 1) * 4.0, length)
            if b > a:
                out.append((sum(a <= n[1] < b for n in melody) / (b - a),
                            sum(a <= n[1] < b for n in notes) / (b - a)))
            start = i + 1
    return out


def spearman(pairs) -> float:
    from deepcompose.models.gan_drums.song_features import ranks

    if len(pairs) < 3:
        return float("nan")
    a, b = (ranks([p[i] for p in pairs]) for i in (0, 1))
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def evaluate(kit, data, style: str, seed: int, deaf: bool) -> dict:
    kick, back, parts, full, dens, fills, follow, times = [], [], [], 0, [], [], [], []
    for s in data:
        ts = (4, 4) if s["bpb"] == 4 else (3, 4)
        melody = None if deaf else s["melody"]
        tempo = None if deaf else s["bpm"]
        t0 = time.perf_counter()
        plan = kit.plan(s["length"], float(s["bpb"]), 0.0, ts, style, melody=melody,
                        tempo=tempo)
        notes = kit.render(plan, seed)
        times.append(time.perf_counter() - t0)
        parts.append(notes)
        skip = {i for i, f in enumerate(plan["bar_fills"]) if f}
        if s["bpb"] == 4:
            kick.append(M.kick_on_one_counts(notes, s["length"], 4.0, 0.0, skip))
            back.append(M.backbeat_counts(notes, s["length"], 4.0, 0.0, skip))
            follow += phrase_follow(notes, s["melody"], plan, s["length"])
        full += M.bar_coverage(notes, s["length"], float(s["bpb"]))[0] == 1.0
        dens.append(M.onsets_per_beat(notes, s["length"]))
        fills.append(sum(plan["bar_fills"]) * 16 / max(len(plan["bar_fills"]), 1))
    steady = [M.share(b) >= 0.5 for b in back if b[1]]
    return {"kick": M.share(kick), "backbeat": M.share(back),
            "steady": float(np.mean(steady)) if steady else float("nan"),
            "distinct": M.distinct_parts(parts), "songs": len(data),
            "every_bar": full / max(len(data), 1), "onsets_per_beat": float(np.mean(dens)),
            "fills_per_16": float(np.mean(fills)), "follow": spearman(follow),
            "ms": 1000 * float(np.median(times))}


def hook(kit, style: str, seed: int, deaf: bool) -> dict:
    """The bundled pop hook as the band plan plays it: snare velocities, and bars whose
    snare hits all four beats."""
    from deepcompose import melodies
    from deepcompose.plans.band import meter_of

    song = melodies.load("pop-hook")
    notes = [(n.pitch, n.start, n.end, n.velocity) for n in song.tracks[0].notes]
    bpb, first, ts = meter_of(song)
    length = max(n[2] for n in notes)
    hits = kit.play(length, bpb, first, ts, style, seed=seed,
                    melody=None if deaf else notes, tempo=None if deaf else song.tempos[0][1])
    snare = [h for h in hits if drum_class(h[0]) == SNARE]
    vel = [h[3] for h in snare]
    bars = int(length // bpb)
    four = sum(all(any(round((h[1] - first) * 4) == b * 16 + 4 * k for h in snare)
                   for k in range(4)) for b in range(bars))
    return {"snare": len(snare), "vel_max": max(vel, default=0),
            "vel_ge_120": sum(v >= 120 for v in vel), "vel_mean": float(np.mean(vel or [0])),
            "four_on_snare_bars": four, "bars": bars}


def reference() -> None:
    """Deciles of POP909's training melodies for ``song_features`` (density, odd-16th share)
    and their tempi."""
    from deepcompose.data.pop909 import load_song, song_ids
    from deepcompose.models.gan_drums.song_features import melody_steps, odd_share

    dens, sync, bpms = [], [], []
    for sid in song_ids("train"):
        s = load_song(sid)
        steps = melody_steps(s.notes("melody"))
        if len(steps) < 8:
            continue
        dens.append(len(steps) / ((steps[-1] - steps[0]) / 4 + 1))
        sync.append(odd_share(steps))
        bpms.append(song_bpm(sid))
    q = np.linspace(0, 1, 11)
    for name, v in (("density", dens), ("sync", sync), ("bpm", bpms)):
        print(name, np.round(np.quantile(v, q), 3).tolist())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--style", default=None, help="drum feel (default: the kit's)")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--run", default=None)
    ap.add_argument("--deaf", action="store_true", help="no melody or tempo (the ablation)")
    ap.add_argument("--no-song-draws", action="store_true")
    ap.add_argument("--groove-temperature", type=float, default=None,
                    help="override DrumKit.groove_temperature (1 = the generator's own)")
    ap.add_argument("--hold", type=float, default=None)
    ap.add_argument("--clipped", action="store_true",
                    help="Groove's velocity deciles as measured (DrumKit.ceiling None)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--split", default="valid")
    ap.add_argument("--md", default=None)
    ap.add_argument("--reference", action="store_true")
    args = ap.parse_args(argv)
    if args.reference:
        reference()
        return 0
    from drum_styles import load_kit

    kit = load_kit(args.weights, args.run)
    if args.no_song_draws:
        kit.song_draws = False
    if args.hold is not None:
        kit.hold = args.hold
    if args.groove_temperature is not None:
        kit.groove_temperature = args.groove_temperature
    if args.clipped:
        kit.ceiling = None
    style = args.style or kit.default_style
    data = songs(args.bars, args.limit, args.split)
    real = real_reference()
    n4 = sum(s["bpb"] == 4 for s in data)
    mode = "deaf (no melody, no tempo)" if args.deaf else "with each song's melody and tempo"
    lines = [f"Band drums ({style}) on {len(data)} POP909 {args.split} songs ({n4} in 4/4), "
             f"first {args.bars} bars, {mode}; song draws {kit.song_draws}, hold {kit.hold}, "
             f"groove temperature {kit.groove_temperature}. "
             f"Real Groove beat takes: pop kick on 1 {real['pop'][0]:.2f}, backbeat "
             f"{real['pop'][1]:.2f}; rock {real['rock'][0]:.2f} / {real['rock'][1]:.2f}.", "",
             "| seed | kick on 1 (>= 0.65) | backbeat 2+4 (>= 0.50) | songs with a backbeat in "
             "half their groove bars | distinct parts | "
             "drums in every bar | onsets/beat | fills / 16 bars | phrase density follow "
             "(Spearman) | ms/song |", "|---|---|---|---|---|---|---|---|---|---|"]
    ok = True
    for seed in args.seeds:
        r = evaluate(kit, data, style, seed, args.deaf)
        ok &= r["kick"] >= TARGET_KICK and r["backbeat"] >= TARGET_BACKBEAT \
            and r["distinct"] == r["songs"] and r["every_bar"] == 1.0
        lines.append(f"| {seed} | {r['kick']:.3f} | {r['backbeat']:.3f} | {r['steady']:.2f} "
                     f"| {r['distinct']} of "
                     f"{r['songs']} | {r['every_bar']:.2f} | {r['onsets_per_beat']:.2f} | "
                     f"{r['fills_per_16']:.1f} | {r['follow']:.2f} | {r['ms']:.0f} |")
    lines += ["", "Pop hook (band plan's call): snare hits, max velocity, hits >= 120, mean, "
              "bars with snare on all four beats", "",
              "| seed | snare hits | max vel | >= 120 | mean vel | 4-on-snare bars |",
              "|---|---|---|---|---|---|"]
    for seed in (0, *args.seeds):
        h = hook(kit, style, seed, args.deaf)
        lines.append(f"| {seed} | {h['snare']} | {h['vel_max']} | {h['vel_ge_120']} | "
                     f"{h['vel_mean']:.0f} | {h['four_on_snare_bars']} of {h['bars']} |")
    lines += ["", f"all song targets met: {ok}"]
    text = "\n".join(lines)
    print(text)
    if args.md:
        Path(args.md).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
