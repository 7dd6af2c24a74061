"""Plate reading on the shared photos: reading, verdict against MANIFEST.md, ms per read.

Usage (from the repo root): python -m bench.plates_bench [--engine rapidocr] [--repeats 5]
Media come from DOZOR_MEDIA_DIR, default the shared/media folder beside the repo.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from pathlib import Path

import cv2

from detectors.plates import read_plate
from detectors.plates.ocr import DEFAULT_ENGINE, get_reader

PHOTOS = (
    "ru_plate_skoda_parked_curb.jpg",
    "su_plate_lada_parked_curb.jpg",
    "ru_plate_audi_street.jpg",
)


def ground_truth(manifest: Path) -> dict[str, str]:
    """File name -> plate text, from the bold plate in each image row of the manifest."""
    truth: dict[str, str] = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*(\S+\.jpg)\s*\|.*\*\*(.+?)\*\*", line)
        if row:
            truth[row.group(1)] = row.group(2)
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    default_media = Path(__file__).resolve().parents[2] / "shared" / "media"
    media = Path(os.environ.get("DOZOR_MEDIA_DIR", default_media))
    truth = ground_truth(media / "MANIFEST.md")

    started = time.perf_counter()
    get_reader(args.engine)
    print(f"engine {args.engine}: model load {(time.perf_counter() - started) * 1000:.0f} ms")

    correct = judged = 0
    all_ms: list[float] = []
    for name in PHOTOS:
        image = cv2.imread(str(media / name))
        if image is None:
            print(f"{name}: missing")
            continue
        read_plate(image, args.engine)  # warm-up: first run allocates ONNX buffers
        times: list[float] = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            reading = read_plate(image, args.engine)
            times.append((time.perf_counter() - started) * 1000)
        all_ms.extend(times)
        text = reading.formatted if reading else "-"
        expected = truth.get(name)
        if expected is None:
            verdict = "no ground truth"
        else:
            judged += 1
            ok = reading is not None and reading.formatted.replace(" ", "") == expected.replace(
                " ", ""
            )
            correct += ok
            verdict = "correct" if ok else f"INCORRECT (expected {expected})"
        detail = (
            f"raw={reading.raw!r} conf={reading.confidence:.2f} valid={reading.valid}"
            if reading
            else ""
        )
        print(f"{name}: {text!r} {verdict}; {statistics.median(times):.0f} ms/read {detail}")
    if all_ms:
        median = statistics.median(all_ms)
        print(f"correct {correct}/{judged} with ground truth; median {median:.0f} ms/read")


if __name__ == "__main__":
    main()
