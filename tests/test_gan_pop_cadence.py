"""The pop band's cadences (issue 26): the phrase-position features reach the chord head, the
generator and the critic, the same way at training and generation, and the shipped band
ends a pop hook with the bass on the tonic."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from deepcompose.data.pop909 import load_song  # noqa: E402
from deepcompose.metrics.cadence import bass_at, last_note  # noqa: E402
from deepcompose.models.common.weights import warm_start  # noqa: E402
from deepcompose.models.gan_pop import PopBand  # noqa: E402
from deepcompose.models.gan_pop import sample as S  # noqa: E402
from deepcompose.models.gan_pop.cadence import cadences  # noqa: E402
from deepcompose.models.gan_pop.net import (  # noqa: E402
    N_COND,
    TINY_CONFIG,
    TRACKS,
    Critic,
    Generator,
    P,
    chord_input,
)
from deepcompose.models.gan_pop.train import SongArrays, render  # noqa: E402
from deepcompose.representations.multitrack import BandRequest  # noqa: E402
from deepcompose.representations.phrase_position import N_PHRASE, phrase_position  # noqa: E402

OLD = {**TINY_CONFIG, "phrase_features": False}


def outputs(G, D, cond, z):
    with torch.no_grad():
        outs = G(cond, *z)
        rolls = torch.zeros(1, sum(P[t] for t in TRACKS), cond.shape[-1])
        return [G.chords(chord_input(cond)), *outs, D(cond, rolls)]


def test_phrase_channels_reach_chord_head_generator_and_critic():
    torch.manual_seed(0)
    G, D = Generator(TINY_CONFIG), Critic(TINY_CONFIG)
    T = 64
    cond = torch.rand(1, N_COND + N_PHRASE, T)
    z = (torch.randn(1, 4), torch.randn(1, 2, T), torch.randn(1, 3, 2))
    moved = cond.clone()
    moved[:, N_COND:] = 1 - moved[:, N_COND:]  # only the phrase channels change
    for a, b in zip(outputs(G, D, cond, z), outputs(G, D, moved, z), strict=True):
        assert not torch.allclose(a, b)


def test_grown_networks_start_as_the_old_ones():
    torch.manual_seed(1)
    old_G, old_D = Generator(OLD), Critic(OLD)
    tensors = {f"generator.{k}": v for k, v in old_G.state_dict().items()}
    tensors |= {f"critic.{k}": v for k, v in old_D.state_dict().items()}
    G, D = Generator(TINY_CONFIG), Critic(TINY_CONFIG)
    grown = warm_start(G, tensors, "generator.") + warm_start(D, tensors, "critic.")
    assert sorted(grown) == ["chords.inp.weight", "inp.weight", "net.0.weight"]
    T = 64
    cond = torch.rand(1, N_COND + N_PHRASE, T)
    z = (torch.randn(1, 4), torch.randn(1, 2, T), torch.randn(1, 3, 2))
    for a, b in zip(outputs(G, D, cond, z), outputs(old_G, old_D, cond[:, :N_COND], z),
                    strict=True):
        assert torch.allclose(a, b, atol=1e-5)


def test_training_windows_carry_the_whole_songs_phrase_position():
    song = SongArrays(load_song(10), 256)
    W = 256
    rng = np.random.default_rng(0)
    s = song.window_start(rng, W, end_share=1.0)  # an ending window
    assert s + W == song.end and song.end < song.T + 1
    bar = np.cumsum(song.beat_in_bar < 1e-6) - 1
    want = phrase_position(bar, song.mel.astype(np.int64), song.mel_onset)
    for k in (0, 5):
        got = render(song, s, W, k)["cond"][N_COND:]
        rolled = want[:, s:s + W].copy()
        rolled[-12:] = np.roll(rolled[-12:], k, axis=0)
        assert np.array_equal(got, rolled)
    assert got[4 + 5].any()  # the melody's last note falls in the ending window
    assert not render(song, 0, W, 0)["cond"][N_COND + 4 + 5].any()


def tune(bars=8):
    """A C-major tune with a one-beat pickup that ends on C."""
    notes = [(67, 0.0, 1.0, 90)]
    for b in range(bars):
        for i, p in enumerate((64, 65, 67, 69) if b < bars - 1 else (67, 62, 60)):
            notes.append((p, 1.0 + 4 * b + i, 2.0 + 4 * b + i + (2 if p == 60 else 0), 90))
    return notes


@pytest.mark.parametrize("given", [False, True])
def test_arrange_feeds_the_pieces_phrase_position(monkeypatch, given):
    torch.manual_seed(0)
    band = PopBand(TINY_CONFIG, Generator(TINY_CONFIG), {})
    seen = []
    run = S.run_generator
    monkeypatch.setattr(S, "run_generator", lambda G, cond, z, chunk: seen.append(cond)
                        or run(G, cond, z, chunk))
    if given:  # the given chords win: the chord head is not asked
        monkeypatch.setattr(S, "chord_posterior", lambda *a, **k: pytest.fail("asked"))
    chords = [(0.0, 33.0, "C:maj")] if given else None
    req = BandRequest(tune(), 33.0, 4, 1.0, (4, 4), chords, 1)
    band.arrange(req, score=False)
    mel, onset, in_bar, _ = S.piece_rows(req)
    bar = np.repeat(np.arange(-1, 9), 16)[12:12 + len(mel)]  # the pickup beat is bar -1
    got = seen[0][0, N_COND:].numpy()
    assert got.shape == (N_PHRASE, len(mel))
    assert np.array_equal(got, phrase_position(bar, mel, onset))


def test_cadence_rule_places():
    req = BandRequest(tune(16), 65.0, 4, 1.0, (4, 4), None, 1)
    mel, onset, in_bar, _ = S.piece_rows(req)
    cad = cadences(req.melody, mel, onset, in_bar, 3.0)
    last = int(np.nonzero(onset)[0][-1])
    assert cad.attack.nonzero()[0].tolist() == [last]  # the bass strikes under the last C
    assert cad.root_only[last:].all()
    c_major = 1 + 0 * 15 + 0
    assert cad.chord_bonus[last // 4:, c_major].min() == 3.0
    # bar 7 (0-based from the first full bar) ends a phrase: I or V under its last note
    g_major = 1 + 7 * 15
    phrase_end = 4 + 4 * 7 * 4 + 3 * 4  # the pickup, 7 bars, 3 beats (16th steps)
    assert cad.chord_bonus[phrase_end // 4, g_major] == 3.0
    assert cad.root_only[phrase_end] and not cad.root_only[phrase_end - 4]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shipped_band_ends_the_pop_hook_on_the_tonic(seed):
    from deepcompose import compose
    from deepcompose.melodies import catalog

    song = compose(catalog.load("pop-hook"), model="gan", style="pop", seed=seed)
    tracks = {t.name: t for t in song.tracks}
    melody = [(n.pitch, n.start, n.end) for n in tracks["Melody"].notes]
    bass = [(n.pitch, n.start, n.end) for n in tracks["Bass"].notes]
    assert last_note(melody)[0] % 12 == 9  # the hook ends on A (A minor)
    assert bass_at([bass], last_note(melody)[1] + 0.125) % 12 == 9
