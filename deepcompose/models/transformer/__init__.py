"""The music transformer (``--model transformer``): four voices as one token stream."""

from .composer import TransformerComposer as TransformerComposer
