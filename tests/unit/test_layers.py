"""The floors of docs/architecture.md hold: the import-linter contracts in pyproject.toml."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_import_runs_up_a_floor_and_there_are_no_cycles() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert f"Contracts: {len(contracts['contracts'])} kept, 0 broken." in done.stdout


def test_the_architecture_picture_names_every_layer_of_the_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (floors,) = [c for c in config["contracts"] if c["id"] == "floors"]
    picture = (ROOT / "docs" / "architecture.md").read_text()
    modules = {m for layer in floors["layers"] for m in re.split(r"[|:]", layer)}
    missing = sorted(m.strip() for m in modules if f"`{m.strip()}`" not in picture)
    assert missing == []
