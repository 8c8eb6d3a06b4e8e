"""The pop band GAN: trains through `deepcompose train`, and its shipped weights arrange
real POP909 melodies (validation split) into bass, keys and counter-melody."""

import json
import shutil
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from deepcompose.chords import parse_chord, repeat_chords  # noqa: E402
from deepcompose.data.pop909 import load_song  # noqa: E402
from deepcompose.errors import DeepcomposeError  # noqa: E402
from deepcompose.metrics import arrangement as AR  # noqa: E402
from deepcompose.metrics import band as M  # noqa: E402
from deepcompose.models.gan_pop import PopBand  # noqa: E402
from deepcompose.models.gan_pop.form import melody_form  # noqa: E402
from deepcompose.models.gan_pop.net import RANGES, TINY_CONFIG  # noqa: E402
from deepcompose.models.gan_pop.sample import RULES, piece_rows  # noqa: E402
from deepcompose.models.registry import WEIGHTS_DIR  # noqa: E402
from deepcompose.representations.multitrack import BandRequest  # noqa: E402

VALID_SONGS = (10, 20)  # POP909 validation split (ids divisible by 10)


def request(melody, length, chords=None, seed=0, bpb=4, first=0.0, temperature=1.0,
            meter_changes=()):
    ts = {4: (4, 4), 3: (3, 4)}.get(bpb, (bpb, 4))
    return BandRequest(melody, length, bpb, first, ts, chords, seed, temperature, meter_changes)


def accompaniment(result):
    return [n for part in result.parts for n in part.notes]


# ---------------------------------------------------------------- training (tiny, fast)


@pytest.fixture(scope="module")
def few_songs():
    return [load_song(i) for i in (1, 2, 3, 4)], [load_song(10)]


def test_train_command_trains_exports_and_resumes(tmp_path, monkeypatch, few_songs):
    from deepcompose.models.gan_pop import train as gan_pop_train
    from deepcompose.train import train

    monkeypatch.setattr(gan_pop_train, "load_split",
                        lambda data, split: few_songs[0] if split == "train" else few_songs[1])
    kw = dict(model="gan", style="pop", data="pop909", out=tmp_path, tiny=True,
              progress=False, checkpoint_every=2, validate_every=2)
    metrics = train(steps=2, **kw)
    assert 0 <= metrics["valid_chord_acc"] <= 1
    meta = json.loads((tmp_path / "gan_pop.json").read_text())
    assert meta["family"] == "gan_pop" and meta["trained"]["data"] == "pop909"
    train(steps=4, resume=True, **kw)
    steps = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]  # resumed at 3, not restarted
    band = PopBand.load(tmp_path)
    mel = few_songs[1][0].window(4)[0]
    res = band.arrange(request(mel, 16.0))
    assert [p.role for p in res.parts] == ["bass", "keys", "counter"]


def test_training_lowers_the_validation_loss(few_songs):
    from deepcompose.models.gan_pop.train import PopTrainer

    torch.manual_seed(0)
    trainer = PopTrainer(TINY_CONFIG, *few_songs)
    before = trainer.validate()["sup"]
    rng = np.random.default_rng(0)
    for _ in range(25):
        trainer.train_step(rng)
    assert trainer.validate()["sup"] < before - 2


# ---------------------------------------------------------------- the shipped weights


@pytest.fixture(scope="module")
def band():
    return PopBand.load()


@pytest.fixture(scope="module")
def songs():
    return {sid: load_song(sid).window(16) for sid in VALID_SONGS}


@pytest.mark.parametrize("sid", VALID_SONGS)
def test_shipped_band_fits_the_songs_chords(band, songs, sid):
    melody, real, chords, length = songs[sid]
    inferred = band.arrange(request(melody, length, seed=1))
    given = band.arrange(request(melody, length, chords=chords, seed=1))
    # measured with seeds 1-3 (shipped weights): given 0.96-0.99, inferred 0.64-0.81 (the
    # chord head guesses from the melody alone); POP909's own arrangement 0.97-0.99
    assert M.chord_fit(accompaniment(given), chords) >= 0.90
    assert M.chord_fit(accompaniment(inferred), chords) >= 0.55
    for res in (inferred, given):
        acc = accompaniment(res)
        assert M.silent_bars(melody, acc, 4) == []
        assert 0.02 <= M.offbeat_share(acc) <= 0.35
        assert M.consonance(melody, acc) >= 0.70
        assert 0.5 <= M.density(acc, length) / M.density(real, length) <= 2.0  # 1.1-1.55


def test_parts_are_well_formed(band, songs):
    melody, _, _, length = songs[VALID_SONGS[0]]
    res = band.arrange(request(melody, length, seed=3))
    assert [(p.role, p.is_drum) for p in res.parts] == [
        ("bass", False), ("keys", False), ("counter", False)]
    assert res.parts[0].program in range(32, 40)  # a GM bass
    for part in res.parts:
        lo, hi = RANGES[part.role]
        assert part.notes, part.role
        for pitch, start, end, vel in part.notes:
            assert lo <= pitch <= hi and 0 <= start < end <= length and 1 <= vel <= 127
    for role in ("bass", "counter"):  # single lines: no two notes sound at once
        notes = next(p for p in res.parts if p.role == role).notes
        assert all(a[2] <= b[1] + 1e-9 for a, b in zip(notes, notes[1:], strict=False))
    for start, end, label in res.chords:
        parse_chord(label)
        assert 0 <= start < end <= length
    assert isinstance(res.score, float)


def test_same_seed_same_band_other_seed_other_band(band, songs):
    melody, _, _, length = songs[VALID_SONGS[0]]
    a = band.arrange(request(melody, length, seed=7))
    b = band.arrange(request(melody, length, seed=7))
    c = band.arrange(request(melody, length, seed=8))
    assert [p.notes for p in a.parts] == [p.notes for p in b.parts]
    assert [p.notes for p in a.parts] != [p.notes for p in c.parts]
    z = [band.arrange(request(melody, length, seed=s, temperature=0)).parts for s in (1, 2)]
    assert [p.notes for p in z[0]] == [p.notes for p in z[1]]  # temperature 0: no randomness


def test_velocities_breathe_with_accents_on_the_beats(band, songs):
    # POP909's pianists play keys notes on the beat ~8 velocity steps louder than on the
    # off-beat 8th (82-90 vs 73-77 on the validation songs); the velocity head learns it.
    melody, _, _, length = songs[VALID_SONGS[1]]
    notes = [n for seed in (1, 2) for p in band.arrange(request(melody, length, seed=seed)).parts
             if p.role == "keys" for n in p.notes]
    vel = np.array([n[3] for n in notes])
    assert vel.std() > 4 and len(set(vel.tolist())) > 10
    on_beat = [n[3] for n in notes if n[1] % 1 == 0]
    off_8th = [n[3] for n in notes if n[1] % 1 == 0.5]
    assert np.mean(on_beat) > np.mean(off_8th) + 2


def test_given_chords_are_played_and_returned(band, songs):
    melody, _, _, length = songs[VALID_SONGS[0]]
    chords = [(b, b + 4.0, lab) for b, lab in zip(range(0, int(length), 4),
                                                   ["A:min", "F:maj", "C:maj", "G:maj/3"] * 99,
                                                   strict=False)]
    res = band.arrange(request(melody, length, chords=chords, seed=4))
    assert res.chords == [(float(a), float(b), lab) for a, b, lab in chords]
    for part in res.parts[:2]:  # bass and keys keep to the chord tones (decoding rule)
        for pitch, start, _, _ in part.notes:
            pcs = parse_chord(chords[int(start // 4)][2])[1]
            assert pitch % 12 in pcs


def test_repeat_chords_fills_the_song_with_the_progression():
    two = [(0.0, 4.0, "A:min"), (4.0, 8.0, "F:maj")]
    assert repeat_chords(two, 20.0) == [*two, (8.0, 12.0, "A:min"), (12.0, 16.0, "F:maj"),
                                        (16.0, 20.0, "A:min")]
    assert repeat_chords(two, 6.0) == two                      # already to the end
    assert repeat_chords([(4.0, 6.0, "C")], 9.0) == [(4.0, 6.0, "C"), (6.0, 8.0, "C"),
                                                     (8.0, 9.0, "C")]


def test_where_the_melody_repeats_the_band_repeats(band, songs):
    """Bars 5-8 repeat bars 1-4 of the melody: the form takes the earlier bars' draws, so the
    band plays them (nearly) again; per-step draws (the ablation) do not. Four more bars
    follow, so the repeat is not the song's ending (issue 26: the band ends a song
    differently, its last bar home, so a repeat that ends the song repeats less: 0.58-0.66
    at seeds 1-3 where the repeat of the middle is 0.77-0.80)."""
    melody, _, _, _ = songs[VALID_SONGS[0]]
    four = [n for n in melody if n[1] < 16]
    tune = four + [(p, a + 16, b + 16, v) for p, a, b, v in four]
    tune += [(p, a + 16, b + 16, v) for p, a, b, v in melody if 16 <= a < 32]
    form = melody_form(*[np.asarray(x) for x in piece_rows(request(tune, 48.0))[:3]], 4)
    assert form.source[4:8] == [0, 1, 2, 3]

    def similarity(b):
        res = b.arrange(request(tune, 48.0, seed=3), score=False)
        return AR.repeat_similarity(tune, [p.notes for p in res.parts], 12, 4)

    shared = similarity(band)
    per_step = PopBand(dict(band.cfg, share_noise=False), band.generator, {})
    assert shared >= 0.6 and shared > similarity(per_step) + 0.3


def test_rules_by_name(band, songs):
    melody, _, _, length = songs[VALID_SONGS[0]]
    req = request(melody, length, seed=2)
    some = band.arrange(req, rules=["chord_tones"])
    assert some.parts and band.arrange(req, rules=RULES).parts[0].notes == \
        band.arrange(req).parts[0].notes
    with pytest.raises(ValueError, match="unknown band rules"):
        band.arrange(req, rules=["louder"])


def test_three_four_six_eight_and_pickups_follow_the_bar(band):
    # a waltz: one dotted half per bar, C-F-G-C over 16 bars
    tune = [60, 65, 67, 64] * 4
    waltz = [(p + 12, 3.0 * i, 3.0 * i + 3, 90) for i, p in enumerate(tune)]
    for ts in ((3, 4), (6, 8)):
        res = band.arrange(BandRequest(waltz, 48.0, 3, 0.0, ts, seed=1))
        bass = next(p for p in res.parts if p.role == "bass").notes
        prof = M.onset_profile(bass, 3, 0)
        assert prof[0] > 2 * prof.mean()  # the bass marks the downbeats of 3-beat bars
    # 4/4 with a one-beat pickup: bar lines at 1, 5, 9, ...
    melody = [(72, 0.0, 1.0, 90)] + [(67 + (i % 3) * 2, 1.0 + i, 2.0 + i, 90) for i in range(32)]
    res = band.arrange(request(melody, 33.0, first=1.0, seed=1))
    bass = next(p for p in res.parts if p.role == "bass").notes
    prof = M.onset_profile(bass, 4, 1.0)
    assert prof[0] > prof[4] and prof[0] > 2 * prof.mean()


def test_a_change_of_meter_moves_the_bar_lines(band):
    # 4 bars of 4/4, then the waltz in 3/4 from beat 16: the bass marks the 3/4 downbeats
    # (ratio about 10 to the mean position; about 4-5 when the change is left out, as
    # the melody's dotted halves alone pull the bass there)
    tune = [60, 65, 67, 64] * 4
    melody = [(72 - (i % 3) * 2, float(i), i + 1.0, 90) for i in range(16)]
    melody += [(p + 12, 16 + 3.0 * i, 19 + 3.0 * i, 90) for i, p in enumerate(tune)]
    res = band.arrange(BandRequest(melody, 64.0, 4, 0.0, (4, 4), seed=1,
                                   meter_changes=((16.0, 3, 4),)))
    bass = next(p for p in res.parts if p.role == "bass").notes
    prof = M.onset_profile([(p, a - 16, b - 16, v) for p, a, b, v in bass if a >= 16], 3, 0)
    assert prof[0] > 7 * prof.mean()


def test_any_length_in_chunks_and_fast(band, songs, monkeypatch):
    melody, _, _, length = songs[VALID_SONGS[0]]
    long = [(p, a + k * length, b + k * length, v) for k in range(8) for p, a, b, v in melody]
    req = request(long, 8 * length, seed=5)
    t = time.perf_counter()
    whole = band.arrange(req)
    assert time.perf_counter() - t < 10  # 128 bars
    assert M.silent_bars(long, accompaniment(whole), 4) == []
    monkeypatch.setitem(band.cfg, "chunk", 256)  # window and stitch: the same notes
    chunked = band.arrange(req)
    assert [p.notes for p in chunked.parts] == [p.notes for p in whole.parts]
    eight = request(melody[:len(melody) // 2], 32.0, seed=5)
    band.arrange(eight)
    t = time.perf_counter()
    band.arrange(eight)
    assert time.perf_counter() - t < 1.0  # 8 bars: well under a second on one thread


def test_rules_off_is_the_networks_own_output(band, songs):
    melody, _, chords, length = songs[VALID_SONGS[0]]
    raw = band.arrange(request(melody, length, chords=chords, seed=1), rules=False)
    assert all(p.notes for p in raw.parts)
    ruled = band.arrange(request(melody, length, chords=chords, seed=1))

    def bass_keys(res):  # the chord-tone rule's tracks (the counter is free by design)
        return [n for p in res.parts if p.role != "counter" for n in p.notes]

    assert M.chord_fit(bass_keys(ruled), chords) >= M.chord_fit(bass_keys(raw), chords)


@pytest.mark.parametrize("kw, match", [
    (dict(length=0.0), "length_beats"),
    (dict(length=8.0, first=4.0), "first_bar_beat"),
    (dict(length=8.0, temperature=-1), "temperature"),
    (dict(length=8.0, chords=[(0, 4, "Q:maj")]), "'Q:maj'"),
    (dict(length=8.0, meter_changes=((4.0, 1, 16),)), "meter change 1/16"),
])
def test_bad_requests_are_clear_errors(band, kw, match):
    with pytest.raises(DeepcomposeError, match=match):
        band.arrange(request([(60, 0, 1, 80)], **kw))


def test_corrupt_weights_are_a_clear_error(tmp_path):
    shutil.copy(WEIGHTS_DIR / "gan_pop.json", tmp_path / "gan_pop.json")
    (tmp_path / "gan_pop.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(DeepcomposeError, match="cannot load weights"):
        PopBand.load(tmp_path)
    with pytest.raises(DeepcomposeError, match="no shipped weights"):
        PopBand.load(tmp_path / "missing")
