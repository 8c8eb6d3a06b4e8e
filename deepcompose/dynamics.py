"""Written dynamics as MIDI velocities (MuseScore's default levels), one table for reading
scores (a mark sets the level of the notes after it) and writing them (the mark nearest a
part's velocity)."""

LEVELS = {"pppp": 10, "ppp": 16, "pp": 33, "p": 49, "mp": 64, "mf": 80, "f": 96, "ff": 112,
          "fff": 126, "ffff": 127, "n": 10}
WRITTEN = ("pp", "p", "mp", "mf", "f", "ff")  # the marks a generated part is written with
