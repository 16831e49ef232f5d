"""The source stays free of what pyflakes and pycodestyle find: unused imports and names, undefined names,
lines past 119 columns (pyproject.toml's [tool.ruff])."""
import subprocess
import sys

from tests.helpers import ROOT


def test_ruff_finds_nothing():
    found = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                           cwd=ROOT, capture_output=True, text=True)
    assert found.returncode == 0, found.stdout + found.stderr
