"""Run the CLI from a checkout without installing: ``python cli.py compose ...``.

The CLI lives in ``deepcompose/cli.py``; the installed ``compose`` and ``deepcompose``
commands point there.
"""

from deepcompose.cli import deepcompose_main

if __name__ == "__main__":
    deepcompose_main()
