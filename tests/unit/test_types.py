"""The code type-checks: mypy with the configuration in pyproject.toml (strict on contract/).

A unit test rather than a separate step so that every landing runs it; mypy's cache
(.mypy_cache) makes a repeat run take about a second.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_mypy_finds_no_errors() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stdout + out.stderr
