"""FL Studio piano-roll script: export the melody to JSON, import the composed parts.

FL's piano-roll scripts run inside FL, so the exchange goes through two JSON files
in ``~/deepcompose-fl/`` (beats throughout):

1. Copy this file to FL's "Piano roll scripts" folder as ``deepcompose.pyscript``.
2. In the piano roll: Tools > Scripting > deepcompose, action "Export melody".
3. In a terminal, either way (the second needs ``deepcompose serve`` running):

       cd ~/deepcompose-fl
       compose --notes-json melody.json --model gan -o composed.json
       curl -s --data-binary @melody.json http://127.0.0.1:8765/compose > composed.json

4. Run the script again with action "Import parts": the new voices are added to the
   score, one note colour per voice (your melody stays as it was).

FL notes carry ``time`` and ``length`` in ticks (``score.PPQ`` per quarter note) and
``velocity`` in 0..1; the JSON schema has beats and MIDI velocities 1..127.
"""

import json
import os

try:
    import flpianoroll as flp
except ImportError:  # outside FL: the converters below still import and work
    flp = None

FOLDER = os.path.join(os.path.expanduser("~"), "deepcompose-fl")
MELODY, COMPOSED = "melody.json", "composed.json"


def score_to_request(notes, ppq, ts_num=4, ts_den=4, model="gan", seed=0):
    """FL notes ``(number, time_ticks, length_ticks, velocity_0_1)`` -> a compose request."""
    return {"time_signature": [ts_num or 4, ts_den or 4], "model": model, "seed": seed,
            "notes": [{"pitch": int(p), "start": t / ppq, "duration": n / ppq,
                       "velocity": max(1, min(127, round(v * 127)))}
                      for p, t, n, v in notes if n > 0]}


def song_to_score(song, ppq, skip=1):
    """Composed JSON -> FL notes ``(number, time_ticks, length_ticks, velocity_0_1, color)``
    for every track after the first ``skip`` (the melody already in the score)."""
    out = []
    for k, track in enumerate(song["tracks"][skip:], start=1):
        for n in track["notes"]:
            time = round(n["start"] * ppq)
            length = max(1, round((n["start"] + n["duration"]) * ppq) - time)
            out.append((n["pitch"], time, length, n["velocity"] / 127, k % 16))
    return out


def createDialog():  # pragma: no cover - FL calls these two
    form = flp.ScriptDialog("deepcompose", f"Exchange notes with deepcompose via {FOLDER}")
    form.AddInputCombo("Action", "Export melody,Import parts", 0)
    return form


def apply(form):  # pragma: no cover
    score = flp.score
    os.makedirs(FOLDER, exist_ok=True)
    if form.GetInputValue("Action") == 0:
        notes = [score.getNote(i) for i in range(score.noteCount)]
        request = score_to_request([(n.number, n.time, n.length, n.velocity) for n in notes],
                                   score.PPQ, score.tsnum, score.tsden)
        with open(os.path.join(FOLDER, MELODY), "w") as f:
            json.dump(request, f)
        return
    with open(os.path.join(FOLDER, COMPOSED)) as f:
        song = json.load(f)
    for number, time, length, velocity, color in song_to_score(song, score.PPQ):
        note = flp.Note()
        note.number, note.time, note.length = number, time, length
        note.velocity, note.color = velocity, color
        score.addNote(note)
