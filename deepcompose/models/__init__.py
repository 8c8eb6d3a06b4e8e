"""Model families: one package each, one row each in ``registry`` (the family table).

Reading the table imports no torch; a family's package is imported when its player is
first loaded (``common.weights.get_model``).
"""
