"""The API image (core dependencies only) carries no torch: nothing it runs imports it."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "torch",
    "torchvision",
    "ultralytics",
    "cv2",
    "av",
    "onnxruntime",
    "rapidocr_onnxruntime",
    "ray",
)


def test_core_dependencies_leave_the_detector_stack_to_its_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    extra = " ".join(project["optional-dependencies"]["detector"])
    for name in ("torch", "ultralytics", "opencv-python", "onnxruntime"):
        assert name not in core and name in extra


def test_api_consumers_and_commands_import_no_detector_stack() -> None:
    code = (
        "import sys\n"
        "import registry.app, registry.bootstrap, consumers.evidence, consumers.enforcement\n"
        "import dozor_cli.cli\n"
        "registry.app.create_app\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
