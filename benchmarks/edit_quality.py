"""Editing band and quartet results (issue 27): infill and ``--parts`` on validation music.

    python benchmarks/edit_quality.py [--songs N] [--excerpts N] [--seed S] [--out FILE.md]

Band: the first ``--songs`` POP909 validation songs (``band_quality.window``: 16 bars from
the bar of the first melody note). The band arranges the melody alone (its own chords,
as a new user gets it); the result goes through JSON, MIDI or MusicXML in turn (written
and read back, as a musician's file would) and is edited five ways: ``--task infill
--bars 5:8`` and ``--parts bass``, ``keys``, ``counter``, ``drums``. Quartet: the first
``--excerpts`` 16-bar excerpts of the OpenScore validation works (one per movement, in
``strings_quality.excerpts`` order), the quartet under violin I, then ``infill 5:8`` and
``--parts violin2``, ``viola``, ``cello``.

Per edit (``deepcompose.metrics.edit``; a note is in the hole when it starts there; the
hole of ``--parts`` is the whole song): every other note and track identical, melody and
chords identical; of the edited parts' notes in the hole, the share equal to the old ones
(infill <= 0.70, parts <= 0.50); infill's notes per beat over the old ones in the 4 bars
either side (within 30%); for bass, keys and counter the share of on-beat notes on the
recorded chord's tones (>= 0.80); for the quartet, the redone part's notes in range and the
cello lowest no less than before (-0.02). Then the band's and the quartet's issue measures
(``metrics.band``, ``metrics.strings``) pooled over the results before and after the
edits. Exit status 1 when a threshold fails.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from dataclasses import astuple, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's deepcompose
sys.path.insert(0, str(Path(__file__).resolve().parent))

from band_quality import window  # noqa: E402
from strings_quality import excerpts  # noqa: E402

import deepcompose  # noqa: E402
from deepcompose.data.pop909 import load_song, song_ids  # noqa: E402
from deepcompose.metrics import band as M  # noqa: E402
from deepcompose.metrics import edit as E  # noqa: E402
from deepcompose.metrics import strings as S  # noqa: E402
from deepcompose.representations.bars import melody_bars  # noqa: E402
from deepcompose.song import Song  # noqa: E402

FORMATS = (".json", ".mid", ".musicxml")
BAND_EDITS = (("infill", None), ("parts", "bass"), ("parts", "keys"), ("parts", "counter"),
              ("parts", "drums"))
QUARTET_EDITS = (("infill", None), ("parts", "violin2"), ("parts", "viola"),
                 ("parts", "cello"))
WHOLE = (-math.inf, math.inf)


def song_of(melody, num: int, den: int, name: str) -> Song:
    """A Song of the melody tuples ``(pitch, start, end, velocity)`` in ``num/den``."""
    song = Song.from_tuples([(p, a, b - a, v) for p, a, b, v in melody])
    tracks = [replace(song.tracks[0], name="Melody")]
    return replace(song, tracks=tracks, time_signatures=[(0.0, num, den)], title=name)


def round_trip(song: Song, suffix: str, folder: Path) -> Song:
    path = folder / f"{song.title}{suffix}"
    song.write(path)
    return deepcompose.read(path)


def tuples(track) -> list[tuple]:
    return [astuple(n) for n in track.notes]


def run_edits(song: Song, style: str, edits, seed: int, rows: list, timings: list):
    """Apply each edit to ``song``; append one measured row per edit; return the results."""
    names = [t.name.lower() for t in song.tracks]
    out = []
    for task, part in edits:
        kw = {"task": "infill", "bars": "5:8"} if task == "infill" else {"parts": part}
        t0 = time.perf_counter()
        new = deepcompose.compose(song, model="gan", style=style, seed=seed, **kw)
        timings.append(time.perf_counter() - t0)
        hole = song.bar_map().span(5, 8) if task == "infill" else WHOLE
        edited = list(range(1, len(song.tracks))) if task == "infill" else \
            [names.index(PART_TRACKS[part])]
        old = [n for i in edited for n in song.tracks[i].notes]
        got = [n for i in edited for n in new.tracks[i].notes]
        row = {"edit": task if task == "infill" else part, "style": style,
               "kept": E.kept_outside(song, new, hole) and new.chords == song.chords,
               "same": E.same_share(old, got, hole),
               "density": E.density_ratio(old, got, hole, song.length_beats)
               if task == "infill" else math.nan}
        if part in ("bass", "keys", "counter"):
            row["tones"] = E.chord_tone_counts(got, song.chords)
        if style == "strings":
            row["range"] = [n[0] >= S.LOWEST[part] for n in (astuple(x) for x in got)] \
                if part else []
            row["lowest"] = (lowest(song), lowest(new))
        rows.append(row)
        out.append(new)
    return out


PART_TRACKS = {"bass": "bass", "keys": "keys", "counter": "counter", "drums": "drums",
               "violin2": "violin ii", "viola": "viola", "cello": "cello"}


def lowest(song: Song) -> float:
    tracks = {t.name.lower(): t for t in song.tracks}
    return S.cello_lowest(tuples(tracks["cello"]),
                          [tuples(song.tracks[0]), tuples(tracks["violin ii"]),
                           tuples(tracks["viola"])])


def band_measures(songs) -> dict:
    """The band issue's measures pooled over ``songs``: chord fit (note time on the
    recorded chords' tones), on-beat consonance with the melody, bars sounding."""
    c = {k: [0, 0] for k in ("fit", "cons", "bars")}
    for s in songs:
        melody = tuples(s.tracks[0])
        acc = [astuple(n) for t in s.tracks[1:] if not t.is_drum for n in t.notes]
        bpb = s.time_signatures[0][1] * 4 / s.time_signatures[0][2]
        silent = M.silent_bars(melody, acc, bpb, 0)
        bars = len(melody_bars(melody, bpb))
        for k, (g, t) in (("fit", M.chord_fit_counts(acc, s.chords)),
                          ("cons", M.consonance_counts(melody, acc)),
                          ("bars", (bars - len(silent), bars))):
            c[k][0] += g
            c[k][1] += t
    return {k: g / t if t else math.nan for k, (g, t) in c.items()}


def quartet_measures(songs) -> dict:
    """The quartet issue's measures pooled over ``songs``: notes in range, cello lowest."""
    inr, low = [], []
    for s in songs:
        tracks = {t.name.lower(): tuples(t) for t in s.tracks}
        for role in ("violin2", "viola", "cello"):
            inr += [n[0] >= S.LOWEST[role] for n in tracks[PART_TRACKS[role]]]
        low.append(lowest(s))
    return {"range": sum(inr) / len(inr), "cello": statistics.mean(low)}


def mean(xs) -> float:
    xs = [x for x in xs if not math.isnan(x)]
    return sum(xs) / len(xs) if xs else math.nan


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(rows, before, after, timings, n_songs, n_excerpts) -> tuple[str, bool]:
    lines = [f"{n_songs} POP909 validation songs and {n_excerpts} quartet validation "
             f"excerpts, 16 bars each; results read back from JSON, MIDI and MusicXML in "
             f"turn; median edit {statistics.median(timings):.2f} s (one torch thread).", "",
             "| edit | n | kept outside | same (max) | density ratio (min-max) | "
             "chord tones on-beat | in range | cello lowest before -> after | verdict |",
             "|" + "---|" * 9]
    ok_all = True
    for style, edit in dict.fromkeys((r["style"], r["edit"]) for r in rows):
        rs = [r for r in rows if (r["style"], r["edit"]) == (style, edit)]
        kept = sum(r["kept"] for r in rs)
        same = max(r["same"] for r in rs if not math.isnan(r["same"]))
        dens = [r["density"] for r in rs if not math.isnan(r["density"])]
        ok = kept == len(rs) and same <= (0.70 if edit == "infill" else 0.50)
        dens_txt = tones_txt = range_txt = low_txt = ""
        if dens:
            share = sum(abs(d - 1) <= 0.30 for d in dens) / len(dens)
            dens_txt = f"{min(dens):.2f}-{max(dens):.2f}, mean {mean(dens):.2f}, " \
                       f"{share:.0%} within 30%"
            ok &= abs(mean(dens) - 1) <= 0.30
        if "tones" in rs[0]:
            g, t = (sum(r["tones"][k] for r in rs) for k in (0, 1))
            tones_txt = f"{g / t:.3f}"
            ok &= g / t >= 0.80
        if style == "strings":
            inr = [x for r in rs for x in r["range"]]
            range_txt = f"{sum(inr) / len(inr):.3f}" if inr else ""
            b, a = mean([r["lowest"][0] for r in rs]), mean([r["lowest"][1] for r in rs])
            low_txt = f"{b:.3f} -> {a:.3f}"
            ok &= (not inr or sum(inr) == len(inr)) and a >= b - 0.02
        ok_all &= ok
        lines.append(f"| {style} {edit} | {len(rs)} | {kept}/{len(rs)} | {same:.2f} | "
                     f"{dens_txt} | {tones_txt} | {range_txt} | {low_txt} | {verdict(ok)} |")
    lines += ["", "Issue measures before and after editing (pooled):", "",
              "| measure | target | before | after edits | verdict |", "|---|---|---|---|---|"]
    for key, label, test, rule in (
            ("fit", "band: chord fit (note time on the recorded chords)",
             lambda v: v >= 0.80, ">= 0.80"),
            ("cons", "band: on-beat consonance with the melody", lambda v: v >= 0.90,
             ">= 0.90"),
            ("bars", "band: melody bars where the band sounds", lambda v: v >= 1.0, "1.00"),
            ("range", "quartet: notes in range", lambda v: v >= 0.99, ">= 0.99"),
            ("cello", "quartet: cello the lowest part (time)", lambda v: v >= 0.90,
             ">= 0.90")):
        ok = test(after[key]) or after[key] >= before[key] - 0.01
        ok_all &= ok
        lines.append(f"| {label} | {rule} (or no worse) | {before[key]:.3f} | "
                     f"{after[key]:.3f} | {verdict(ok)} |")
    return "\n".join(lines), ok_all


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--songs", type=int, default=20)
    ap.add_argument("--excerpts", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    rows, timings = [], []
    before = {"band": [], "strings": []}
    after = {"band": [], "strings": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder, k = Path(tmp), 0
        for sid in song_ids("valid"):
            if len(before["band"]) >= args.songs:
                break
            pop = load_song(sid)
            w = window(pop)
            if w is None or not w[0]:
                continue
            melody, _, _, bpb, _ = w
            song = song_of(melody, int(bpb), 4, f"pop{sid:03d}")
            made = deepcompose.compose(song, model="gan", style="pop", seed=args.seed)
            made = round_trip(made, FORMATS[k % 3], folder)
            k += 1
            before["band"].append(made)
            after["band"] += run_edits(made, "pop", BAND_EDITS, args.seed + 1, rows, timings)
        _, items = excerpts(None, 16)
        seen = set()
        for ex, _ in items:
            if len(before["strings"]) >= args.excerpts or ex.movement in seen:
                continue
            seen.add(ex.movement)
            _, num, den = ex.time_signatures[0]
            song = song_of(ex.melody, num, den, f"sq{len(seen)}")
            song = replace(song, time_signatures=[tuple(t) for t in ex.time_signatures])
            made = deepcompose.compose(song, model="gan", style="strings", seed=args.seed)
            made = round_trip(made, FORMATS[k % 3], folder)
            k += 1
            before["strings"].append(made)
            after["strings"] += run_edits(made, "strings", QUARTET_EDITS, args.seed + 1, rows,
                                          timings)
    pooled_before = {**band_measures(before["band"]), **quartet_measures(before["strings"])}
    pooled_after = {**band_measures(after["band"]), **quartet_measures(after["strings"])}
    text, ok = report(rows, pooled_before, pooled_after, timings, len(before["band"]),
                      len(before["strings"]))
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
