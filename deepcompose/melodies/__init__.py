"""Example melodies bundled with the package, to compose right after install.

    deepcompose.melodies.names()          # ['amazing-grace', 'barbara-allen', ...]
    deepcompose.melodies.path("ode-to-joy")   # Path of its .json file (JSON notes schema)
    deepcompose.melodies.describe()       # [{'name', 'title', 'meter', 'bars', 'pickup', ...}]

``compose --example NAME`` uses one instead of ``--melody``; ``deepcompose examples``
lists them; the studio page offers them. Sources are in README.md beside this file.
"""

from .catalog import FOLDER, SOURCES, describe, load, names, path

__all__ = ["FOLDER", "SOURCES", "describe", "load", "names", "path"]
