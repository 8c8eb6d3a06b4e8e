"""Plans: how ``compose`` turns a Song into what a family sees and its output back into a Song.

One module per representation, named by the family's row (``models.registry``): ``voices``
(the voice grid ``[4, steps]`` of the chorale models), ``band`` (notes in beats per
track: the band and its drums, the quartet) and ``melody`` (one melodic line as melody
tokens: the melody transformer). Each has ``run(song, melody_index, family, task,
controls) -> Song``.
"""
