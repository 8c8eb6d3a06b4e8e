"""Pop band quality on the POP909 validation split (issue 13): real arrangement vs generated.

    python benchmarks/band_quality.py [--limit N] [--seed S] [--weights DIR] [--out FILE.md]

For each validation song (``deepcompose.data.pop909``: ids divisible by 10) the window is
the first 16 bars from the bar holding the first melody note. The band gets the melody
alone (``BandRequest``, beats shifted so the window starts at beat 0 on a bar line) and
arranges it four ways: without chords and with ``chords`` = the song's own annotations,
each with the decoding rules on (shipped) and off (the ablation). Beside them the real
POP909 arrangement of the same bars (bass + keys + counter, i.e. PIANO + BRIDGE).

Every figure pools its counts over the songs (``deepcompose.metrics.band`` states each
definition). Groove overlap compares pooled 16-position profiles, so it uses the 4/4
songs only (3-beat songs have 12 positions). Chord fit is always measured against the
song's own annotations. PASS/FAIL: the issue's thresholds on the shipped columns
(rules on); the ablation columns are shown for the card. Also timed: ``PopBand.load``
and ``arrange`` of 8 bars (median of 10, one torch thread), next to
``python -c "import torch, pretty_midi, mido, click"``.

Exit status 1 when a threshold fails.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's deepcompose

from deepcompose.data.pop909 import load_song, song_ids  # noqa: E402
from deepcompose.metrics import arrangement as AR  # noqa: E402
from deepcompose.metrics import band as M  # noqa: E402
from deepcompose.models.gan_pop import PopBand  # noqa: E402
from deepcompose.models.gan_pop.net import CHROMA, meter_features  # noqa: E402
from deepcompose.models.gan_pop.sample import (  # noqa: E402
    RULES,
    chord_path,
    chord_posterior,
    given_chords,
    piece_rows,
)
from deepcompose.models.registry import WEIGHTS_DIR  # noqa: E402
from deepcompose.representations.bars import melody_bars  # noqa: E402
from deepcompose.representations.multitrack import BandRequest  # noqa: E402

BARS = 16
CONDITIONS = {  # column -> (chords given, rules)
    "generated": (False, True),
    "generated + chords": (True, True),
    "no rules": (False, False),
    "no rules + chords": (True, False),
}


def window(song, bars: int = BARS):
    """(melody, real accompaniment, chords, beats_per_bar, length) of ``PopSong.window``,
    or None for a song without melody."""
    w = song.window(bars)
    return None if w is None else (*w[:3], song.beats_per_bar, w[3])


class Pool:
    """Counts of one column, pooled over songs."""

    def __init__(self):
        self.c = {k: [0, 0] for k in ("fit", "off", "cons", "bars")}
        self.profile = np.zeros(16, dtype=np.int64)
        self.onsets = self.beats = 0
        self.silent_songs = 0

    def add(self, melody, acc, chords, bpb, length):
        for key, (g, t) in (("fit", M.chord_fit_counts(acc, chords)),
                            ("off", M.offbeat_counts(acc)),
                            ("cons", M.consonance_counts(melody, acc))):
            self.c[key][0] += g
            self.c[key][1] += t
        if bpb == 4:
            self.profile += M.onset_profile(acc, 4, 0)
        self.onsets += len(acc)
        self.beats += length
        silent = M.silent_bars(melody, acc, bpb, 0)
        n_bars = len(melody_bars(melody, bpb))
        self.c["bars"][0] += n_bars - len(silent)
        self.c["bars"][1] += n_bars
        self.silent_songs += bool(silent)

    def ratio(self, key):
        g, t = self.c[key]
        return g / t if t else math.nan


ROLES = ("bass", "keys", "counter")


def role_window(song, bars: int = BARS):
    """``PopSong.window`` with the accompaniment kept per role: ``(melody, {role: notes},
    chords, beats_per_bar, length)``, or None for a song without melody."""
    w = song.window(bars)
    if w is None or not w[0]:
        return None
    lines = np.nonzero(np.asarray(song.beat_in_bar) == 0)[0]
    m0 = song.notes("melody")[0][1]
    before = lines[lines <= m0 + 1e-6]
    start = float(before[-1]) if len(before) else float(np.floor(m0))
    end = start + w[3]
    parts = {r: [(p, a - start, min(b, end) - start, v) for p, a, b, v in song.notes(r)
                 if start <= a < end] for r in ROLES}
    return w[0], parts, w[2], song.beats_per_bar, w[3]


class ArrPool:
    """Arrangement measures (``deepcompose.metrics.arrangement``) of one column, pooled over
    songs: pair and onset counts are summed before dividing; per-16-bar counts, entropy and
    velocity SDs are means over songs."""

    def __init__(self):
        self.sums = {k: [0.0, 0] for k in ("repeat", "b2b", "reuse", "fill", "above")}
        self.ct = np.zeros(3)
        self.same = [0, 0]  # notes (role, pitch, start) also in the first band column
        self.per_song = {k: [] for k in ("rhythms", "chords", "entropy", "changes",
                                         *(f"sd_{r}" for r in ROLES))}

    def add(self, melody, parts, chords, bpb, bars=BARS):
        tracks = [parts[r] for r in ROLES]
        for key, (num, den) in (
                ("repeat", AR.repeat_similarity_counts(melody, tracks, bars, bpb)),
                ("b2b", AR.bar_to_bar_counts(parts["keys"], bars, bpb)),
                ("reuse", AR.voicing_reuse_counts(parts["keys"], bpb)),
                ("fill", AR.rest_fill_counts(melody, parts["counter"])),
                ("above", AR.above_counts(melody, parts["counter"]))):
            self.sums[key][0] += num
            self.sums[key][1] += den
        self.ct += AR.ctnctr_counts(melody, chords)
        distinct, bits = AR.chord_vocabulary(chords, bars)
        for key, v in (("rhythms", AR.distinct_rhythms(parts["keys"], bars, bpb)),
                       ("chords", distinct), ("entropy", bits),
                       ("changes", AR.chord_changes(chords, bars)),
                       *((f"sd_{r}", AR.velocity_sd(parts[r])) for r in ROLES)):
            self.per_song[key].append(v)

    def values(self) -> dict:
        out = {k: (n / d if d else math.nan) for k, (n, d) in self.sums.items()}
        c, nct, p = self.ct
        out["ctnctr"] = (c + p) / (c + nct) if c + nct else math.nan
        out |= {k: float(np.nanmean(v)) if v else math.nan for k, v in self.per_song.items()}
        return out


ARR_ROWS = (  # key, label, test(value, real values) -> bool, threshold text
    ("repeat", "band repeats when the melody repeats", lambda v, r: v >= 0.40, ">= 0.40"),
    ("b2b", "keys: bar-to-bar similarity (onset+pitch Jaccard)", lambda v, r: v >= 0.10,
     ">= 0.10"),
    ("rhythms", "keys: distinct bar rhythms per 16 bars", lambda v, r: v <= 12.5, "<= 12.5"),
    ("reuse", "keys: onsets whose voicing was played in the two bars before",
     lambda v, r: v >= 0.45, ">= 0.45"),
    ("chords", "distinct chords per 16 bars", lambda v, r: v >= 7, ">= 7"),
    ("entropy", "chord entropy (bits)", lambda v, r: v >= 2.3, ">= 2.3"),
    ("changes", "chord changes per bar", lambda v, r: 1.2 <= v <= 1.7, "1.2 - 1.7"),
    ("ctnctr", "melody on the band's own chords (CTnCTR)",
     lambda v, r: v >= max(0.85, r["ctnctr"] - 1e-9), ">= 0.85 and >= real"),
    *((f"sd_{r_}", f"velocity SD, {r_}", (lambda k: lambda v, r: v >= 0.7 * r[k])(f"sd_{r_}"),
       "70% of real") for r_ in ROLES),
    ("fill", "counter: share of the melody's rest time it sounds in", lambda v, r: v >= 0.35,
     ">= 0.35"),
    ("above", "counter: share of its overlap wholly above the melody", lambda v, r: v <= 0.45,
     "<= 0.45"),
)


def arrangement(band, songs, seeds=(1, 2), columns=None) -> dict:
    """``{column: ArrPool}``: the real POP909 arrangement with its annotated chords, and the
    band without chords at each of ``seeds`` (the same seed for every song, as a user who
    passes ``--seed``), scored against the chords it played. ``columns`` adds more:
    ``{name: (band, seed, rules)}`` (ablations)."""
    cols = {"real": None, **{f"seed {s}": (band, s, True) for s in seeds}, **(columns or {})}
    pools = {c: ArrPool() for c in cols}
    for _, (melody, parts, chords, bpb, length) in songs:
        pools["real"].add(melody, parts, chords, bpb)
        first = None
        for col, spec in cols.items():
            if spec is None:
                continue
            b, seed, rules = spec
            res = b.arrange(request(melody, length, bpb, None, seed), rules=rules, score=False)
            pools[col].add(melody, {p.role: p.notes for p in res.parts}, res.chords, bpb)
            notes = {(p.role, n[0], n[1]) for p in res.parts for n in p.notes}
            first = notes if first is None else first
            pools[col].same[0] += len(notes & first)
            pools[col].same[1] += len(first)
    return pools


def variant(band, **cfg):
    """``band`` with some sampling settings changed (a shallow copy; weights shared)."""
    other = copy.copy(band)
    other.cfg = {**band.cfg, **cfg}
    return other


def ablation_columns(band, critic_off: Path | None = None) -> dict:
    """The card's ablation at seed 1: ``{column: (band, seed, rules)}``."""
    cols = {
        "latents zeroed": (variant(band, zero_latents=True), 1, True),
        "per-step draws": (variant(band, share_noise=False), 1, True),
        "head's chord path only": (variant(band, quality_bonus=None, chord_fit=0.0,
                                          chord_switch=1.5, chord_switch_half=1.5,
                                          chord_switch_bar=0.3), 1, True),
        **{f"no {r}": (band, 1, [x for x in RULES if x != r]) for r in RULES},
        "no rules": (band, 1, False),
    }
    if critic_off:
        off = PopBand.load(critic_off)
        off.cfg = {**band.cfg, "quality_bonus": off.cfg.get("quality_bonus")
                   if off.cfg.get("quality_bonus") else band.cfg["quality_bonus"]}
        cols["critic off"] = (off, 1, True)
    return cols


def arrangement_table(pools) -> tuple[str, bool]:
    """Markdown table of ``arrangement``'s pools with PASS/FAIL on the ``seed *`` columns."""
    vals = {c: p.values() for c, p in pools.items()}
    real = vals["real"]
    seeds = [c for c in vals if c.startswith("seed ")]
    cols = list(vals)
    rows = ["| measure | " + " | ".join(cols) + " | threshold | result |",
            "|" + "---|" * (len(cols) + 3)]
    ok_all = True
    for key, label, test, thr in ARR_ROWS:
        res = [test(vals[c][key], real) for c in seeds]
        ok_all &= all(res)
        digits = 1 if key in ("rhythms", "chords") else 2
        rows.append(f"| {label} | " + " | ".join(f"{vals[c][key]:.{digits}f}" for c in cols)
                    + f" | {thr} | " + " / ".join("PASS" if r else "FAIL" for r in res) + " |")
    if len(cols) > 4:
        rows.append("| notes as at seed 1 (role, pitch, onset) | - | " + " | ".join(
            f"{pools[c].same[0] / max(pools[c].same[1], 1):.2f}" for c in cols[1:])
            + " | - | - |")
    return "\n".join(rows), ok_all


def windows(ids) -> list[tuple[int, tuple]]:
    """``(song id, window(song))`` of the songs whose window holds melody notes."""
    out = [(sid, window(load_song(sid))) for sid in ids]
    return [(sid, w) for sid, w in out if w is not None and w[0]]


def request(melody, length: float, bpb: int, chords=None, seed: int = 0) -> BandRequest:
    """The band's request for a window: bar lines from beat 0, 3-beat bars read as 3/4."""
    return BandRequest(melody, length, bpb, 0.0, (4, 4) if bpb == 4 else (3, 4), chords,
                       seed=seed)


def evaluate(band, songs, seed: int):
    """Pools of the real arrangement and each column over ``songs`` (``windows``)."""
    pools = {"real": Pool(), **{k: Pool() for k in CONDITIONS}}
    for sid, (melody, real, chords, bpb, length) in songs:
        pools["real"].add(melody, real, chords, bpb, length)
        for col, (given, rules) in CONDITIONS.items():
            req = request(melody, length, bpb, chords if given else None, seed + sid)
            res = band.arrange(req, rules=rules)
            acc = [n_ for part in res.parts for n_ in part.notes]
            pools[col].add(melody, acc, chords, bpb, length)
    return pools, len(songs)


def chord_inference(band, songs) -> dict:
    """How well the melody alone tells the annotated chords, per beat whose annotation is not
    N (the beat's first 16th): the chord head's exact label (its Viterbi path, as played
    without ``chords``), the share of its chord's tones that are tones of the annotated
    chord, and the pitch classes ranked by the head's probability of being a chord tone
    (summed over its chord posterior) with how often each rank is one (predicted /
    measured). Also the melody's own chord fit (its note time on annotated tones)."""
    chroma = CHROMA.astype(float)  # [K, 12]
    share = (chroma @ chroma.T) / np.maximum(chroma.sum(1), 1)[:, None]  # [path, annotated]
    beats = exact = tones = 0
    ranked = np.zeros((3, 2))  # rank -> (predicted, measured) sums
    mel_fit = [0.0, 0.0]
    for _, (melody, _, chords, bpb, length) in songs:
        mel, onset, beat_in_bar, bpb_row = piece_rows(request(melody, length, bpb))
        probs = chord_posterior(band, mel, onset, meter_features(beat_in_bar, bpb_row))
        path = chord_path(band, probs, beat_in_bar, bpb_row, mel)
        ann = given_chords(chords, len(beat_in_bar))[0][::4]
        keep = ann > 0
        beats += int(keep.sum())
        exact += int((path[keep] == ann[keep]).sum())
        tones += float(share[path[keep], ann[keep]].sum())
        marg = (probs @ chroma)[keep]  # [beats, 12] P(pitch class is a chord tone)
        top = np.argsort(-marg, 1)[:, :3]
        rows = np.arange(len(top))[:, None]
        ranked[:, 0] += marg[rows, top].sum(0)
        ranked[:, 1] += chroma[ann[keep][:, None], top].sum(0)
        g, t = M.chord_fit_counts(melody, chords)
        mel_fit[0] += g
        mel_fit[1] += t
    return {"beats": beats, "exact": exact / beats, "tones": tones / beats,
            "ranked": (ranked / beats).tolist(), "melody_fit": mel_fit[0] / mel_fit[1]}


def chord_text(c: dict) -> str:
    r = c["ranked"]
    return ("Chords from the melody alone (the chord head, no `chords`; "
            f"{c['beats']} annotated beats): exact label {c['exact']:.2f}; tones of its chord "
            f"that are tones of the annotated one {c['tones']:.2f}; the pitch classes it "
            "rates likeliest to be chord tones, 1st / 2nd / 3rd, are tones of the annotated "
            f"chord {r[0][1]:.2f} / {r[1][1]:.2f} / {r[2][1]:.2f} of the time (it predicts "
            f"{r[0][0]:.2f} / {r[1][0]:.2f} / {r[2][0]:.2f}); the melody's own note time on "
            f"annotated tones {c['melody_fit']:.2f}.")


def timing(band, ids):
    """(load seconds, median arrange seconds of 8 bars, import-reference seconds)."""
    t = time.perf_counter()
    PopBand.load(band.weights_dir)
    load_s = time.perf_counter() - t
    melody, _, _, bpb, _ = window(load_song(ids[0]), 8)
    req = BandRequest(melody, 8.0 * bpb, bpb, 0.0, (4, 4), seed=1)
    band.arrange(req)
    runs = []
    for _ in range(10):
        t = time.perf_counter()
        band.arrange(req)
        runs.append(time.perf_counter() - t)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, pretty_midi, mido, click"], check=True)
    ref = time.perf_counter() - t
    return load_s, float(np.median(runs)), ref


def table(pools, n, load_s, arrange_s, ref_s) -> tuple[str, bool]:
    real = pools["real"]
    real_density = real.onsets / real.beats
    real_profile = real.profile
    cols = ["real", *CONDITIONS]
    rows = []

    def fmt(x, digits=2):
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "nan"
        return f"{x:.{digits}f}"

    checks = {  # row -> (values per column, pass test on a shipped column, threshold text)
        "chord fit (vs annotations)": (
            {c: pools[c].ratio("fit") for c in cols}, None, ">= 0.80 / >= 0.90 with chords"),
        "off-beat share": ({c: pools[c].ratio("off") for c in cols},
                           lambda v, c: 0.07 <= v <= 0.25, "0.07 - 0.25"),
        "groove overlap with real (4/4)": (
            {c: M.groove_overlap(pools[c].profile, real_profile) for c in cols},
            lambda v, c: v >= 0.90, ">= 0.90"),
        "density (onsets/beat)": ({c: pools[c].onsets / pools[c].beats for c in cols},
                                  lambda v, c: abs(v / real_density - 1) <= 0.30,
                                  f"within 30% of {real_density:.2f}"),
        "on-beat consonance": ({c: pools[c].ratio("cons") for c in cols},
                               lambda v, c: v >= 0.80, ">= 0.80"),
        "bars with accompaniment": ({c: pools[c].ratio("bars") for c in cols},
                                    lambda v, c: v >= 1.0, "= 1.00 (every bar)"),
    }
    ok_all = True
    head = "| measure | " + " | ".join(cols) + " | threshold | result |"
    rows = [head, "|" + "---|" * (len(cols) + 3)]
    for name, (vals, test, thr) in checks.items():
        if name.startswith("chord fit"):
            results = [vals["generated"] >= 0.80, vals["generated + chords"] >= 0.90]
        else:
            results = [test(vals[c], c) for c in ("generated", "generated + chords")]
        ok = all(results)
        ok_all &= ok
        verdict = " / ".join("PASS" if r else "FAIL" for r in results)
        digits = 3 if name.startswith("bars") else 2
        rows.append(f"| {name} | " + " | ".join(fmt(vals[c], digits) for c in cols)
                    + f" | {thr} | {verdict} |")
    rows.append("| songs with a silent bar | " + " | ".join(
        str(pools[c].silent_songs) for c in cols) + " | 0 | "
        + ("PASS" if pools["generated"].silent_songs == pools["generated + chords"].silent_songs
           == 0 else "FAIL") + " |")
    fast = arrange_s < 0.5 * ref_s
    rows.append("")
    rows.append(f"{n} POP909 validation songs, first {BARS} bars from the melody's first bar; "
                "result = without chords / with chords (rules on). Melody notes: never "
                "returned by the band (the pipeline carries the user's notes): PASS by "
                "construction.")
    rows.append(f"Timing (one torch thread): PopBand.load {load_s:.2f} s; arrange 8 bars "
                f"{arrange_s * 1000:.0f} ms (median of 10); `python -c \"import torch, "
                f"pretty_midi, mido, click\"` {ref_s:.2f} s -> arrange is "
                f"{arrange_s / ref_s:.2f}x of it ({'PASS' if fast else 'FAIL'}: < 0.5x leaves "
                "the pipeline room inside 2x).")
    return "\n".join(rows), ok_all and fast


COLORS = {"melody": "#ffffff", "bass": "#1f77b4", "keys": "#2ca02c", "counter": "#d62728"}


def roll(band, sid: int, seed: int, png: Path, midi: Path | None = None, bars: int = BARS):
    """Two piano rolls of song ``sid``'s first ``bars`` bars, one above the other: POP909's
    own arrangement and the band's (melody alone in, no chords, ``seed``), with the chords
    each plays written over its bars; ``midi``: the band's result through the full
    ``compose`` pipeline (drums included), for rendering."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    song = load_song(sid)
    melody, parts, chords, bpb, length = role_window(song, bars)
    res = band.arrange(request(melody, length, bpb, None, seed), score=False)
    fig = Figure(figsize=(16, 8.5), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, (name, tracks, chs) in zip(axes, (
            (f"POP909 song {sid}: the real arrangement", parts, chords),
            (f"the band (--model gan --style pop, seed {seed}), melody alone in",
             {p.role: p.notes for p in res.parts}, res.chords)), strict=True):
        for role in ("bass", "keys", "counter", "melody"):
            notes = melody if role == "melody" else tracks[role]
            for p, a, b, v in notes:
                ax.add_patch(Rectangle((a, p - 0.4), b - a, 0.8, facecolor=COLORS[role],
                                       edgecolor="black" if role == "melody" else "none",
                                       linewidth=1.2, alpha=0.35 + 0.65 * v / 127))
            ax.add_patch(Rectangle((0, 0), 0, 0, facecolor=COLORS[role], label=role,
                                   edgecolor="black"))
        for b in np.arange(0, length + 1e-9, bpb):
            ax.axvline(b, color="#999999", linewidth=0.8 if b % (4 * bpb) else 1.6, zorder=0)
        for a, _, label in chs:
            ax.text(a + 0.05, 98, label.replace(":maj", "").replace(":min", "m")
                    .replace(":", ""), fontsize=6.5, rotation=60, va="bottom")
        ax.set_ylim(26, 106)
        ax.set_xlim(0, length)
        ax.set_ylabel("MIDI pitch")
        ax.set_title(name, loc="left", fontsize=10)
        ax.grid(axis="y", color="#eeeeee", linewidth=0.5)
    axes[0].legend(loc="upper right", fontsize=8, ncol=4)
    axes[1].set_xlabel("beats; thin lines bars, thick lines every 4 bars; shade = velocity")
    fig.tight_layout()
    fig.savefig(png, format="png")
    if midi:
        import deepcompose

        out = deepcompose.compose([(p, a, b - a, v) for p, a, b, v in melody], model="gan",
                                  style="pop", seed=seed)
        out.write(str(midi))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="only the first N validation songs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", type=Path, default=WEIGHTS_DIR,
                    help="folder with gan_pop.safetensors + gan_pop.json")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("band_quality.md"))
    ap.add_argument("--json", type=Path, help="also write every number here")
    ap.add_argument("--ablation", action="store_true",
                    help="also the card's ablation columns (seed 1) in the arrangement table")
    ap.add_argument("--critic-off", type=Path,
                    help="with --ablation: weights of the same training with adv=0")
    ap.add_argument("--arrangement-only", action="store_true",
                    help="only the arrangement table (issue 21)")
    ap.add_argument("--roll", type=Path, help="write the real-vs-band roll (PNG) and stop")
    ap.add_argument("--roll-song", type=int, default=10, help="validation song id for --roll")
    ap.add_argument("--roll-midi", type=Path, help="with --roll: the band's MIDI (with drums)")
    args = ap.parse_args(argv)
    band = PopBand.load(args.weights)
    band.weights_dir = args.weights
    if args.roll:
        roll(band, args.roll_song, 1, args.roll, args.roll_midi)
        return 0
    ids = song_ids("valid")[:args.limit] if args.limit else song_ids("valid")
    t = time.perf_counter()
    arr_songs = [(sid, w) for sid in ids if (w := role_window(load_song(sid))) is not None]
    extra = ablation_columns(band, args.critic_off) if args.ablation else None
    arr_text, arr_ok = arrangement_table(arrangement(band, arr_songs, (1, 2), extra))
    arr_text = ("Arrangement (issue 21): real POP909 with its annotated chords; the band "
                "without chords at seeds 1 and 2 (every song), against the chords it "
                f"played; {len(arr_songs)} songs, first {BARS} bars. Definitions in "
                "deepcompose/metrics/arrangement.py.\n\n" + arr_text)
    if args.arrangement_only:
        print(arr_text)
        return 0 if arr_ok else 1
    songs = windows(ids)
    pools, n = evaluate(band, songs, args.seed)
    text, ok = table(pools, n, *timing(band, ids))
    ok &= arr_ok
    chords = chord_inference(band, songs)
    text += "\n" + chord_text(chords) + "\n\n" + arr_text
    text += f"\nBenchmark wall time {time.perf_counter() - t:.0f} s; weights {args.weights}."
    print(text)
    args.out.write_text("# Pop band quality (benchmarks/band_quality.py)\n\n" + text + "\n")
    if args.json:
        args.json.write_text(json.dumps({c: {k: p.ratio(k) for k in p.c} | {
            "density": p.onsets / p.beats} for c, p in pools.items()} | {
            "chord_inference": chords}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
