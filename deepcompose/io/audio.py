"""Audio: a Song rendered through a General MIDI SoundFont to WAV (or Ogg Opus).

    deepcompose.io.write(song, "out.wav")            # or song.write("out.wav"); .ogg = Opus
    samples = to_audio(song)                          # float32 [samples, 2] at 44.1 kHz
    data = wav_bytes(song)                            # a whole .wav file in memory
    data = render_midi(open("x.mid", "rb").read())    # any MIDI bytes -> .wav bytes

The synthesizer is ``midirenderer`` (MIT, a Rust wheel: rustysynth, a FluidSynth-style
SoundFont synth); Opus is encoded by ``soundfile`` (libsndfile, bundled in its wheel), so
nothing outside pip is needed. The default SoundFont is the General MIDI one that
``pretty_midi`` ships (``TimGM6mb.sf2``, 6 MB); ``soundfont=PATH`` picks a better one
(any ``.sf2``). Drums are MIDI channel 10, which
the synth plays from the SoundFont's drum bank (128).

The song goes through ``io.midi.midi_bytes`` (tempo map, programs, drum channel), so the
audio is the song's seconds through its tempo map, plus ``TAIL_S`` of release so the last
notes ring out instead of being cut. WAV, Opus and ``to_audio`` start at beat 0 (a pickup
is a short first MIDI bar; the silent lead-in a MIDI file has before an odd pickup is cut).

WAV (16-bit) and Ogg Opus are stereo at the synth's 48 kHz (no resampling), both
peak-normalized to -1 dBFS (the synth alone peaks near -20 dBFS).
``to_audio`` resamples to ``sample_rate`` by linear interpolation (fine for listening and
analysis; write the WAV for the native rate).
"""

from __future__ import annotations

import functools
import io
import wave
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_bytes
from ..errors import DeepcomposeError

NATIVE_RATE = 48_000  # midirenderer's output rate
TAIL_S = 1.0  # seconds of release after the last note
PEAK = 0.89  # output is peak-normalized to -1 dBFS ...
MAX_GAIN = 16.0  # ... with at most this gain (the synth renders at about -20 dBFS)
MAX_SOUNDFONT_BYTES = 1 << 30  # 1 GiB: a sanity cap for --soundfont


def default_soundfont() -> Path:
    """The General MIDI SoundFont shipped inside pretty_midi (``TimGM6mb.sf2``)."""
    import pretty_midi

    return Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")


@functools.lru_cache(maxsize=4)
def _soundfont_bytes(path: str, mtime: float) -> bytes:
    del mtime  # part of the cache key only: a changed file is read again
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_SOUNDFONT_BYTES:
            raise DeepcomposeError(f"soundfont {p.name} is {size:,} bytes; the limit is 1 GiB")
        data = p.read_bytes()
    except OSError as e:
        raise DeepcomposeError(f"cannot read soundfont {p}: {e.strerror or e}") from None
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise DeepcomposeError(f"{p} is not a SoundFont 2 (.sf2) file")
    return data


def load_soundfont(soundfont=None) -> bytes:
    """The bytes of ``soundfont`` (a path; None = the default GM SoundFont), checked."""
    path = Path(soundfont) if soundfont is not None else default_soundfont()
    if not path.is_file():
        if soundfont is None:
            raise DeepcomposeError(f"the default SoundFont is missing ({path}); reinstall "
                                   "pretty_midi or pass --soundfont FILE.sf2")
        raise DeepcomposeError(f"soundfont not found: {path}")
    return _soundfont_bytes(str(path.resolve()), path.stat().st_mtime)


def _renderer():
    try:
        import midirenderer
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise DeepcomposeError("audio needs the 'midirenderer' package: "
                               "python -m pip install midirenderer") from None
    return midirenderer


def _with_tail(midi: bytes, tail_s: float = TAIL_S) -> bytes:
    """MIDI bytes with one harmless event (CC 110, undefined) ``tail_s`` after the last
    event, so that the synth renders the release of the last notes."""
    import mido

    try:
        mid = mido.MidiFile(file=io.BytesIO(midi))
    except Exception as e:  # mido raises several types for bad files
        raise DeepcomposeError(f"not a valid MIDI file ({e})"[:200]) from None
    if mid.type == 2 or not mid.tracks:
        return midi
    end, tempo = 0, 500_000
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempo = msg.tempo  # the tempo in force at the end (good enough for a tail)
        end = max(end, tick)
    tail = int(round(tail_s * 1e6 / tempo * mid.ticks_per_beat))
    mid.tracks.append(mido.MidiTrack([
        mido.Message("control_change", channel=0, control=110, value=0, time=end + tail)]))
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


def render_midi(midi: bytes, soundfont=None, fmt: str = "wav", tail_s: float = TAIL_S) -> bytes:
    """Bytes of a MIDI file -> bytes of a ``.wav`` (16-bit stereo, 48 kHz) or an ``.ogg``
    (Opus, ``fmt="ogg"``) file. DeepcomposeError for bad MIDI or a bad SoundFont."""
    if fmt not in ENCODERS:
        raise DeepcomposeError(f"unknown audio format {fmt!r}; use wav or ogg")
    midi = _with_tail(midi, tail_s) if tail_s > 0 else midi
    samples, rate = _render(midi, soundfont)
    return ENCODERS[fmt](normalize(samples), rate)


def _render(midi: bytes, soundfont=None) -> tuple[np.ndarray, int]:
    """MIDI bytes through the synth -> (float32 ``[samples, 2]``, sample rate)."""
    sf = load_soundfont(soundfont)
    return decode_wav(_call(_renderer().render_wave_from, sf, midi))


def _call(fn, *args, **kwargs) -> bytes:
    try:
        return fn(*args, **kwargs)
    except BaseException as e:  # a Rust panic arrives as a BaseException subclass
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise DeepcomposeError(f"cannot render audio: {e}".splitlines()[0][:300]) from None


def lead_seconds(song) -> float:
    """Seconds of silence the MIDI file has before the song (``midi_write.lead_beats``,
    at the first tempo): none when the pickup is written as a short first bar."""
    from .midi_write import lead_beats

    return lead_beats(song) * 60.0 / song.tempos[0][1]


def _song_samples(song, soundfont=None) -> tuple[np.ndarray, int]:
    """The song rendered, normalized and with the pickup's lead-in cut: sample 0 is beat 0."""
    samples, rate = _render(_with_tail(_midi_of(song)), soundfont)
    samples = samples[int(round(lead_seconds(song) * rate)):]
    return normalize(samples), rate


def normalize(samples: np.ndarray) -> np.ndarray:
    """Scale to a peak of ``PEAK`` (at most ``MAX_GAIN`` times louder; silence stays)."""
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak <= 0.0:
        return samples
    return samples * np.float32(min(PEAK / peak, MAX_GAIN))


def _midi_of(song) -> bytes:
    from .midi import midi_bytes

    return midi_bytes(song)


def wav_bytes(song, soundfont=None, sample_rate: int | None = None) -> bytes:
    """``song`` as the bytes of a WAV file (16-bit stereo; ``sample_rate`` None = 48 kHz)."""
    if sample_rate is None:
        sample_rate = NATIVE_RATE
    return encode_wav(to_audio(song, sample_rate, soundfont), sample_rate)


def ogg_bytes(song, soundfont=None) -> bytes:
    """``song`` as the bytes of an Ogg Opus file (stereo, 48 kHz)."""
    return encode_ogg(*_song_samples(song, soundfont))


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV bytes -> (float32 ``[samples, channels]`` in -1..1, sample rate)."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            if w.getsampwidth() != 2:
                raise DeepcomposeError("only 16-bit WAV is supported")
            rate, channels = w.getframerate(), w.getnchannels()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise DeepcomposeError(f"not a valid WAV file ({e})") from None
    pcm = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    return pcm.astype(np.float32) / 32768.0, rate


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """float ``[samples, channels]`` (or 1-D mono) in -1..1 -> 16-bit PCM WAV bytes."""
    a = np.asarray(samples, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    pcm = (np.clip(a, -1.0, 1.0) * 32767.0).round().astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def encode_ogg(samples: np.ndarray, sample_rate: int) -> bytes:
    """float ``[samples, channels]`` in -1..1 -> Ogg Opus bytes (libsndfile via soundfile)."""
    import soundfile

    out = io.BytesIO()
    soundfile.write(out, np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0),
                    int(sample_rate), format="OGG", subtype="OPUS")
    return out.getvalue()


def decode_ogg(data: bytes) -> tuple[np.ndarray, int]:
    """Ogg (Opus or Vorbis) bytes -> (float32 ``[samples, channels]``, sample rate)."""
    import soundfile

    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except RuntimeError as e:  # soundfile's LibsndfileError is one
        raise DeepcomposeError(f"not a valid Ogg file ({e})"[:200]) from None
    return samples, rate


ENCODERS = {"wav": encode_wav, "ogg": encode_ogg}


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Linear-interpolation resampling of ``[samples, channels]`` (float32 out)."""
    if rate_in == rate_out or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    n_out = int(round(len(samples) * rate_out / rate_in))
    t = np.arange(n_out, dtype=np.float64) * (rate_in / rate_out)
    x = np.arange(len(samples), dtype=np.float64)
    return np.stack([np.interp(t, x, samples[:, c]) for c in range(samples.shape[1])],
                    axis=1).astype(np.float32)


def to_audio(song, sample_rate: int = 44100, soundfont=None) -> np.ndarray:
    """``song`` rendered to float32 samples ``[samples, 2]`` (stereo) at ``sample_rate``.

    Sample 0 is beat 0 of the song (a pickup starts at once); the length is the song's
    seconds through its tempo map plus ``TAIL_S`` of release.
    """
    if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or \
            not 8000 <= sample_rate <= 192_000:
        raise DeepcomposeError(f"sample_rate must be an integer from 8000 to 192000, "
                               f"not {sample_rate!r}")
    samples, rate = _song_samples(song, soundfont)
    return resample(samples, rate, sample_rate)


def write(song, path, soundfont=None) -> None:
    """Write ``song`` as ``.wav`` (16-bit stereo 48 kHz) or ``.ogg`` (Opus), atomically."""
    ext = Path(path).suffix.lower()
    if ext not in (".wav", ".ogg"):
        raise DeepcomposeError(f"cannot write audio to {Path(path).name!r}: use .wav or .ogg")
    data = ogg_bytes(song, soundfont) if ext == ".ogg" else wav_bytes(song, soundfont)
    atomic_write_bytes(path, data)
