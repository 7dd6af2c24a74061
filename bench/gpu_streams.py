"""Streams per GPU: batched inference of the torch checkpoint on 720p frames.

Usage (from the repo root): python -m bench.gpu_streams [--device cuda:0] [--fps 5]
    [--batches 1,8,16,32,64] [--seconds 10]
Runs the torch weights (DOZOR_GPU_MODEL, default ../shared/models/yolo11n_from_int8tflite.pt)
through ultralytics predict at each batch size and prints frames per second, the ratio to
batch 1 measured in the same run, and the streams one device serves at the analysis rate.
Without a GPU it runs on the CPU (use small batches and seconds there). Decode is not
included: a GPU worker decodes on its CPU cores (see worker_capacity_bench for its cost).
"""

from __future__ import annotations

import argparse
import os
import time

from bench.pipeline_bench import SHARED, load_frames, media
from detectors.backends.base import TRAFFIC_CLASSES

CLIP = "dual_carriageway_uk_approaching.mp4"


def main() -> None:
    import torch
    from ultralytics import YOLO

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--fps", type=float, default=5.0, help="Analysis rate per stream.")
    parser.add_argument("--batches", default="1,8,16,32,64")
    parser.add_argument("--seconds", type=float, default=10.0, help="Per batch size.")
    parser.add_argument("--half", action="store_true", help="FP16 (GPU only).")
    args = parser.parse_args()

    weights = os.environ.get(
        "DOZOR_GPU_MODEL", str(SHARED / "models" / "yolo11n_from_int8tflite.pt")
    )
    model = YOLO(weights, task="detect")
    sizes = [int(b) for b in args.batches.split(",")]
    _, frames = load_frames(media(CLIP), max(sizes))
    images = [f.image for f in frames]
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    print(f"{weights.rsplit('/', 1)[-1]} on {args.device} ({name}), 720p frames, half={args.half}")
    print(f"batch  frames/s  ratio-to-batch-1  ms/frame  streams@{args.fps:g}fps")
    base = None
    for size in sizes:
        batch = (images * (size // len(images) + 1))[:size]

        def run(batch: list = batch) -> None:
            model.predict(
                batch,
                classes=list(TRAFFIC_CLASSES),
                conf=0.25,
                device=args.device,
                verbose=False,
                **({"half": True} if args.half else {}),
            )

        run()  # warm-up: kernels, allocations
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            run()
            done += size
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        fps = done / (time.perf_counter() - start)
        base = base or fps
        print(
            f"{size:5d}  {fps:8.1f}  {fps / base:16.2f}  {1000 / fps:8.2f}  "
            f"{int(fps // args.fps):8d}"
        )


if __name__ == "__main__":
    main()
