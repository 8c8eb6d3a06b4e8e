"""The code keeps the project's lint rules (ruff, as configured in pyproject.toml)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is not installed (it comes with the dev extra)")
def test_ruff_is_clean():
    paths = ["deepcompose", "tests", "benchmarks", "examples", "cli.py"]
    r = subprocess.run([sys.executable, "-m", "ruff", "check", *paths], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]
