"""One GPU for the city: how many live streams one GPU machine analyses at the analysis rate.

Usage (from the repo root): python -m bench.gpu_streams [--streams 16,32,64,110] [--fps 8]
    [--seconds 20] [--workers 8] [--batch 64] [--clip NAME] [--json OUT]
Each stream is a real clip played as a live camera (its own decode thread, wall-clock
stamps, frames dropped when analysis falls behind, the clip restarting when it ends). The
streams are shared among worker processes, as worker pods share a GPU node; each runs the
live worker's own loop (detectors/analyser.py): one batch across its cameras through the
backend the settings choose (default here: `torch`, FP16 on the first GPU) on its inference
thread, while its main thread runs per-camera tracking, rules and evidence (to memory) for the
batch before. For each stream count it prints the analysed fps per stream (slowest and mean)
against the target, the share of frames dropped, the batch size, milliseconds per analysed
frame by stage, and the GPU's utilisation and memory (NVML) and the CPU's over the
measurement. The last line is the number of streams sustained (every stream at 95% of the
target or better).

Decoding runs on the CPU cores (OpenCV's FFmpeg), which is why the processes are many: a
2-core CPU worker decodes and tracks too (bench/worker_capacity_bench.py measures that).
Without a GPU the same script runs on the CPU (use few streams); `bench/gpu_run.sh` is the
prepared command for a lent GPU machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.pipeline_bench import CLIP_CAMERAS, engine_settings, media
from dozor.settings import Settings

CLIP = "dual_carriageway_uk_approaching.mp4"
SUSTAINED = 0.95


@dataclass
class WorkerResult:
    streams: int
    seconds: float
    analysed: list[int]
    delivered: int
    dropped: int
    frames: int
    batches: int
    inference_s: float
    pipeline_s: float


def _worker(
    clip: str, streams: int, fps: float, batch: int, seconds: float, ready: Any, go: Any, out: Any
) -> None:
    """One worker process: its streams, its own backend, the worker's analysis loop."""
    from bench.worker_capacity_bench import analyse_for, live_cameras
    from detectors.backends import backend_from_settings
    from detectors.sources import FileSource
    from detectors.stream_reader import ReaderOptions

    detector = backend_from_settings(_settings())
    detector.detect([next(FileSource(media(clip)).frames()).image])  # set-up, not a cost
    # A file played as a camera restarts at once when it ends, like a stream that never stops.
    options = ReaderOptions(analysis_fps=fps, queue_frames=1, backoff_initial_s=0.01)
    runs = live_cameras(detector, clip, streams, options)
    ready.put(os.getpid())
    go.wait()  # start together with the other processes
    times, elapsed = analyse_for(runs, detector, batch, seconds)
    out.put(
        WorkerResult(
            streams=streams,
            seconds=elapsed,
            analysed=[r.analysed for r in runs],
            delivered=sum(r.source.reader.stats.delivered for r in runs),
            dropped=sum(r.source.reader.stats.dropped for r in runs),
            frames=times.frames,
            batches=times.batches,
            inference_s=times.inference_s,
            pipeline_s=times.pipeline_s,
        )
    )


def _settings() -> Settings:
    """The engine the settings choose; torch where DOZOR_BACKEND is unset."""
    chosen = Settings()
    return engine_settings(
        backend=chosen.backend if "backend" in chosen.model_fields_set else "torch"
    )


class Sampler:
    """GPU (NVML) and CPU utilisation, sampled on a thread while a measurement runs."""

    def __init__(self, gpu_index: int | None) -> None:
        self.gpu: list[float] = []
        self.memory_mib: list[float] = []
        self.cpu: list[float] = []
        self._stop = threading.Event()
        self._handle = None
        if gpu_index is not None:
            import pynvml

            pynvml.nvmlInit()
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(gpu_index)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        psutil.cpu_percent()
        while not self._stop.wait(0.5):
            self.cpu.append(psutil.cpu_percent())
            if self._handle is not None:
                import pynvml

                self.gpu.append(pynvml.nvmlDeviceGetUtilizationRates(self._handle).gpu)
                self.memory_mib.append(pynvml.nvmlDeviceGetMemoryInfo(self._handle).used / 2**20)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def measure(
    clip: str, streams: int, workers: int, fps: float, batch: int, seconds: float, gpu: int | None
) -> dict[str, float]:
    ctx = mp.get_context("spawn")  # CUDA cannot be used in a forked child
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    shares = [streams // workers + (i < streams % workers) for i in range(workers)]
    procs = [
        ctx.Process(target=_worker, args=(clip, n, fps, batch, seconds, ready, go, out))
        for n in shares
        if n
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=600)
    time.sleep(1.5)  # let every reader open its file
    with Sampler(gpu) as sampler:
        go.set()
        results: list[WorkerResult] = [out.get(timeout=seconds + 600) for _ in procs]
    for p in procs:
        p.join()
    analysed = [n / r.seconds for r in results for n in r.analysed]
    frames = max(sum(r.frames for r in results), 1)
    return {
        "fps_min": min(analysed),
        "fps_mean": _mean(analysed),
        "dropped": sum(r.dropped for r in results) / max(sum(r.delivered for r in results), 1),
        "batch": frames / max(sum(r.batches for r in results), 1),
        "inference_ms": 1000 * sum(r.inference_s for r in results) / frames,
        "pipeline_ms": 1000 * sum(r.pipeline_s for r in results) / frames,
        "analysed_fps": sum(analysed),
        "gpu_util": _mean(sampler.gpu),
        "gpu_mem_mib": max(sampler.memory_mib, default=float("nan")),
        "cpu_util": _mean(sampler.cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default="16,32,64,110", help="Stream counts to try.")
    parser.add_argument("--fps", type=float, default=8.0, help="Analysis rate per stream.")
    parser.add_argument("--seconds", type=float, default=20.0, help="Per stream count.")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--batch", type=int, default=64, help="Most frames in one batch.")
    parser.add_argument("--clip", default=CLIP, choices=CLIP_CAMERAS)
    parser.add_argument("--json", type=Path, help="Write every measurement here too.")
    args = parser.parse_args()

    import torch

    settings = _settings()
    gpu = 0 if torch.cuda.is_available() else None
    device = torch.cuda.get_device_name(0) if gpu is not None else "no GPU: CPU only"
    print(
        f"{settings.backend} on {Path(settings.model).name} ({device}); clip {args.clip} "
        f"as live streams; {args.workers} worker processes; target {args.fps:g} fps per stream"
    )
    print(
        "streams  fps/stream(min  mean)  ratio  dropped  batch  infer ms/f  rules+track ms/f  "
        "analysed fps  GPU%  GPU MiB  CPU%"
    )
    sustained, rows = 0, []
    for streams in [int(s) for s in args.streams.split(",")]:
        workers = min(args.workers, streams)
        m = measure(args.clip, streams, workers, args.fps, args.batch, args.seconds, gpu)
        rows.append({"streams": streams, "workers": workers, **m})
        ratio = m["fps_min"] / args.fps
        print(
            f"{streams:7d}  {m['fps_min']:14.2f} {m['fps_mean']:5.2f}  {ratio:5.2f}  "
            f"{m['dropped']:7.1%}  {m['batch']:5.1f}  {m['inference_ms']:10.2f}  "
            f"{m['pipeline_ms']:16.2f}  {m['analysed_fps']:12.0f}  {m['gpu_util']:4.0f}  "
            f"{m['gpu_mem_mib']:7.0f}  {m['cpu_util']:4.0f}"
        )
        if ratio < SUSTAINED:
            break
        sustained = streams
    if args.json:
        args.json.write_text(json.dumps({"device": device, "rows": rows}, indent=1))
    print(f"streams sustained at {args.fps:g} fps: {sustained} ({device})")


if __name__ == "__main__":
    main()
