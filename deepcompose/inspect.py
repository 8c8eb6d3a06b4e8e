"""``deepcompose inspect``: what a file holds, as a dict (``--json``) or as text.

Note counts are the notes deepcompose reads: positive length, tied notes merged
(MusicXML/ABC), zero-length notes and notes never switched off dropped (MIDI) — the
same notes pretty_midi counts on MIDI files.
"""

from __future__ import annotations

from . import keys
from .song import Song


def describe(song: Song, path=None) -> dict:
    """Tracks, tempo map, meter, bars, estimated key and length of ``song``.

    Keys: ``file`` (when ``path`` is given), ``tracks`` [{name, program, is_drum, notes}],
    ``notes`` (non-drum total), ``tempo_bpm`` (first), ``tempos`` [[beat, bpm]],
    ``time_signature`` [num, den] (first), ``time_signatures`` [[beat, num, den]],
    ``pickup_beats``, ``bars``, ``key`` (estimated from the notes, e.g. "G major"),
    ``key_signature`` (the source's, or None), ``length_beats``, ``length_seconds``.
    """
    out = {"file": str(path)} if path is not None else {}
    out.update({
        "tracks": [
            {"name": t.name, "program": t.program, "is_drum": t.is_drum, "notes": len(t.notes)}
            for t in song.tracks
        ],
        "notes": sum(len(t.notes) for t in song.tracks if not t.is_drum),
        "tempo_bpm": round(song.tempos[0][1], 3),
        "tempos": [[round(b, 4), round(bpm, 3)] for b, bpm in song.tempos],
        "time_signature": list(song.time_signatures[0][1:]),
        "time_signatures": [[round(b, 4), n, d] for b, n, d in song.time_signatures],
        "pickup_beats": round(song.pickup, 4),
        "bars": song.bars(),
        "key": keys.song_key_name(song),
        "key_signature": song.key,
        "length_beats": round(song.length_beats, 4),
        "length_seconds": round(song.length_seconds, 3),
    })
    return out


def format_text(d: dict) -> str:
    """The dict of ``describe`` as a short human-readable report."""
    lines = []
    if "file" in d:
        lines.append(d["file"])
    ts = "/".join(map(str, d["time_signature"]))
    more_ts = len(d["time_signatures"]) - 1
    meter = ts + (f" (+{more_ts} change{'s' * (more_ts > 1)})" if more_ts else "")
    more_t = len(d["tempos"]) - 1
    tempo = f"{d['tempo_bpm']:g} bpm" + (
        f" (+{more_t} change{'s' * (more_t > 1)})" if more_t else "")
    lines.append(f"  length  {d['length_beats']:g} beats, {d['length_seconds']:.1f} s, "
                 f"{d['bars']} bars" + (f" (pickup {d['pickup_beats']:g} beats)"
                                        if d["pickup_beats"] else ""))
    lines.append(f"  tempo   {tempo}")
    lines.append(f"  meter   {meter}")
    sig = f" (key signature: {d['key_signature']})" if d["key_signature"] else ""
    lines.append(f"  key     {d['key'] or 'n/a'} (estimated){sig}")
    lines.append(f"  tracks  {len(d['tracks'])}, {d['notes']} pitched notes")
    for i, t in enumerate(d["tracks"]):
        kind = "drums" if t["is_drum"] else f"program {t['program']}"
        lines.append(f"    {i}: {t['name'] or '(unnamed)'}  [{kind}]  {t['notes']} notes")
    return "\n".join(lines)
