"""What models see: arrays encoded from Songs and decoded back into tracks.

- ``voices``: the voice grid ``[voices, steps]`` of single-note voices (JSB chorales).
- ``multitrack``: the band's multi-track piano roll ``[tracks, steps, 128]`` with track
  roles.
- ``bars``: bar lines through changes of meter, the bar map everything that counts bars uses.
- ``drums``: drum classes and the drum roll of the drum model.
"""
