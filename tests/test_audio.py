"""Audio output: valid WAV/Ogg, length, not silent, drums sound as drums, errors, examples."""

import io
import wave

import numpy as np
import pytest

from deepcompose.errors import DeepcomposeError
from deepcompose.io import audio
from deepcompose.song import Note, Song, Track

RATE = audio.NATIVE_RATE


def _wav(data: bytes):
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, RATE)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    return pcm.astype(np.float32) / 32768.0


def _song(tracks, tempo=120.0, sig=(4, 4)):
    return Song(tracks=tracks, tempos=[(0.0, tempo)], time_signatures=[(0.0, *sig)])


def _band(bars=4):
    mel = [Note(72 + (i % 5), i * 0.5, i * 0.5 + 0.45, 95) for i in range(8 * bars)]
    bass = [Note(36, b, b + 0.9, 100) for b in range(4 * bars)]
    drums = [Note(36 if b % 2 == 0 else 38, b, b + 0.1, 110) for b in range(4 * bars)]
    return _song([Track("Melody", 0, False, mel), Track("Bass", 33, False, bass),
                  Track("Drums", 0, True, drums)])


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def test_wav_is_valid_long_enough_and_not_silent(tmp_path):
    song = _band(bars=4)  # 16 beats at 120 bpm = 8 s
    out = tmp_path / "band.wav"
    song.write(out)
    samples = _wav(out.read_bytes())
    seconds = len(samples) / RATE
    assert song.length_seconds <= seconds <= song.length_seconds + 3.0
    assert _rms(samples) > 0.01
    assert np.abs(samples).max() <= 1.0
    assert not list(tmp_path.glob(".*tmp*"))  # atomic: no temp file left


def test_tempo_map_sets_the_length():
    slow = _song([Track("M", 0, False, [Note(60, 0, 8, 90)])], tempo=60.0)  # 8 s
    fast = _song([Track("M", 0, False, [Note(60, 0, 8, 90)])], tempo=240.0)  # 2 s
    assert 8.0 <= len(_wav(audio.wav_bytes(slow))) / RATE <= 10.0
    assert 2.0 <= len(_wav(audio.wav_bytes(fast))) / RATE <= 4.0


def test_pickup_audio_starts_at_beat_0():
    """A 1-beat pickup in 4/4 sounds at once in the WAV (whatever the MIDI file's lead)."""
    song = _song([Track("M", 0, False, [Note(67, 0, 1, 100), Note(72, 1, 3, 100)])], tempo=60.0)
    song.pickup = 1.0
    x = _wav(audio.wav_bytes(song))
    assert song.length_seconds <= len(x) / RATE <= song.length_seconds + 1.5  # 4 s + release
    first = int(np.argmax(np.abs(x[:, 0]) > 0.01))
    assert first < 0.05 * RATE  # sound within 50 ms, not after 3 s of lead-in


def test_drums_on_channel_10_sound_as_drums():
    """A closed hi-hat (42) on the drum channel is noise-like and bright; the same notes
    on a piano are a low F#: the drum render must have far more high-frequency energy."""
    notes = [Note(42, b * 0.5, b * 0.5 + 0.2, 110) for b in range(16)]
    hat = _wav(audio.wav_bytes(_song([Track("Drums", 0, True, notes)])))[:, 0]
    piano = _wav(audio.wav_bytes(_song([Track("Piano", 0, False, [Note(n.pitch, n.start, n.end,
                                                                       n.velocity)
                                                                  for n in notes])])))[:, 0]

    def high_share(x):
        spec = np.abs(np.fft.rfft(x)) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / RATE)
        return spec[freqs > 4000].sum() / spec.sum()

    assert _rms(hat) > 0.01
    assert high_share(hat) > 0.2
    assert high_share(hat) > 10 * high_share(piano)


def test_drum_track_energy_in_a_band():
    """With the drums muted the render loses energy on the drum hits."""
    band = _band(bars=2)
    without = _song([t for t in band.tracks if not t.is_drum])
    a, b = _wav(audio.wav_bytes(band)), _wav(audio.wav_bytes(without))
    n = min(len(a), len(b))
    assert _rms(a[:n] - b[:n]) > 0.005  # the drum part is audible in the mix


def test_to_audio_shape_rate_and_song_method():
    song = _song([Track("M", 0, False, [Note(60, 0, 2, 90), Note(64, 2, 4, 90)])])  # 2 s
    x = song.to_audio(sample_rate=22050)
    assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 2
    assert 2.0 <= len(x) / 22050 <= 4.0
    assert _rms(x) > 0.01
    with pytest.raises(DeepcomposeError, match="sample_rate"):
        song.to_audio(sample_rate=10)


def test_ogg_is_opus_as_loud_and_long_as_the_wav(tmp_path):
    song = _band(bars=2)
    song.write(tmp_path / "x.ogg")
    song.write(tmp_path / "x.wav")
    data = (tmp_path / "x.ogg").read_bytes()
    assert data[:4] == b"OggS" and b"OpusHead" in data[:100]
    ogg, rate = audio.decode_ogg(data)
    wav = _wav((tmp_path / "x.wav").read_bytes())
    assert rate == RATE and ogg.shape[1] == 2
    assert abs(len(ogg) - len(wav)) < 0.05 * RATE  # same timeline (Opus pads a few ms)
    assert abs(20 * np.log10(_rms(ogg) / _rms(wav))) < 1.0  # same loudness, within 1 dB
    assert np.abs(ogg).max() < 1.0
    with pytest.raises(DeepcomposeError, match="Ogg"):
        audio.decode_ogg(b"OggS not really")


def test_ogg_of_a_pickup_starts_at_beat_zero_like_the_wav():
    third = 1 / 3  # too odd for a time signature: the MIDI file has a silent lead-in
    mel = [Note(72, 0.0, third, 100)] + [Note(67, third + b, third + b + 0.9, 100)
                                         for b in range(4)]
    song = _song([Track("Melody", 0, False, mel)])
    song.pickup = third
    ogg, _ = audio.decode_ogg(audio.ogg_bytes(song))
    wav = _wav(audio.wav_bytes(song))
    first = [int(np.argmax(np.abs(x).max(1) > 0.01)) for x in (ogg, wav)]
    assert abs(first[0] - first[1]) < 0.02 * RATE
    assert first[1] < 0.05 * RATE  # the pickup sounds at once


def test_render_midi_bytes_and_bad_inputs(tmp_path):
    from deepcompose.io.midi import midi_bytes

    data = audio.render_midi(midi_bytes(_band(bars=1)))
    assert _rms(_wav(data)) > 0.01
    with pytest.raises(DeepcomposeError, match="MIDI"):
        audio.render_midi(b"not a midi file")
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF0000junk")
    with pytest.raises(DeepcomposeError, match="SoundFont"):
        audio.render_midi(midi_bytes(_band(bars=1)), soundfont=bad)
    with pytest.raises(DeepcomposeError, match="not found"):
        audio.render_midi(midi_bytes(_band(bars=1)), soundfont=tmp_path / "missing.sf2")


def test_failed_write_leaves_nothing(tmp_path):
    out = tmp_path / "x.wav"
    with pytest.raises(DeepcomposeError):
        audio.write(_band(bars=1), out, soundfont=tmp_path / "missing.sf2")
    assert list(tmp_path.iterdir()) == []


def test_custom_soundfont_is_used(tmp_path):
    sf = tmp_path / "copy.sf2"
    sf.write_bytes(audio.default_soundfont().read_bytes())
    assert _rms(_wav(audio.wav_bytes(_band(bars=1), soundfont=sf))) > 0.01


def test_empty_song_is_a_valid_short_wav():
    x = _wav(audio.wav_bytes(Song()))
    assert len(x) / RATE <= 2.0


def test_examples_are_bundled_and_described():
    from deepcompose import melodies

    rows = melodies.describe()
    assert len(rows) >= 5
    meters = {r["meter"] for r in rows}
    assert {"4/4", "3/4", "6/8"} <= meters
    assert any(r["pickup"] > 0 for r in rows)
    assert all(r["source"] and r["bars"] >= 4 for r in rows)
    for name in melodies.names():
        assert melodies.load(name).note_count > 0
    with pytest.raises(DeepcomposeError, match="unknown example"):
        melodies.path("../../etc/passwd")


def _cli(*args, cwd=None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "deepcompose.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_cli_render_and_examples(tmp_path):
    import json

    from deepcompose.io.midi import midi_bytes

    src = tmp_path / "band.mid"
    src.write_bytes(midi_bytes(_band(bars=2)))
    r = _cli("render", str(src), "-o", str(tmp_path / "band.wav"))
    assert r.returncode == 0, r.stderr
    samples = _wav((tmp_path / "band.wav").read_bytes())
    assert _rms(samples) > 0.01 and 4.0 <= len(samples) / RATE <= 7.0
    r = _cli("examples", "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)) >= 4
    for args in (["render", str(src), "-o", str(tmp_path / "x.mp3")],
                 ["render", str(tmp_path / "missing.mid"), "-o", str(tmp_path / "y.wav")],
                 ["render", str(src), "-o", str(tmp_path / "z.wav"), "--soundfont",
                  str(src)]):
        r = _cli(*args)
        assert r.returncode == 2 and r.stderr.startswith("error: ")
        assert len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["band.mid", "band.wav"]


def test_compose_example_to_wav(tmp_path):
    """The README's first command: a bundled example, composed, as a playable WAV."""
    from deepcompose.models.registry import describe as describe_models

    if not any(r["name"] == "gan" and r["weights"] for r in describe_models()):
        pytest.skip("no shipped gan weights")
    r = _cli("compose", "--example", "row-your-boat", "--model", "gan", "-o", "demo.wav",
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    from deepcompose import melodies

    seconds = melodies.load("row-your-boat").length_seconds
    samples = _wav((tmp_path / "demo.wav").read_bytes())
    assert seconds <= len(samples) / RATE <= seconds + 3.0
    assert _rms(samples) > 0.01
    r = _cli("compose", "--example", "nope", "--model", "gan", "-o", "x.wav", cwd=tmp_path)
    assert r.returncode == 2 and "unknown example" in r.stderr


def test_batch_writes_a_wav_beside_each_output(tmp_path):
    from deepcompose import melodies
    from deepcompose.batch import run_batch
    from deepcompose.models.registry import describe as describe_models

    if not any(r["name"] == "gan" and r["weights"] for r in describe_models()):
        pytest.skip("no shipped gan weights")
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for name in ("row-your-boat", "pop-hook"):
        (src / f"{name}.json").write_bytes(melodies.path(name).read_bytes())
    summary = run_batch(src, out, model="gan", workers=1, audio="wav", progress=False)
    assert summary["ok"] == 2, summary
    for name in ("row-your-boat", "pop-hook"):
        assert (out / f"{name}.mid").exists()
        samples = _wav((out / f"{name}.wav").read_bytes())
        assert _rms(samples) > 0.01
