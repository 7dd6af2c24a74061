"""Does OpenVINO INT8 keep the reference's events on footage it was not calibrated on?

Usage (from the repo root): python -m bench.int8_holdout [--work DIR]
NNCF calibrates the INT8 export on frames of our own clips, and the eval test
(tests/integration/test_eval_backends.py) scores it on those same clips. Here each labelled
clip is left out in turn: the export is calibrated on the other clips and images of the shared
media (about half a minute to two minutes a clip), then `dozor eval` scores the clip it never
saw, at the live rate, against the reference (LiteRT on the int8 TFLite, `./dev`'s default)
and against the export calibrated on every clip. It prints TP/FP/FN per rule for the three
and the events' times; the last line counts the held-out clips scored as the reference scores
them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.pipeline_bench import CHECKPOINT, REFERENCE_MODEL, media

LABELS = Path(__file__).resolve().parents[1] / "tests" / "ground_truth"
INT8_RECT = {"DOZOR_BACKEND": "openvino", "DOZOR_OPENVINO_INT8": "true"}
INT8_RECT |= {"DOZOR_OPENVINO_RECT": "true", "DOZOR_MODEL": str(CHECKPOINT)}

Scores = dict[str, tuple[int, int, int]]


def evaluate(stems: list[str], env: dict[str, str], work: Path) -> dict[str, Any]:
    """`dozor eval` on ``stems`` with ``env`` over the environment, in its own state
    directory (so no eval cache is shared): the JSON's clips by name."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / "eval.json"
    run_env = {**os.environ, **env, "DOZOR_STATE_DIR": str(work / "state")}
    command = [sys.executable, "-m", "dozor_cli.cli", "eval", *stems, "--json", str(out)]
    with (work / "eval.log").open("w") as log:
        subprocess.run(command, env=run_env, stdout=log, stderr=subprocess.STDOUT, check=True)
    return {clip["clip"]: clip for clip in json.loads(out.read_text())["clips"]}


def scores(clip: dict[str, Any]) -> Scores:
    return {rule: (s["tp"], s["fp"], s["fn"]) for rule, s in clip["scores"].items()}


def events(clip: dict[str, Any]) -> str:
    found = sorted(clip["events"], key=lambda e: e["time_s"])
    return ", ".join(f"{e['type']}@{e['time_s']:.1f}" for e in found) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="Where exports and evals go (default: temp).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="dozor-holdout-"))
    stems = sorted(p.stem for p in LABELS.glob("*.json"))
    shared = media(".")
    print(f"{len(stems)} labelled clips; exports and evals under {work}")
    reference = evaluate(
        stems, {"DOZOR_BACKEND": "litert", "DOZOR_MODEL": str(REFERENCE_MODEL)}, work / "ref"
    )
    every = evaluate(
        stems,
        {**INT8_RECT, "DOZOR_OPENVINO_CALIBRATION": str(shared), **_cache(work / "all")},
        work / "all",
    )
    kept = 0
    for stem in stems:
        fold = work / stem
        calibration = fold / "calibration"
        calibration.mkdir(parents=True, exist_ok=True)
        for path in shared.iterdir():
            if path.stem != stem and not (calibration / path.name).exists():
                (calibration / path.name).symlink_to(path.resolve())
        env = {**INT8_RECT, "DOZOR_OPENVINO_CALIBRATION": str(calibration), **_cache(fold)}
        held_out = evaluate([stem], env, fold)[stem]
        same = scores(held_out) == scores(reference[stem])
        kept += same
        print(f"\n{stem}: {'same scores' if same else 'SCORES DIFFER'}")
        for name, clip in (
            ("reference", reference[stem]),
            ("int8, every clip", every[stem]),
            ("int8, held out", held_out),
        ):
            print(f"  {name:17s} {scores(clip) or '-'}  events: {events(clip)}")
    print(f"\nheld-out clips scored as the reference: {kept}/{len(stems)}")


def _cache(directory: Path) -> dict[str, str]:
    return {"DOZOR_MODELS_CACHE": str(directory / "models")}


if __name__ == "__main__":
    main()
