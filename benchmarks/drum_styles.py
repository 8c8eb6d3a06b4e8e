"""Drum styles of the band GAN (issue 13): the generated drums beside Groove's test split.

    python benchmarks/drum_styles.py [--seeds 32] [--bars 16] [--weights DIR | --run RUN_DIR]
                                     [--hold H] [--groove-temperature G] [--raw-velocity]
                                     [--json J] [--md MD]
    python benchmarks/drum_styles.py --tune-hold   # choose DrumKit.hold on the valid split

Per style (every style the drum kit offers): ``--seeds`` pieces of ``--bars`` bars of 4/4
(``DrumKit.play``, phrase 4, temperature 1). Columns (definitions in
``deepcompose/metrics/drums.py``):

- onsets/beat (target 2-8), kick+snare (share of pieces with both), every bar (share of
  pieces with an onset in every bar), velocity mean and s.d. and mean on / off the beat
  (accents), bar similarity (Jaccard of
  consecutive groove bars; fill bars skipped; real: the test ``beat`` takes);
- own / others: histogram intersection of the style's pooled 16-position onset profile
  with the same style's real profile on Groove's test split, and the mean over the other
  four of rock, funk, hiphop, jazz, latin; PASS when own > others (those five styles);
- the same for the real data: Groove's test takes (4/4, beat and fill) for the
  statistics, and for the overlap the *train* split's profile against the test profiles
  (what a model that reproduced its training data exactly would score), and the
  validation split's profile against them too; then the test takes per style and their
  share of onsets on the beat beside the train takes';
- ms/piece: median generation time of one piece (model loaded, one thread).

Then fills (fill bars against groove bars) and meters (3/4, 6/8, a pickup).
``--run`` reads a training run's ``gan_drums.safetensors`` or, while it trains, its
``checkpoint.pt``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deepcompose.data.groove import load_groove  # noqa: E402
from deepcompose.metrics import drums as M  # noqa: E402
from deepcompose.representations.drums import CLASS_NAMES, drum_class  # noqa: E402

TARGET = ("rock", "funk", "hiphop", "jazz", "latin")
TOMS = {CLASS_NAMES.index(n) for n in ("low_tom", "mid_tom", "high_tom")}


def load_kit(weights: str | None, run: str | None):
    from deepcompose.models.gan_drums import DrumKit

    if run is None:
        return DrumKit.load(weights) if weights else DrumKit.load()
    run = Path(run)
    if (run / "gan_drums.safetensors").exists():
        return DrumKit.load(run)
    import torch

    from deepcompose.models.gan_drums.net import DEFAULT_CONFIG, DEFAULT_STYLE, Generator
    from deepcompose.models.gan_drums.train import PhraseBank

    cfg = dict(DEFAULT_CONFIG)
    styles = PhraseBank(load_groove("train"), cfg["phrase_bars"]).styles
    gen = Generator(cfg, len(styles))
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    gen.load_state_dict(state["modules"]["generator"])
    print(f"(checkpoint at step {state['step']})")
    return DrumKit(gen, cfg, styles, DEFAULT_STYLE)


def real_stats(perfs) -> dict:
    counts, beats, onsets, both, bars, full = np.zeros(16), 0.0, 0, 0, 0, 0
    vels, sims, on, off = [], [], [], []
    for p in perfs:
        notes = p.notes()
        if p.beat_type == "beat":
            sims.append(M.bar_similarity(notes, p.n_bars * 4))
        counts += M.onset_counts(notes)
        n = -(-len(p.hits) // 16)  # bars, a last partial one (short fill takes) included
        beats += n * 4
        onsets += sum(1 for x in notes if x[1] < n * 4)
        k, s = M.has_kick_and_snare(notes)
        both += k and s
        cov, empty = M.bar_coverage(notes, n * 4) if n else (float("nan"), [])
        bars += n
        full += n - len(empty)
        vels += [x[3] for x in notes]
        on += [x[3] for x in notes if round(x[1] * 4) % 4 == 0]
        off += [x[3] for x in notes if round(x[1] * 4) % 4 != 0]
    return {"onsets_per_beat": onsets / max(beats, 1), "kick_snare": both / max(len(perfs), 1),
            "every_bar": full / max(bars, 1), "vel_mean": float(np.mean(vels)) if vels else 0,
            "vel_sd": float(np.std(vels)) if vels else 0, "counts": counts, "takes": len(perfs),
            "bar_sim": float(np.nanmean(sims)) if sims else float("nan"),
            "vel_on": float(np.mean(on)) if on else 0, "vel_off": float(np.mean(off)) if off else 0}


def generated_stats(kit, style: str, seeds: int, bars: int) -> dict:
    counts, rates, both, full, vels, times = np.zeros(16), [], 0, 0, [], []
    fill_toms, groove_toms, fill_rate, groove_rate, sims = [0, 0], [0, 0], [], [], []
    on, off = [], []
    for seed in range(seeds):
        t0 = time.perf_counter()
        notes = kit.play(bars * 4.0, 4.0, 0.0, (4, 4), style, seed=seed)
        times.append(time.perf_counter() - t0)
        counts += M.onset_counts(notes)
        rates.append(M.onsets_per_beat(notes, bars * 4.0))
        k, s = M.has_kick_and_snare(notes)
        both += k and s
        full += M.bar_coverage(notes, bars * 4.0)[0] == 1.0
        vels += [n[3] for n in notes]
        on += [n[3] for n in notes if round(n[1] * 4) % 4 == 0]
        off += [n[3] for n in notes if round(n[1] * 4) % 4 != 0]
        sims.append(M.bar_similarity(notes, bars * 4.0, skip={b for b in range(bars)
                                                              if b % 4 == 3}))
        for b in range(bars):
            in_bar = [n for n in notes if b * 4 <= round(n[1] * 4) / 4 < b * 4 + 4]
            fill = (b + 1) % 4 == 0
            toms = sum(drum_class(n[0]) in TOMS for n in in_bar)
            acc = fill_toms if fill else groove_toms
            acc[0] += toms
            acc[1] += len(in_bar)
            (fill_rate if fill else groove_rate).append(len(in_bar) / 4)
    return {"onsets_per_beat": float(np.mean(rates)), "kick_snare": both / seeds,
            "every_bar": full / seeds, "vel_mean": float(np.mean(vels)),
            "vel_sd": float(np.std(vels)), "counts": counts,
            "ms": 1000 * statistics.median(times), "bar_sim": float(np.nanmean(sims)),
            "vel_on": float(np.mean(on)), "vel_off": float(np.mean(off)),
            "fill_tom_share": fill_toms[0] / max(fill_toms[1], 1),
            "groove_tom_share": groove_toms[0] / max(groove_toms[1], 1),
            "fill_rate": float(np.mean(fill_rate)), "groove_rate": float(np.mean(groove_rate))}


def meter_checks(kit, style: str, seeds: int) -> list[dict]:
    """Per case: share of bars with drums and share of bars whose first step holds a kick
    or crash (a bar line the drums mark), over ``seeds`` 8-bar pieces."""
    cases = [("4/4", 4.0, 0.0, (4, 4)), ("3/4", 3.0, 0.0, (3, 4)), ("6/8", 3.0, 0.0, (6, 8)),
             ("4/4, 1-beat pickup", 4.0, 1.0, (4, 4)), ("5/4", 5.0, 0.0, (5, 4))]
    out = []
    for name, bpb, first, ts in cases:
        length = first + 8 * bpb
        covered, marked, n_bars, picked = 0, 0, 0, 0
        for seed in range(seeds):
            notes = kit.play(length, bpb, first, ts, style, seed=seed)
            for b in range(8):
                a = first + b * bpb
                in_bar = [x for x in notes if a <= round(x[1] * 4) / 4 < a + bpb]
                covered += bool(in_bar)
                marked += any(round(x[1] * 4) / 4 == a and drum_class(x[0]) in (0, 7)
                              for x in in_bar)
                n_bars += 1
            picked += sum(1 for x in notes if round(x[1] * 4) / 4 < first)
        out.append({"case": name, "style": style, "bars_with_drums": covered / n_bars,
                    "downbeat_kick_or_crash": marked / n_bars,
                    "pickup_onsets": picked / seeds if first else None})
    return out


def on_beat(counts) -> float:
    """Share of a 16-position profile's onsets on the quarter-note beats."""
    counts = np.asarray(counts, float)
    return float(counts[::4].sum() / counts.sum()) if counts.sum() else float("nan")


def real_meter_marks() -> dict:
    out = {}
    for p in load_groove():
        if p.beat_type != "beat" or p.time_signature not in ((4, 4), (3, 4), (6, 8)):
            continue
        key = f"{p.time_signature[0]}/{p.time_signature[1]}"
        b = p.bars()
        busy = b[..., 0].sum((1, 2)) > 0
        mark = (b[:, 0, [0, 7], 0].sum(-1) > 0)[busy]
        acc = out.setdefault(key, [0, 0])
        acc[0] += int(mark.sum())
        acc[1] += int(busy.sum())
    return {k: v[0] / max(v[1], 1) for k, v in out.items()}


def tune_hold(kit, seeds: int, bars: int) -> float:
    """Pick ``DrumKit.hold`` on the *validation* split: the value in 0, 0.1, ..., 1 whose
    mean bar similarity over the styles with validation beat takes (4/4) is closest to
    the real takes' mean. Prints the sweep; returns the choice."""
    valid = [p for p in load_groove("valid", beat_type="beat")
             if p.time_signature == (4, 4) and p.style in kit.styles and p.n_bars > 1]
    styles = sorted({p.style for p in valid})
    real = float(np.mean([np.nanmean([M.bar_similarity(p.notes(), p.n_bars * 4)
                                      for p in valid if p.style == s]) for s in styles]))
    skip = {b for b in range(bars) if b % 4 == 3}
    best, rows = None, []
    for hold in np.round(np.arange(0, 1.01, 0.1), 2):
        kit.hold = float(hold)
        gen = float(np.mean([np.nanmean([
            M.bar_similarity(kit.play(bars * 4.0, 4.0, 0.0, (4, 4), s, seed=1000 + seed),
                             bars * 4.0, skip=skip) for seed in range(seeds)]) for s in styles]))
        rows.append((float(hold), gen))
        if best is None or abs(gen - real) < abs(best[1] - real):
            best = (float(hold), gen)
    print(f"hold sweep on the validation split ({', '.join(styles)}; real {real:.3f}): "
          + ", ".join(f"{h:.1f}: {g:.3f}" for h, g in rows) + f" -> hold {best[0]}")
    return best[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=32)
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--weights", default=None, help="weights folder (default: shipped)")
    ap.add_argument("--run", default=None, help="a training run folder instead")
    ap.add_argument("--hold", type=float, default=None,
                    help="override DrumKit.hold (0 = independent draws per bar)")
    ap.add_argument("--groove-temperature", type=float, default=None,
                    help="override DrumKit.groove_temperature (1 = the generator's own)")
    ap.add_argument("--raw-velocity", action="store_true",
                    help="skip the velocity calibration (the ablation)")
    ap.add_argument("--tune-hold", action="store_true",
                    help="only sweep DrumKit.hold on the validation split and print it")
    ap.add_argument("--json", default=None)
    ap.add_argument("--md", default=None)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    kit = load_kit(args.weights, args.run)
    load_s = time.perf_counter() - t0
    if args.tune_hold:
        tune_hold(kit, args.seeds, args.bars)
        return 0
    if args.hold is not None:
        kit.hold = args.hold
    if args.groove_temperature is not None:
        kit.groove_temperature = args.groove_temperature
    if args.raw_velocity:
        kit.velocity_map = None
    test = [p for p in load_groove("test") if p.time_signature == (4, 4)]
    train = [p for p in load_groove("train") if p.time_signature == (4, 4)]
    real = {s: real_stats([p for p in test if p.style == s]) for s in kit.styles}
    train_counts = {s: real_stats([p for p in train if p.style == s])["counts"]
                    for s in TARGET}
    valid = [p for p in load_groove("valid") if p.time_signature == (4, 4)]
    valid_counts = {s: real_stats([p for p in valid if p.style == s])["counts"]
                    for s in TARGET}
    gen = {s: generated_stats(kit, s, args.seeds, args.bars) for s in kit.styles}

    test_styles = [s for s in kit.styles if real[s]["takes"]]
    ov_gen = M.style_overlap({s: gen[s]["counts"] for s in TARGET},
                             {s: real[s]["counts"] for s in TARGET}, TARGET)
    ov_real = M.style_overlap(train_counts, {s: real[s]["counts"] for s in TARGET}, TARGET)
    ov_valid = M.style_overlap(valid_counts, {s: real[s]["counts"] for s in TARGET}, TARGET)

    vmap = "on" if kit.velocity_map is not None else "off"
    lines = [f"Drum styles: {args.seeds} seeds x {args.bars} bars of 4/4 per style (hold "
             f"{kit.hold}, groove temperature {kit.groove_temperature}, velocity map {vmap}, "
             f"no melody: median song conditions); real = Groove test split (4/4 takes); "
             "overlap 'real' = train-split profile vs test; bar similarity = Jaccard of "
             "consecutive groove bars.",
             "",
             "| style | onsets/beat gen (real) | kick+snare gen (real) | every bar gen (real) "
             "| velocity mean/sd, on-/off-beat gen (real) | bar similarity gen (real) "
             "| own / others gen | own / others real | PASS | ms/piece |",
             "|---|---|---|---|---|---|---|---|---|---|"]

    def f(x, d=2):
        return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{d}f}"

    for s in kit.styles:
        g, r = gen[s], real[s]
        has = bool(r["takes"])
        if s in TARGET:
            og, orl = ov_gen[s], ov_real[s]
            own = f"{og['own']:.3f} / {og['others']:.3f}"
            ownr = f"{orl['own']:.3f} / {orl['others']:.3f}"
            verdict = "PASS" if og["pass"] else "FAIL"
        else:
            own = (f"{M.histogram_intersection(g['counts'], r['counts']):.3f} / -"
                   if has else "- (no test takes)")
            ownr, verdict = "-", "n/a"

        def rr(k, d=2, r=r, has=has):
            return f(r[k], d) if has else "-"

        lines.append(
            f"| {s} | {f(g['onsets_per_beat'])} ({rr('onsets_per_beat')}) "
            f"| {f(g['kick_snare'])} ({rr('kick_snare')}) | {f(g['every_bar'])} "
            f"({rr('every_bar')}) | {g['vel_mean']:.0f}/{g['vel_sd']:.0f}, "
            f"{g['vel_on']:.0f}/{g['vel_off']:.0f} ({rr('vel_mean', 0)}/{rr('vel_sd', 0)}, "
            f"{rr('vel_on', 0)}/{rr('vel_off', 0)}) | {f(g['bar_sim'])} ({rr('bar_sim')}) "
            f"| {own} | {ownr} | {verdict} "
            f"| {g['ms']:.0f} |")
    passed = sum(ov_gen[s]["pass"] for s in TARGET)
    dens_ok = all(2 <= gen[s]["onsets_per_beat"] <= 8 for s in kit.styles)
    ks_ok = all(gen[s]["kick_snare"] == 1 for s in kit.styles)
    cov_ok = all(gen[s]["every_bar"] == 1 for s in kit.styles)
    lines += ["", f"style overlap: {passed}/5 of {', '.join(TARGET)} PASS (real train split: "
              f"{sum(ov_real[s]['pass'] for s in TARGET)}/5, real validation split: "
              f"{sum(ov_valid[s]['pass'] for s in TARGET)}/5); onsets/beat in 2-8 for every "
              f"style: {dens_ok}; kick+snare in every piece: {ks_ok}; drums in every bar: "
              f"{cov_ok}; model load {load_s:.2f} s",
              "",
              "Groove's test takes per style (4/4) and the share of onsets on the beat, "
              "test / train: " + "; ".join(
                  f"{s} {real[s]['takes']} takes {on_beat(real[s]['counts']):.2f} / "
                  f"{on_beat(train_counts[s]):.2f}" for s in TARGET),
              "",
              "Fills (every 4th bar) against groove bars, generated: onsets/beat fill vs groove, "
              "tom share of onsets fill vs groove",
              "", "| style | onsets/beat fill / groove | toms fill / groove |", "|---|---|---|"]
    for s in TARGET + ("pop",):
        if s in gen:
            g = gen[s]
            lines.append(f"| {s} | {g['fill_rate']:.2f} / {g['groove_rate']:.2f} "
                         f"| {g['fill_tom_share']:.3f} / {g['groove_tom_share']:.3f} |")
    fills = [p for p in load_groove("train", beat_type="fill") if p.time_signature == (4, 4)]
    ft = sum(int(p.hits[:, sorted(TOMS)].sum()) for p in fills) / max(
        sum(int(p.hits.sum()) for p in fills), 1)
    bt = sum(int(p.hits[:, sorted(TOMS)].sum()) for p in train if p.beat_type == "beat")
    bt /= max(sum(int(p.hits.sum()) for p in train if p.beat_type == "beat"), 1)
    lines += ["", f"real (train): tom share in fill takes {ft:.3f}, in beat takes {bt:.3f}"]
    marks = real_meter_marks()
    lines += ["", "Meters (8 bars, seeds as above): bars with drums, bars whose downbeat has "
              "a kick or crash (real Groove beat takes: "
              + ", ".join(f"{k} {v:.2f}" for k, v in sorted(marks.items())) + ")", "",
              "| case | style | bars with drums | downbeat kick/crash | onsets in pickup (mean) |",
              "|---|---|---|---|---|"]
    meters = []
    for style in ("rock", "jazz"):
        for row in meter_checks(kit, style, args.seeds):
            meters.append(row)
            pick = "-" if row["pickup_onsets"] is None else f"{row['pickup_onsets']:.1f}"
            lines.append(f"| {row['case']} | {style} | {row['bars_with_drums']:.2f} "
                         f"| {row['downbeat_kick_or_crash']:.2f} "
                         f"| {pick} |")
    text = "\n".join(lines)
    print(text)
    if args.md:
        Path(args.md).write_text(text + "\n")
    if args.json:
        dump = {"generated": {s: {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                  for k, v in g.items()} for s, g in gen.items()},
                "real_test": {s: {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                  for k, v in r.items()} for s, r in real.items()},
                "overlap_generated": ov_gen, "overlap_real_train": ov_real,
                "overlap_real_valid": ov_valid,
                "meters": meters, "real_meter_marks": marks, "test_styles": test_styles}
        Path(args.json).write_text(json.dumps(dump, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
