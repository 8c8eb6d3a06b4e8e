"""The string quartet GAN (``--model gan --style strings``): it trains through `deepcompose
train` on real quartet scores, and its shipped weights write violin II, viola and cello
under any melody (3/4 with a pickup, 6/8), in range, deterministically, as a score a
quartet can read."""

import json
import re
from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")

from deepcompose import compose  # noqa: E402
from deepcompose.data.quartets import read_score, score_files  # noqa: E402
from deepcompose.melodies import path as example  # noqa: E402
from deepcompose.models.gan_strings import StringQuartet  # noqa: E402
from deepcompose.models.gan_strings.net import RANGES  # noqa: E402
from deepcompose.models.registry import player  # noqa: E402
from deepcompose.representations.multitrack import BandRequest  # noqa: E402
from deepcompose.song import Note, Song, Track  # noqa: E402

LOWEST = {"Violin II": 55, "Viola": 48, "Cello": 36}
PROGRAMS = {"Violin II": 40, "Viola": 41, "Cello": 42}


@pytest.fixture(scope="module")
def two_scores():
    """Two small real scores read from the repo copy (no cache needed): train, valid."""
    files = sorted(score_files(), key=lambda f: f[2].stat().st_size)[:2]
    return [read_score(p, w, i) for w, i, p in files]


def test_the_family_row():
    fam = player("gan", "strings")
    assert (fam.name, fam.plan, fam.data, fam.ensemble, fam.parts) == (
        "gan_strings", "band", ("quartets",), "quartet", ())


def test_train_command_trains_exports_and_resumes(tmp_path, monkeypatch, two_scores):
    from deepcompose.models.gan_strings import train as gst
    from deepcompose.train import train

    train_set, valid_set = two_scores
    monkeypatch.setattr(gst, "load_split",
                        lambda data, split: train_set if split == "train" else valid_set)
    kw = dict(model="gan", style="strings", data="quartets", out=tmp_path, tiny=True,
              progress=False, checkpoint_every=2, validate_every=2)
    metrics = train(steps=2, **kw)
    assert metrics["valid_sup"] > 0 and 0 <= metrics["valid_cello_pitch_acc"] <= 1
    meta = json.loads((tmp_path / "gan_strings.json").read_text())
    assert meta["family"] == "gan_strings" and meta["trained"]["data"] == "quartets"
    train(steps=4, resume=True, **kw)
    log = (tmp_path / "log.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in log] == [1, 2, 3, 4]
    model = StringQuartet.load(tmp_path)
    mel = [(67 + i % 5, float(i), i + 1.0, 80) for i in range(12)]
    res = model.arrange(BandRequest(mel, 12.0, 3.0, 0.0, (3, 4), seed=3))
    assert [p.role for p in res.parts] == ["violin2", "viola", "cello"]
    for part in res.parts:
        lo, hi = RANGES[part.role]
        assert all(lo <= n[0] <= hi and 0 <= n[1] < n[2] <= 12.0 for n in part.notes)


def melody_song(ts, pickup, bars, pattern, tempo=100.0):
    """A melody of ``bars`` full bars after a ``pickup`` (beats), its notes cycling through
    ``pattern`` ``[(pitch, beats)]``."""
    num, den = ts
    length = pickup + bars * num * 4 / den
    notes, t, i = [], 0.0, 0
    while t < length - 1e-9:
        p, d = pattern[i % len(pattern)]
        notes.append(Note(p, t, min(t + d, length), 90))
        t, i = t + d, i + 1
    return Song(tracks=[Track("Tune", 73, False, notes)], tempos=[(0.0, tempo)],
                time_signatures=[(0.0, num, den)], pickup=pickup)


WALTZ = [(67, 1.0), (72, 2.0), (74, 1.0), (76, 1.0), (74, 1.0), (72, 2.0), (71, 1.0),
         (69, 1.5), (71, 0.5), (72, 1.0), (67, 3.0)]
JIG = [(74, 0.5), (76, 0.5), (78, 0.5), (79, 1.0), (78, 0.5), (76, 0.5), (74, 0.5),
       (73, 0.5), (71, 1.5)]


def check_quartet(song, out, length):
    melody = song.tracks[0]
    assert out.tracks[0].notes == melody.notes and out.tracks[0].program == melody.program
    parts = out.tracks[1:]
    assert [t.name for t in parts] == ["Violin II", "Viola", "Cello"]
    assert [t.program for t in parts] == [40, 41, 42]
    for t in parts:
        assert t.notes, t.name
        assert all(n.pitch >= LOWEST[t.name] and 0 <= n.start < n.end <= length + 1e-9
                   for n in t.notes)
        assert all(16 <= n.velocity <= 127 for n in t.notes)


@pytest.mark.parametrize("ts,pickup,pattern", [((3, 4), 1.0, WALTZ), ((6, 8), 0.5, JIG)])
def test_shipped_weights_write_a_quartet_in_any_meter(ts, pickup, pattern):
    song = melody_song(ts, pickup, 8, pattern)
    length = song.tracks[0].notes[-1].end
    out = compose(song, model="gan", style="strings", seed=1)
    check_quartet(song, out, length)
    assert out.time_signatures == song.time_signatures and out.pickup == song.pickup
    again = compose(song, model="gan", style="strings", seed=1)
    assert [t.notes for t in again.tracks] == [t.notes for t in out.tracks]
    other = compose(song, model="gan", style="strings", seed=2)
    assert [t.notes for t in other.tracks[1:]] != [t.notes for t in out.tracks[1:]]


def test_meter_change_and_other_ensembles():
    song = melody_song((4, 4), 0.0, 8, WALTZ)
    song.time_signatures = [(0.0, 4, 4), (16.0, 3, 4)]
    out = compose(song, model="gan", style="strings", seed=4, ensemble="piano")
    assert [t.program for t in out.tracks[1:]] == [0, 0, 0]
    assert out.time_signatures == song.time_signatures


def test_musicxml_is_a_quartet_score(tmp_path):
    song = melody_song((3, 4), 1.0, 8, WALTZ)
    out = compose(song, model="gan", style="strings", seed=1)
    path = tmp_path / "quartet.musicxml"
    out.write(path)
    xml = path.read_text()
    assert re.findall(r"<part-name>([^<]*)</part-name>", xml) == [
        "Violin I", "Violin II", "Viola", "Cello"]
    parts = re.findall(r"<part id=.*?</part>", xml, re.S)
    first_clefs = [re.search(r"<clef[^>]*>\s*<sign>(\w)</sign>\s*<line>(\d)</line>", p).groups()
                   for p in parts]
    assert first_clefs[2] == ("C", "3")  # the viola reads alto clef
    assert first_clefs[3] == ("F", "4") and first_clefs[0] == ("G", "2")
    assert len(re.findall(r"<fifths>", xml)) >= 4
    assert all("<dynamics" in p for p in parts)
    back = Song.read(path)
    assert [(n.pitch, n.start) for n in back.tracks[3].notes] == [
        (n.pitch, n.start) for n in out.tracks[3].notes]


def test_a_high_cello_still_reads_bass_clef(tmp_path):
    """A cello line in the tenor range (here the quartet's own cello moved up to G3-G4) is
    written in bass clef, as a cellist reads it, not in the treble-8vb clef a tenor voice
    would get."""
    out = compose(str(example("pop-hook")), model="gan", style="strings", seed=9)
    high = [replace(n, pitch=n.pitch + 12 * max(0, (57 - n.pitch + 11) // 12))
            for n in out.tracks[3].notes]  # the same cello, up an octave or two: G3-G4
    out.tracks[3] = replace(out.tracks[3], notes=high)
    assert sum(n.pitch for n in high) / len(high) >= 57
    path = tmp_path / "hook.musicxml"
    out.write(path)
    part = re.findall(r"<part id=.*?</part>", path.read_text(), re.S)[3]
    assert re.search(r"<clef[^>]*>\s*<sign>(\w)</sign>\s*<line>(\d)</line>", part).groups() \
        == ("F", "4")


def test_gap_classes_count_steps_to_the_next_attack():
    from deepcompose.models.gan_strings.net import N_GAPS, gap_class

    # attacks at steps 0, 4, 5 and 30; the piece's next attack "after the end" never comes
    assert gap_class([0, 4, 5, 30], 64 + N_GAPS).tolist() == [3, 0, N_GAPS - 1, N_GAPS - 1]


def test_a_duration_drawn_knowing_the_gap_to_the_next_attack_reaches_it():
    """With ``gap_durations`` each part's note length is drawn after its attacks, reading
    the gap to the next one: a network that learned "hold to the next note" leaves no rest,
    whatever its gap-blind duration head says."""
    from deepcompose.models.gan_pop.net import DURS
    from deepcompose.models.gan_strings.net import (
        GAP_GAIN,
        N_GAPS,
        TINY_CONFIG,
        Generator,
        P,
        head_size,
    )
    from deepcompose.models.gan_strings.sample import sample_part

    G = Generator({**TINY_CONFIG, "gap_durations": True})
    T, track = 32, "cello"
    out = torch.zeros(1, head_size(track), T)
    attacks = [0, 4, 12, 14]
    out[0, 0] = -20.0
    out[0, 0, attacks] = 20.0  # these attacks, surely
    out[0, -1 - len(DURS)] = 5.0  # the gap-blind head: always a 16th
    with torch.no_grad():
        for g in range(N_GAPS - 1):  # the learned table: a gap of g + 1 steps -> that length
            G.gap_bias[2, g, min(range(len(DURS)), key=lambda k: abs(DURS[k] - g - 1))] = (
                20.0 / GAP_GAIN)
    draws = (torch.full((T,), 0.5), torch.zeros(P[track], T), torch.zeros(len(DURS), T))
    blind = sample_part(track, out, 1.0, draws, (1.0, 1.0, 1.0))
    aware = sample_part(track, out, 1.0, draws, (1.0, 1.0, 1.0), G)
    assert blind["steps"].tolist() == aware["steps"].tolist() == attacks
    assert blind["dur"][:3] == [1, 1, 1]
    assert aware["dur"][:3] == [4, 8, 2]  # each note held to the next attack
