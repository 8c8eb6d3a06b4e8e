"""Plans: how ``compose`` turns a Song into what a model sees and its output back into a Song.

One module per representation: ``voices`` (the voice grid ``[4, steps]`` of the chorale
models) and ``band`` (the multi-track band of ``gan --style pop``). Each has
``run(song, melody_index, model, task, controls) -> Song``.
"""

from __future__ import annotations


def plan_module(model: str, controls: dict) -> str:
    """The plan a model + style speaks: ``band`` for ``gan --style pop``, else ``voices``."""
    return "band" if model == "gan" and controls.get("style") == "pop" else "voices"
