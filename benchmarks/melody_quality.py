"""Melody continuation quality per style on validation pieces never trained on (issue 25).

    python benchmarks/melody_quality.py [--styles pop,folk,classical] [--pieces 40]
                                        [--seeds 1,2] [--json out.json] [--before]
                                        [--skip N] [--continue-only] [--weights DIR]
                                        [--roll docs/melody-roll.png --roll-piece NAME]
                                        [--allow-empty-bars]

For each style, the first ``--pieces`` validation pieces with 16 bars or more
(``data.melody_lines``: POP909 valid songs from the first sung bar, valid folk tunes,
violin I of the valid quartet movements): the first 8 bars (after a pickup, if any) go to
``deepcompose.compose(model="transformer", style=STYLE, task="continue", bars=8)`` and the
8 new bars are compared with the real next 8 bars (``deepcompose.metrics.melody``), each
measure computed the same way on both. Pop also runs with the real chords given
(``chords=``) and reports the on-beat chord-tone share. ``--before`` adds the chorale
transformer (today's ``--model transformer`` default) as a column: its top line.

Also printed: infill of bars 5-6 of each piece's first 8 bars (notes outside untouched,
notes per bar in the hole against the 8 bars' own), valid NLL per note against an order-3
n-gram on the same tokens (``melody_ngram.py``), and the hook-to-song check
(``compose --example pop-hook --model gan --style pop --task continue --bars 8``).
Every threshold of the issue is printed as PASS/FAIL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deepcompose import compose  # noqa: E402
from deepcompose.chords import class_label  # noqa: E402
from deepcompose.data.melody_lines import load_lines  # noqa: E402
from deepcompose.metrics import melody as mm  # noqa: E402
from deepcompose.representations.melody_tokens import TICKS  # noqa: E402
from deepcompose.song import Note, Song, Track  # noqa: E402

PROMPT_BARS = NEW_BARS = 8
DURATION_FLOOR = {"pop": 0.80, "folk": 0.80, "classical": 0.75}


def line_beats(line) -> tuple[list, list, list, float]:
    """A ``Line`` -> notes ``(pitch, start, end)``, bar spans ``[(start, end)]`` and chords
    ``(start, end, label)`` in beats (bar 0 at beat 0), and the pickup in beats."""
    notes, spans, chords, t = [], [], [], 0.0
    for bar in line.bars:
        length = bar.length / TICKS
        for pos, pitch, dur in bar.notes:
            s = t + (pos - bar.offset) / TICKS
            notes.append((pitch, s, s + dur / TICKS))
        for pos, c in bar.chords:
            chords.append([t + (pos - bar.offset) / TICKS, None, class_label(c)])
        spans.append((t, t + length))
        t += length
    for a, b in zip(chords, chords[1:], strict=False):
        a[1] = b[0]
    if chords:
        chords[-1][1] = t
    pickup = spans[0][1] if line.bars and line.bars[0].offset > 0 else 0.0
    return notes, spans, [tuple(c) for c in chords if c[1] > c[0]], pickup


def pieces(style: str, count: int, offset: int = 0) -> list:
    """The first ``count`` usable validation pieces after the first ``offset`` (``--skip``: a
    tuning set apart from the reported one)."""
    out, seen = [], 0
    for line in load_lines(style, "valid"):
        notes, spans, chords, pickup = line_beats(line)
        skip = 1 if pickup else 0
        if len(spans) < skip + PROMPT_BARS + NEW_BARS:
            continue
        prompt_spans = spans[:skip + PROMPT_BARS]
        real_spans = spans[skip + PROMPT_BARS:skip + PROMPT_BARS + NEW_BARS]
        cut = prompt_spans[-1][1]
        prompt = [n for n in notes if n[1] < cut - 1e-6]
        real = [n for n in notes if cut - 1e-6 <= n[1] < real_spans[-1][1] - 1e-6]
        if not prompt or not real:
            continue
        seen += 1
        if seen <= offset:
            continue
        meters = [(0.0, *line.bars[0].meter)]
        for bar, (a, _) in zip(line.bars[1:skip + PROMPT_BARS], spans[1:], strict=False):
            if bar.meter != meters[-1][1:]:
                meters.append((a, *bar.meter))
        out.append({"name": line.name, "prompt": prompt, "real": real, "pickup": pickup,
                    "prompt_spans": prompt_spans, "real_spans": real_spans, "meters": meters,
                    "chords": [c for c in chords if c[0] < real_spans[-1][1]]})
        if len(out) == count:
            break
    return out


def prompt_song(p) -> Song:
    """The first 8 bars as a song (a note held over the last bar line is cut there)."""
    cut = p["prompt_spans"][-1][1]
    notes = [Note(int(a), s, min(e, cut) - 1e-3 if min(e, cut) - s > 2e-3 else min(e, cut), 90)
             for a, s, e in p["prompt"]]
    return Song(tracks=[Track("Melody", 0, False, notes)], tempos=[(0.0, 100.0)],
                time_signatures=p["meters"], pickup=p["pickup"])


SAMPLING: dict = {}  # --top-p / --temperature for the melody transformer (default: its own)


def continuation(p, style: str, seed: int, model: str = "transformer", chords=None):
    """The new notes (top line) and their bar spans, as composed."""
    kw = {"style": style, **SAMPLING} if style else {}
    if chords:
        kw["chords"] = [list(c) for c in chords]
    out = compose(prompt_song(p), model=model, task="continue", bars=NEW_BARS, seed=seed, **kw)
    cut = p["prompt_spans"][-1][1]
    onsets: dict = {}
    for t in out.tracks:
        for n in t.notes:
            if n.start >= cut - 1e-6 and (n.start not in onsets or n.pitch > onsets[n.start][0]):
                onsets[n.start] = (n.pitch, n.start, n.end)
    bar_map = out.bar_map()
    first = bar_map.index(cut + 1e-6)
    spans = [bar_map.span(k, k) for k in range(first, first + NEW_BARS)]
    return sorted(onsets.values(), key=lambda n: n[1]), spans


def pooled(rows: list[dict]) -> dict:
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if not k.endswith("hist")}
    for k in ("duration_hist", "interval_hist"):
        out[k] = np.sum([r[k] for r in rows], axis=0)
    return out


def judge(style: str, real: dict, gen: dict) -> list[tuple[str, str, str, bool]]:
    """(measure, real, generated, pass) rows against the issue's thresholds."""
    dur, itv = (mm.overlap(real[k], gen[k]) for k in ("duration_hist", "interval_hist"))
    rows = [
        ("notes per bar (within 20%)", f"{real['notes_per_bar']:.2f}",
         f"{gen['notes_per_bar']:.2f}",
         abs(gen["notes_per_bar"] - real["notes_per_bar"]) <= 0.2 * real["notes_per_bar"]),
        ("off-beat onsets (within 0.10)", f"{real['offbeat_share']:.2f}",
         f"{gen['offbeat_share']:.2f}", abs(gen["offbeat_share"] - real["offbeat_share"]) <= .1),
        (f"duration histogram overlap (>= {DURATION_FLOOR[style]:.2f})", "1", f"{dur:.2f}",
         dur >= DURATION_FLOOR[style]),
        ("interval histogram overlap (>= 0.80)", "1", f"{itv:.2f}", itv >= 0.80),
        ("pitch-class similarity to the prompt (>= real - 0.05)",
         f"{real['pc_similarity']:.2f}", f"{gen['pc_similarity']:.2f}",
         gen["pc_similarity"] >= real["pc_similarity"] - 0.05),
        ("bars reusing a prompt bar's rhythm (>= real / 2)", f"{real['rhythm_reuse']:.2f}",
         f"{gen['rhythm_reuse']:.2f}", gen["rhythm_reuse"] >= real["rhythm_reuse"] / 2),
        ("bars copying a prompt bar (<= real + 0.15)", f"{real['copy_share']:.2f}",
         f"{gen['copy_share']:.2f}", gen["copy_share"] <= real["copy_share"] + 0.15),
        ("new bars with notes (>= 0.90)", f"{real['filled_share']:.2f}",
         f"{gen['filled_share']:.2f}", gen["filled_share"] >= 0.90),
    ]
    return rows


def run_style(style: str, count: int, seeds: list[int], before: bool, skip: int = 0) -> dict:
    ps = pieces(style, count, skip)
    real = pooled([mm.continuation_measures(p["prompt"], p["prompt_spans"], p["real"],
                                            p["real_spans"]) for p in ps])
    result = {"pieces": len(ps), "real": real, "seeds": {}}
    t0 = time.time()
    for seed in seeds:
        rows = []
        for p in ps:
            new, spans = continuation(p, style, seed)
            rows.append(mm.continuation_measures(p["prompt"], p["prompt_spans"], new, spans))
        result["seeds"][seed] = pooled(rows)
    result["seconds_per_piece"] = (time.time() - t0) / max(1, len(ps) * len(seeds))
    if before:
        rows = []
        for p in ps:
            new, spans = continuation(p, None, seeds[0])
            rows.append(mm.continuation_measures(p["prompt"], p["prompt_spans"], new, spans))
        result["before"] = pooled(rows)
    if style == "pop":
        result["chord_tones"] = chord_tones(ps, seeds[0])
    return result


def chord_tones(ps, seed: int) -> dict:
    """On-beat chord-tone share of the real next bars and of a continuation over the real
    chords (pieces with chords)."""
    real, gen = [], []
    for p in ps:
        if not p["chords"]:
            continue
        new, _ = continuation(p, "pop", seed, chords=p["chords"])
        r, g = mm.chord_tone_share(p["real"], p["chords"]), mm.chord_tone_share(new, p["chords"])
        if r is not None and g is not None:
            real.append(r)
            gen.append(g)
    return {"real": float(np.mean(real)), "generated": float(np.mean(gen)), "pieces": len(real)}


def infill_check(style: str, count: int, seed: int) -> dict:
    """Bars 5-6 of each piece's first 8 bars written again: outside untouched? density?"""
    untouched, hole_npb, hook_npb = [], [], []
    for p in pieces(style, count):
        song = prompt_song(p)
        first = 1 if p["pickup"] else 0
        a, b = p["prompt_spans"][first + 4][0], p["prompt_spans"][first + 5][1]
        out = compose(song, model="transformer", style=style, task="infill", bars="5:6",
                      seed=seed)
        keep = [n for n in song.tracks[0].notes if not (a - 1e-6 <= n.start < b - 1e-6)]
        got = [n for n in out.tracks[0].notes if not (a - 1e-6 <= n.start < b - 1e-6)]
        untouched.append(keep == got)
        hole_npb.append(sum(a - 1e-6 <= n.start < b - 1e-6 for n in out.tracks[0].notes) / 2)
        hook_npb.append(len(p["prompt"]) / PROMPT_BARS)
    return {"untouched": float(np.mean(untouched)), "hole_notes_per_bar":
            float(np.mean(hole_npb)), "hook_notes_per_bar": float(np.mean(hook_npb))}


def hook_to_song(seed: int = 1) -> dict:
    out = compose(str(Path(__file__).resolve().parent.parent / "deepcompose" / "melodies"
                      / "pop-hook.json"), model="gan", style="pop", task="continue", bars=8,
                  seed=seed)
    bar_map = out.bar_map()
    spans = [bar_map.span(k, k) for k in range(1, 17)]
    sounding = {}
    for t in out.tracks:
        sounding[t.name] = [any(n.start < e and n.end > s for n in t.notes) for s, e in spans]
    melody_all = all(sounding[out.tracks[0].name])
    late = {name: sum(v[8:]) for name, v in sounding.items() if name != out.tracks[0].name}
    from deepcompose.metrics.cadence import final_bass_home, last_note

    mel = [(n.pitch, n.start, n.end) for n in out.tracks[0].notes]
    band = [[(n.pitch, n.start, n.end) for n in t.notes] for t in out.tracks[1:]
            if not t.is_drum]
    last = last_note(mel)
    return {"melody_in_all_16_bars": melody_all, "bars_9_16_each_part_sounds_in": late,
            "pass": melody_all and all(late.values()),
            "last_note": (int(last[0]), float(last[1]), float(last[2])),
            "bass_home_under_it": bool(final_bass_home(mel, band))}


def draw_roll(path: str, style: str, name: str, seed: int) -> None:
    """Two piano rolls of one piece: the prompt and the real next 8 bars above, the prompt
    and the model's 8 bars below (bar lines; the prompt grey, the new bars coloured)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = next(x for x in pieces(style, 10_000) if x["name"] == name)
    new, spans = continuation(p, style, seed)
    fig, axes = plt.subplots(2, 1, figsize=(14, 6), sharex=True, sharey=True)
    for ax, notes, title, colour in ((axes[0], p["real"], "the real next 8 bars", "#2a7"),
                                     (axes[1], new, f"the model's 8 bars (seed {seed})",
                                      "#c43")):
        for q, a, b in p["prompt"]:
            ax.add_patch(plt.Rectangle((a, q - 0.4), b - a, 0.8, color="#888"))
        for q, a, b in notes:
            ax.add_patch(plt.Rectangle((a, q - 0.4), b - a, 0.8, color=colour))
        for a, _ in p["prompt_spans"] + p["real_spans"]:
            ax.axvline(a, color="#ddd", lw=0.6, zorder=0)
        ax.axvline(p["prompt_spans"][-1][1], color="#333", lw=1.2)
        ax.set_title(f"{name}: the first 8 bars (grey), then {title}", fontsize=10, loc="left")
        ax.set_ylabel("MIDI pitch")
    pitches = [n[0] for n in p["prompt"] + p["real"] + new]
    axes[0].set_ylim(min(pitches) - 2, max(pitches) + 2)
    axes[0].set_xlim(0, p["real_spans"][-1][1])
    axes[1].set_xlabel("beats")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--styles", default="pop,folk,classical")
    ap.add_argument("--pieces", type=int, default=40)
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--skip", type=int, default=0,
                    help="skip the first N pieces (tune sampling on others than reported)")
    ap.add_argument("--before", action="store_true", help="also the chorale transformer")
    ap.add_argument("--top-p", type=float, help="nucleus for the melody transformer")
    ap.add_argument("--temperature", type=float, help="temperature for it")
    ap.add_argument("--candidates", type=int, help="best of N draws for it")
    ap.add_argument("--allow-empty-bars", action="store_true",
                    help="the ablation: new bars may stay empty (the sampler's rule off)")
    ap.add_argument("--weights", type=Path,
                    help="a folder holding melody.safetensors/.json (default: the shipped)")
    ap.add_argument("--continue-only", action="store_true",
                    help="only the continuation table (no infill, no hook-to-song)")
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--roll", help="write a piano roll PNG of one pop piece and stop")
    ap.add_argument("--roll-piece", default="pop909/010")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    SAMPLING.update({k: v for k, v in (("top_p", args.top_p), ("temperature", args.temperature),
                                       ("candidates", args.candidates)) if v is not None})
    if args.allow_empty_bars:
        from deepcompose.models.melody import sampling

        sampling.EMPTY_BARS = True
    if args.weights:
        from deepcompose.models.common.weights import use_weights

        use_weights("melody", args.weights)
    if args.roll:
        draw_roll(args.roll, args.styles.split(",")[0], args.roll_piece, seeds[0])
        return {}
    report = {}
    for style in args.styles.split(","):
        r = run_style(style, args.pieces, seeds, args.before, args.skip)
        if not args.continue_only:
            r["infill"] = infill_check(style, min(args.pieces, 20), seeds[0])
        report[style] = r
        print(f"\n## {style}: {r['pieces']} validation pieces, first 8 bars in, 8 new bars "
              f"({r['seconds_per_piece']:.2f} s per continuation)\n")
        head = "| measure | real | " + " | ".join(f"seed {s}" for s in seeds)
        print(head + (" | chorale transformer (before)" if "before" in r else "") + " |")
        print("|---" * (2 + len(seeds) + ("before" in r)) + "|")
        judged = {s: judge(style, r["real"], r["seeds"][s]) for s in seeds}
        before = judge(style, r["real"], r["before"]) if "before" in r else None
        for i, row in enumerate(judged[seeds[0]]):
            cells = [f"{judged[s][i][2]} {'PASS' if judged[s][i][3] else 'FAIL'}"
                     for s in seeds]
            extra = f" | {before[i][2]}" if before else ""
            print(f"| {row[0]} | {row[1]} | " + " | ".join(cells) + extra + " |")
        if "chord_tones" in r:
            c = r["chord_tones"]
            ok = abs(c["generated"] - c["real"]) <= 0.08
            print(f"| on-beat chord tones, real chords given (within 0.08; {c['pieces']} "
                  f"songs) | {c['real']:.2f} | {c['generated']:.2f} "
                  f"{'PASS' if ok else 'FAIL'} |")
        if args.continue_only:
            continue
        f = r["infill"]
        ok = f["untouched"] == 1.0 and abs(f["hole_notes_per_bar"] - f["hook_notes_per_bar"]) \
            <= 0.3 * f["hook_notes_per_bar"]
        print(f"| infill bars 5-6: outside untouched / notes per bar hole vs hook | "
              f"{f['hook_notes_per_bar']:.2f} | {f['untouched']:.2f} / "
              f"{f['hole_notes_per_bar']:.2f} {'PASS' if ok else 'FAIL'} |")
    if "pop" in args.styles.split(",") and not args.continue_only:
        report["hook_to_song"] = hook_to_song(seeds[0])
        h = report["hook_to_song"]
        print(f"\nhook to song (pop-hook, gan pop continue 8): melody in all 16 bars "
              f"{h['melody_in_all_16_bars']}; of bars 9-16, each part sounds in "
              f"{h['bars_9_16_each_part_sounds_in']} -> {'PASS' if h['pass'] else 'FAIL'}; "
              f"last melody note (pitch, start, end) {h['last_note']}, the bass home under it "
              f"{h['bass_home_under_it']}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2, default=lambda x: (
            x.tolist() if isinstance(x, np.ndarray) else str(x))))
    return report


if __name__ == "__main__":
    main()
