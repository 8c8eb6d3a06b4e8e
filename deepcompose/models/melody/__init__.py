"""The melody transformer (``--model transformer --style pop|folk|classical``): one melodic
line continued or infilled in its own style."""
