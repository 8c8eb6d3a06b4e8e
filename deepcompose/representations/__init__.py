"""What models see: arrays encoded from Songs and decoded back into tracks.

- ``voices``: the voice grid ``[voices, steps]`` of single-note voices (JSB chorales).
"""
