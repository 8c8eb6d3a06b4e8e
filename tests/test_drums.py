"""Drums of the band GAN (issue 13): drum classes, the Groove loader, the metrics, a tiny
training step, and the shipped drum kit in every style, meter and with a pickup."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepcompose.errors import DeepcomposeError
from deepcompose.metrics import drums as M
from deepcompose.models.gan_drums import kit as drums_kit  # noqa: E402
from deepcompose.models.gan_drums import net as drums_net  # noqa: E402
from deepcompose.representations import drums as R

torch = pytest.importorskip("torch")

TOM_PITCHES = {43, 47, 50}


# ------------------------------------------------------------------ representation


def test_every_gm_pitch_of_a_class_comes_back_as_its_class_pitch():
    notes, want = [], []
    for i, (_name, out, others) in enumerate(R.DRUM_CLASSES):
        for j, p in enumerate((out, *others)):
            start = i * 4 + j  # one beat apart, no two on one step
            notes.append((p, start + 0.05, start + 0.3, 20 + 10 * j))
            want.append((out, start + 0.05, 20 + 10 * j))
    hits, vel, off = R.encode(notes, 40)
    assert hits.shape == (160, R.CLASSES)
    back = R.decode(hits, vel, off)
    assert [(p, round(s, 4), v) for p, s, _, v in back] == [(p, round(s, 4), v)
                                                              for p, s, v in want]
    assert all(e - s == pytest.approx(R.NOTE_BEATS) for _, s, e, _ in back)
    # without microtiming, onsets snap to the 16th grid
    snapped = R.decode(hits, vel, off, microtiming=False)
    assert [s for _, s, _, _ in snapped] == [math.floor(s * 4 + 0.5) / 4 for _, s, _ in want]


def test_encode_keeps_the_louder_hit_and_drops_other_percussion():
    hits, vel, off = R.encode([(38, 1.0, 1.1, 40), (40, 1.02, 1.1, 100), (56, 2.0, 2.1, 90),
                               (36, -1.0, 0.0, 90)], 4)
    assert hits.sum() == 1  # cowbell (56) and the onset before the roll are dropped
    assert hits[4, R.SNARE] == 1 and vel[4, R.SNARE] == pytest.approx(100 / 127)
    assert off[4, R.SNARE] == pytest.approx(0.08)
    assert R.drum_class(56) is None and R.drum_class(22) == 2


# ------------------------------------------------------------------------ data


def test_groove_official_split_styles_and_meters():
    from deepcompose.data.groove import bar_steps, load_groove

    train, valid, test = (load_groove(s) for s in ("train", "valid", "test"))
    assert (len(train), len(valid), len(test)) == (897, 124, 129)
    assert {p.split for p in valid} == {"validation"}
    styles = {p.style for p in train}
    assert {"rock", "funk", "hiphop", "jazz", "latin", "pop"} <= styles
    assert not any("/" in s for s in styles)
    fills = [p for p in train if p.beat_type == "fill"]
    assert len(fills) == 519 and all(p.time_signature == (4, 4) for p in fills)
    assert sum(p.time_signature == (6, 8) for p in train) == 4  # and one in validation
    assert bar_steps((4, 4)) == 16 and bar_steps((6, 8)) == 12 and bar_steps((3, 4)) == 12
    rock = next(p for p in train if p.style == "rock" and p.beat_type == "beat")
    assert rock.bars().shape[1:] == (16, R.CLASSES, 3)
    with pytest.raises(DeepcomposeError):
        load_groove("holdout")


# --------------------------------------------------------------------- metrics


def test_metrics_from_their_definitions():
    four = [(36, b, b + 0.1, 90) for b in range(8)]  # kicks on every beat of two bars
    prof = M.onset_profile(four)
    assert prof[[0, 4, 8, 12]].tolist() == [0.25] * 4 and prof.sum() == pytest.approx(1)
    assert M.histogram_intersection(prof, prof) == pytest.approx(1)
    assert M.histogram_intersection(prof, np.roll(prof, 1)) == 0
    assert M.onset_profile(four, beats_per_bar=3).sum() == 0  # 12-step bars: not 4/4
    assert M.onsets_per_beat(four, 8) == 1
    assert M.has_kick_and_snare(four) == (True, False)
    cov, empty = M.bar_coverage(four, 12)  # the third bar is silent
    assert cov == pytest.approx(2 / 3) and empty == [2]
    res = M.style_overlap({"a": prof, "b": np.roll(prof, 2)},
                          {"a": prof, "b": np.roll(prof, 1)})
    assert res["a"]["pass"] and not res["b"]["pass"]


# ---------------------------------------------------------------- planning


def test_bar_segments_and_phrase_plan():
    assert drums_kit.bar_segments(16, (4, 4)) == [(0, 16)]
    assert drums_kit.bar_segments(12, (3, 4)) == [(1, 12)]
    assert drums_kit.bar_segments(12, (6, 8)) == [(2, 12)]
    assert drums_kit.bar_segments(24, (12, 8)) == [(2, 12), (2, 12)]
    assert sum(n for _, n in drums_kit.bar_segments(20, (5, 4))) == 20
    units = drums_kit.plan_units(total=8 * 16, bar=16, first=0, time_signature=(4, 4),
                                 phrase_bars=4)
    assert [u[0] for u in units] == list(range(0, 128, 16))
    assert [u[3] for u in units] == [False, False, False, True] * 2
    # a 1-beat pickup: a lead-in unit that plays only its last 4 steps, then bars from beat 1
    units = drums_kit.plan_units(total=4 + 5 * 12, bar=12, first=4, time_signature=(3, 4),
                         phrase_bars=4)
    assert units[0][0] + units[0][4] == 0 and units[0][1] - units[0][4] == 4
    assert [u[0] for u in units[1:]] == [4, 16, 28, 40, 52]
    assert [u[3] for u in units[1:]] == [False, False, False, True, True]
    # a change of meter: 2 bars of 4/4, 3 of 3/4, 2 of 4/4; bars restart at each change
    units = drums_kit.plan_units(total=2 * 16 + 3 * 12 + 2 * 16, bar=16, first=0,
                         time_signature=(4, 4), phrase_bars=4,
                         changes=[(32, 12, (3, 4)), (68, 16, (4, 4))])
    assert [(u[0], u[1], u[2]) for u in units] == [
        (0, 16, 0), (16, 16, 0), (32, 12, 1), (44, 12, 1), (56, 12, 1), (68, 16, 0),
        (84, 16, 0)]
    assert [u[3] for u in units] == [False, False, False, True, False, False, True]


# -------------------------------------------------------------- tiny training


def test_tiny_training_step_export_and_play(tmp_path):
    from deepcompose.data.groove import load_groove
    from deepcompose.models.common.weights import save_weights

    train = [p for p in load_groove("train")
             if p.style in ("rock", "funk", "jazz") and (p.beat_type == "fill" or p.n_bars > 8)]
    valid = [p for p in load_groove("valid") if p.style in ("rock", "funk", "jazz")]
    from deepcompose.models.gan_drums import train as gan_drums_train

    trainer = gan_drums_train.make_trainer(dict(drums_net.TINY_CONFIG), train, valid)
    assert trainer.bank.styles == ("funk", "jazz", "rock")
    gen = trainer.modules["generator"]
    before = [p.detach().clone() for p in gen.parameters()]
    torch.manual_seed(0)
    losses = trainer.train_step(np.random.default_rng(0))
    assert set(losses) == {"w", "gp", "adv", "fm"} and all(map(math.isfinite, losses.values()))
    assert any(not torch.equal(a, b) for a, b in zip(before, gen.parameters(), strict=True))
    metrics = trainer.validate()
    assert 0 <= metrics["own_overlap"] <= 1 and metrics["onsets_per_beat"] > 0
    tensors, meta = trainer.export()
    save_weights(tmp_path / "gan_drums", tensors,
                 {**meta, "family": "gan_drums", "config": trainer.cfg})
    kit = drums_kit.DrumKit.load(tmp_path)
    assert kit.styles == ("funk", "jazz", "rock") and kit.default_style == "rock"  # most bars
    notes = kit.play(8, 4, 0, (4, 4), "jazz", seed=3)
    assert notes and all(0 <= s < 8 and p in R.OUT_PITCH for p, s, _, _ in notes)


# ---------------------------------------------------------- shipped weights


@pytest.fixture(scope="module")
def kit():
    return drums_kit.DrumKit.load()


def test_styles_offered(kit):
    assert {"rock", "funk", "hiphop", "jazz", "latin", "pop"} <= set(kit.styles)
    assert kit.default_style in kit.styles


def test_every_style_plays_every_bar_with_kick_and_snare(kit):
    for style in kit.styles:
        for seed in (0, 1):
            notes = kit.play(32, 4, 0, (4, 4), style, seed=seed)
            cov, empty = M.bar_coverage(notes, 32)
            assert empty == [], (style, seed, empty)
            assert M.has_kick_and_snare(notes) == (True, True), (style, seed)
            rate = M.onsets_per_beat(notes, 32)
            assert 2 <= rate <= 8, (style, seed, rate)
            assert all(p in R.OUT_PITCH and 1 <= v <= 127 for p, _, _, v in notes)
            assert len({v for *_, v in notes}) > 5  # velocities vary: no flat velocity
            assert all(0 <= s < 32 for _, s, _, _ in notes)


def tom_hits(notes, spans) -> int:
    return sum(1 for p, s, _, _ in notes if p in TOM_PITCHES
               and any(a <= round(s * 4) / 4 < b for a, b in spans))


@pytest.mark.parametrize("ts", [(3, 4), (6, 8)])
def test_triple_meters_follow_their_bar_lines(kit, ts):
    # 8 bars of 3 beats: fills belong in bars 4 and 8 ([9, 12) and [21, 24)); a kit that
    # played 4/4 bars would put them in [12, 16) and [28, 32) (past the end).
    fill_toms = groove_toms = wrong_toms = marked = 0
    for seed in range(4):
        notes = kit.play(24, 3.0, 0.0, ts, "rock", seed=seed)
        assert M.bar_coverage(notes, 24, 3.0)[1] == []
        assert all(s < 24 for _, s, _, _ in notes)
        fill_toms += tom_hits(notes, [(9, 12), (21, 24)])
        groove_toms += tom_hits(notes, [(0, 9), (12, 21)])
        wrong_toms += tom_hits(notes, [(12, 16)])  # where a 4/4 kit would play its fill
        marked += sum(any(round(s * 4) == 12 * b and p in (36, 49) for p, s, _, _ in notes)
                      for b in range(8))
    assert fill_toms > groove_toms / 3  # the fill bars (1 in 4) hold most of the toms
    assert fill_toms > 1.5 * wrong_toms
    assert marked >= 0.4 * 32  # most bar lines carry a kick or crash (real 3/4 takes: 0.58)


def test_pickup_gets_a_lead_in_and_the_bars_start_after_it(kit):
    for seed in range(3):
        notes = kit.play(17, 4.0, 1.0, (4, 4), "rock", seed=seed)
        cov, empty = M.bar_coverage(notes, 17, 4.0, 1.0)
        assert empty == [] or empty == [0]  # bars from beat 1 all play; the lead-in may rest
        assert tom_hits(notes, [(13, 17)]) >= tom_hits(notes, [(1, 5), (5, 9)]) / 2
        short = kit.play(16.5, 4.0, 0.5, (4, 4), "rock", seed=seed)
        assert short and min(s for _, s, _, _ in short) >= 0.5  # a half-beat pickup: silence


def test_same_seed_same_drums_other_seed_other_drums(kit):
    a = kit.play(16, 4, 0, (4, 4), "funk", seed=7)
    assert a == kit.play(16, 4, 0, (4, 4), "funk", seed=7)
    assert a != kit.play(16, 4, 0, (4, 4), "funk", seed=8)
    assert a != kit.play(16, 4, 0, (4, 4), "jazz", seed=7)


@pytest.mark.parametrize("tamper", ["truncate", "wrong_shape_config", "wrong_family",
                                    "no_styles", "not_json"])
def test_tampered_drum_weights_are_a_clear_error(tamper, tmp_path):
    import json
    import shutil

    from deepcompose.models.registry import WEIGHTS_DIR

    for ext in (".safetensors", ".json"):
        shutil.copy(WEIGHTS_DIR / f"gan_drums{ext}", tmp_path / f"gan_drums{ext}")
    weights, config = tmp_path / "gan_drums.safetensors", tmp_path / "gan_drums.json"
    meta = json.loads(config.read_text())
    if tamper == "truncate":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif tamper == "wrong_shape_config":
        meta["config"]["hidden"] *= 2
    elif tamper == "wrong_family":
        meta["family"] = "gan_pop"
    elif tamper == "no_styles":
        del meta["styles"]
    if tamper == "not_json":
        config.write_text("{not json")
    elif tamper != "truncate":
        config.write_text(json.dumps(meta))
    with pytest.raises(DeepcomposeError) as err:
        drums_kit.DrumKit.load(tmp_path)
    assert "\n" not in str(err.value)
    with pytest.raises(DeepcomposeError, match="no shipped weights for .gan_drums."):
        drums_kit.DrumKit.load(tmp_path / "nowhere")


def test_unknown_style_names_the_styles(kit):
    with pytest.raises(DeepcomposeError, match="rock.*") as err:
        kit.play(16, 4, 0, (4, 4), "polka")
    assert "polka" in str(err.value) and all(s in str(err.value) for s in kit.styles)
    assert kit.play(4, 4, 0, (4, 4), "Hip-Hop", seed=1)  # aliases and case are accepted
    for bad in ((float("inf"), 4, 0), (16, 0, 0), (16, 4, float("nan"))):
        with pytest.raises(DeepcomposeError):
            kit.play(*bad, (4, 4), "rock")


# ------------------------------------------------- drums under a song (issue 21)


def test_kick_on_one_backbeat_and_distinct_parts_known_answers():
    bar0 = [(36, 0.0, 0.1, 90), (38, 1.0, 1.1, 90), (38, 3.02, 3.1, 90), (42, 0.5, 0.6, 60)]
    bar1 = [(36, 4.25, 4.3, 90), (38, 5.0, 5.1, 90), (40, 6.0, 6.1, 90)]  # no 1, no beat 4
    bar2 = [(35, 7.92, 8.0, 90), (37, 9.0, 9.1, 90), (38, 11.0, 11.1, 90)]  # early kick: 1
    notes = bar0 + bar1 + bar2
    assert M.kick_on_one_counts(notes, 12) == (2, 3)
    assert M.backbeat_counts(notes, 12) == (2, 3)
    assert M.kick_on_one_counts(notes, 12, skip={2}) == (1, 2)  # bar 2 a fill: left out
    assert M.backbeat_counts(notes, 12, skip={0}) == (1, 2)
    assert M.backbeat_counts(notes, 12, first_bar_beat=1.0) == (0, 2)  # bars from beat 1
    assert M.kick_on_one_counts(notes, 11.5) == (1, 2)  # the cut last bar is not whole
    assert M.backbeat_counts(notes, 12, beats_per_bar=3) == (0, 0)  # 3/4: no backbeat
    assert M.share([(2, 3), (1, 1)]) == pytest.approx(0.75) and math.isnan(M.share((0, 0)))
    louder = [(p, s + 0.03, e, 127) for p, s, e, _ in notes]  # velocity, microtiming
    other = notes[:-1]
    assert M.distinct_parts([notes, louder, other, list(reversed(notes))]) == 2


def test_song_features_from_their_definitions():
    from deepcompose.models.gan_drums import song_features as F

    assert F.ranks([3, 1, 2]).tolist() == [1.0, 0.0, 0.5]
    assert F.ranks([1, 1, 2]).tolist() == [0.25, 0.25, 1.0] and F.ranks([5]).tolist() == [0.5]
    # windows of 2 bars: 2, 9, 16 and (the last, one bar left) 8 per bar x 2 = 16
    assert F.window_energy([1, 1, 8, 8], 2) == pytest.approx([-1, -1 / 3, 2 / 3, 2 / 3])
    assert F.tempo_feature(110) == 0 and F.tempo_feature(220) == 1 and F.tempo_feature(20) == -1
    assert F.tempo_feature(None) == 0
    assert F.odd_share([0, 1, 2, 3]) == 0.5 and F.quantile_of(1.123, F.POP909_DENSITY) == \
        pytest.approx(0.4)
    bars = [(16 * i, 16, 16) for i in range(8)]
    # a melody that sings 16ths through every bar but rests in the second half of bars 2, 6
    steps = np.array([s for i in range(8) for s in range(16 * i, 16 * i + (6 if i in (2, 6)
                                                                          else 16))])
    fills = F.phrase_plan(bars, steps, 4)
    assert fills == [False, False, True, False, False, False, True, True]  # grid moved by 3
    assert F.phrase_plan(bars, np.array([], np.int64), 4) == [False, False, False, True] * 2
    melody = [(60, s / 4, s / 4 + 0.25, 90) for s in steps if s < 48 or s % 2 == 0]
    cond = F.song_conditions(bars, fills, melody, 55.0)
    e = cond[:, F.COND.index("energy")]
    assert e[:3].tolist() == [1.0] * 3 and e[3:7].tolist() == [-1.0] * 4  # sparser later
    assert (cond[:, F.COND.index("tempo")] == -1).all()
    assert (F.song_conditions(bars, fills, None, None) == 0).all()


def test_drums_listen_to_the_song(kit):
    from deepcompose.models.gan_drums import song_features as F

    busy = [(60 + i % 5, i / 4, i / 4 + 0.25, 90) for i in range(0, 128, 2)]
    sparse = [(62, float(b), b + 1.5, 90) for b in range(0, 32, 2)]
    pieces = {name: kit.play(32, 4, 0, (4, 4), "pop", seed=1, melody=mel, tempo=bpm)
              for name, mel, bpm in (("busy", busy, 96), ("sparse", sparse, 96),
                                     ("busy fast", busy, 140))}
    assert M.distinct_parts(pieces.values()) == 3  # one seed, three songs, three parts
    assert pieces["busy"] == kit.play(32, 4, 0, (4, 4), "pop", seed=1, melody=busy, tempo=96)
    for notes in pieces.values():
        assert M.bar_coverage(notes, 32)[1] == []
    plan = kit.plan(32, 4, 0, (4, 4), "pop", melody=sparse, tempo=96)
    assert plan["bar_fills"][-1] and sum(plan["bar_fills"]) >= 2
    assert plan["cond"].shape == (8, F.N_COND)


def test_the_band_plan_lets_the_drums_hear_the_melody():
    import deepcompose

    def drums(melody, bpm):
        song = deepcompose.Song.from_tuples(melody, tempo=bpm)
        out = deepcompose.compose(song, model="gan", style="pop", seed=1)
        return [(n.pitch, n.start, n.end, n.velocity) for n in out.tracks[-1].notes]

    calm = [(67, float(b), 2.0, 90) for b in range(0, 16, 2)]  # (pitch, start, length, vel)
    busy = [(67 + b % 3, b / 2, 0.5, 90) for b in range(32)]
    a, b, c = drums(calm, 90), drums(busy, 90), drums(calm, 140)
    assert M.distinct_parts([a, b, c]) == 3  # melody and tempo both reach the drums
    assert M.onsets_per_beat(b, 16) > M.onsets_per_beat(a, 16)  # a busier song, busier drums
