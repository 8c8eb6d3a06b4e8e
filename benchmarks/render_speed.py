"""Audio render speed: a ~3-minute four-track song with drums, rendered to WAV.

Song: 120 bpm, 4/4, 90 bars (180 s): an eighth-note melody, a quarter-note bass, four-note
chords on every half bar (keys) and a rock beat on MIDI channel 10 (kick, snare, closed
hi-hat on eighths), about 3,600 notes, through ``deepcompose.io.audio.wav_bytes`` with the
default GM SoundFont (pretty_midi's TimGM6mb.sf2). Prints seconds and the ratio to the
song's duration; the target is under 0.10 (ten times faster than real time).

Usage: ``python benchmarks/render_speed.py [--repeats 3] [--json]``
"""

from __future__ import annotations

import argparse
import json
import time

from deepcompose.io import audio
from deepcompose.song import Note, Song, Track

TARGET_RATIO = 0.10


def three_minute_song(bars: int = 90) -> Song:
    chords = [(57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62)]  # Am F C G
    melody, bass, keys, drums = [], [], [], []
    for bar in range(bars):
        t0 = bar * 4.0
        root = chords[bar % 4]
        for i in range(8):
            melody.append(Note(root[i % 3] + 12 + (5 if i % 4 == 3 else 0), t0 + i * 0.5,
                               t0 + i * 0.5 + 0.45, 96))
            drums.append(Note(42, t0 + i * 0.5, t0 + i * 0.5 + 0.1, 70))  # closed hi-hat
        for beat in range(4):
            bass.append(Note(root[0] - 12, t0 + beat, t0 + beat + 0.9, 100))
            drums.append(Note(36 if beat % 2 == 0 else 38, t0 + beat, t0 + beat + 0.1, 110))
        for half in range(2):
            for p in root + (root[0] + 12,):
                keys.append(Note(p, t0 + 2 * half, t0 + 2 * half + 1.9, 75))
    return Song(tracks=[Track("Melody", 73, False, melody), Track("Bass", 33, False, bass),
                        Track("Keys", 0, False, keys), Track("Drums", 0, True, drums)],
                tempos=[(0.0, 120.0)], time_signatures=[(0.0, 4, 4)])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    song = three_minute_song()
    audio.load_soundfont()  # read the SoundFont once, outside the timing (a server keeps it)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        data = audio.wav_bytes(song)
        times.append(time.perf_counter() - t)
    samples, rate = audio.decode_wav(data)
    best = min(times)
    result = {"song_seconds": round(song.length_seconds, 2), "notes": song.note_count,
              "tracks": len(song.tracks), "audio_seconds": round(len(samples) / rate, 2),
              "render_seconds_best": round(best, 3),
              "render_seconds_all": [round(x, 3) for x in times],
              "ratio": round(best / song.length_seconds, 4), "target_ratio": TARGET_RATIO}
    result["met"] = result["ratio"] < TARGET_RATIO
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['notes']} notes, {result['tracks']} tracks, {result['song_seconds']} s "
              f"of music -> {result['audio_seconds']} s of audio")
        print(f"render: {best:.2f} s (best of {args.repeats}; all {result['render_seconds_all']})"
              f"; ratio {result['ratio']:.3f} of real time (target < {TARGET_RATIO})")
    return result


if __name__ == "__main__":
    main()
