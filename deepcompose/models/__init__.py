"""Model families. Import is lazy: see ``deepcompose.models.base.get_model``."""
