"""The string quartet and issue 26: the phrase-position features reach its networks (in
training, in generation, in chunks), and the shipped quartet ends home and writes full
harmony under a simple tune."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from deepcompose import compose  # noqa: E402
from deepcompose.data.quartets import read_score, score_files  # noqa: E402
from deepcompose.melodies import load  # noqa: E402
from deepcompose.metrics.cadence import final_bass_home, harmony_shares  # noqa: E402
from deepcompose.models.gan_strings import StringQuartet  # noqa: E402
from deepcompose.models.gan_strings import sample as quartet_sample  # noqa: E402
from deepcompose.models.gan_strings.net import N_COND, TINY_CONFIG  # noqa: E402
from deepcompose.models.gan_strings.train import MovementArrays, render  # noqa: E402
from deepcompose.representations.multitrack import BandRequest  # noqa: E402
from deepcompose.representations.phrase_position import N_PHRASE  # noqa: E402


def request(name: str, seed: int = 1) -> BandRequest:
    song = load(name)
    melody = [(n.pitch, n.start, n.end, n.velocity) for n in song.tracks[0].notes]
    _, num, den = song.time_signatures[0]
    bpb = num * 4 / den
    return BandRequest(melody, max(n[2] for n in melody), bpb, song.pickup % bpb, (num, den),
                       seed=seed)


@pytest.fixture(scope="module")
def quartet():
    return StringQuartet.load()


def test_the_shipped_networks_read_the_phrase_position(quartet):
    G = quartet.generator
    assert G.n_pos == N_PHRASE
    zs, zt = quartet.cfg["z_shared"], quartet.cfg["z_phrase"] + quartet.cfg["z_bar"]
    assert G.inp.weight.shape[1] == N_COND + zs + zt + N_PHRASE
    assert float(G.inp.weight.detach()[:, -N_PHRASE:].abs().sum()) > 0  # trained, not zero
    assert quartet.critic.n_pos == N_PHRASE


def test_generation_feeds_the_features_and_chunks_them(quartet, monkeypatch):
    req = request("amazing-grace")
    base = [p.notes for p in quartet.arrange(req, score=False).parts]
    chunked = dict(quartet.cfg, chunk=64)  # 64-step chunks: the features are cut with them
    monkeypatch.setattr(quartet, "cfg", chunked)
    assert [p.notes for p in quartet.arrange(req, score=False).parts] == base
    monkeypatch.undo()
    monkeypatch.setattr(quartet_sample, "phrase_position",
                        lambda bar, mel, onset: np.zeros((N_PHRASE, len(bar)), np.float32))
    assert [p.notes for p in quartet.arrange(req, score=False).parts] != base


def test_training_windows_carry_the_features_of_the_whole_movement():
    work, index, path = min(score_files(), key=lambda f: f[2].stat().st_size)
    mv = read_score(path, work, index)[0]
    song = MovementArrays(mv, TINY_CONFIG["window"])
    W = TINY_CONFIG["window"]
    s = max(0, song.end - W)  # a window ending where the movement ends
    cond = render(song, s, W, 0, TINY_CONFIG)["cond"]
    assert cond.shape == (N_COND + N_PHRASE, W)
    pos = cond[N_COND:]
    assert pos[4:9].any()  # bars to the end: the window reaches the movement's end
    last = int(pos[-12:, 0].argmax())
    moved = render(song, s, W, 3, TINY_CONFIG)["cond"][N_COND:]
    assert int(moved[-12:, 0].argmax()) == (last + 3) % 12  # transposed with the music


@pytest.mark.parametrize("name", ["amazing-grace", "ode-to-joy"])
def test_the_quartet_ends_with_the_cello_on_the_tonic(name):
    song = load(name)
    out = compose(song, model="gan", style="strings", seed=1)
    melody = [(n.pitch, n.start, n.end) for n in song.tracks[0].notes]
    parts = [[(n.pitch, n.start, n.end) for n in t.notes] for t in out.tracks[1:]]
    assert final_bass_home(melody, parts)  # both tunes end on their tonic (G, D)
    last = max(melody, key=lambda n: n[1])
    cello = [n for n in parts[2] if n[1] <= last[1] + 0.125 < n[2]]
    assert cello and cello[0][0] % 12 == last[0] % 12
    # the last chord is home: every part sounds a tone of the tonic triad (both major)
    tonic = last[0] % 12
    final = {p % 12 for part in parts for p, a, e in part if a <= last[1] + 0.125 < e}
    assert final and final <= {tonic, (tonic + 4) % 12, (tonic + 7) % 12}
    assert len(final | {tonic}) == 3  # and the chord is complete


def test_full_harmony_under_a_bundled_tune(quartet):
    req = request("ode-to-joy")
    res = quartet.arrange(req, score=False)
    shares = harmony_shares([n[:3] for n in req.melody], [p.notes for p in res.parts])
    assert shares["full"] >= 0.5
    assert shares["semitone"] <= 0.2


def test_a_tune_ending_on_its_relative_tonic_ends_there():
    """A D major line that reads as B minor and ends on D: the cello's final cadence is on D
    (``keys.home_tonics``, as the band's rule), not on B under the melody's D."""
    from deepcompose.keys import home_tonics
    from deepcompose.models.gan_strings.sample import home_of, key_pcs

    melody, t = [], 0.0
    for p in (71, 66, 62, 71, 73, 74, 71, 66, 64, 62, 71, 74):
        d = 2.0 if p == 71 else 1.0  # long Bs: the key estimate says B minor
        melody.append((p, t, t + d, 80))
        t += d
    assert key_pcs(melody, ())[:2] == (11, "minor") and home_tonics(11, "minor") == (11, 2)
    assert home_of(melody) == (round(melody[-1][1] * 4), 2, {2, 6, 9})  # D major's triad
