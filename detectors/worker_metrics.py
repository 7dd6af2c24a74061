"""The live worker's Prometheus metrics (served on DOZOR_WORKER_METRICS_PORT)."""

from __future__ import annotations

import contextlib

from prometheus_client import Counter, Gauge, Histogram

FRAMES_DECODED = Counter("dozor_worker_frames_decoded_total", "Frames decoded", ["camera"])
FRAMES_ANALYSED = Counter("dozor_worker_frames_analysed_total", "Frames analysed", ["camera"])
FRAMES_DROPPED = Counter(
    "dozor_worker_frames_dropped_total", "Due frames dropped: analysis too slow", ["camera"]
)
STREAM_ERRORS = Counter("dozor_worker_stream_errors_total", "Open/read failures", ["camera"])
EVENTS = Counter("dozor_worker_events_published_total", "Events published", ["type"])
QUEUE_DEPTH = Gauge("dozor_worker_queue_depth", "Decoded frames waiting", ["camera"])
LAST_FRAME = Gauge("dozor_worker_last_frame_timestamp_seconds", "Last frame (UTC)", ["camera"])
STREAM_UP = Gauge("dozor_worker_stream_up", "1 while frames arrive", ["camera"])
PENDING_FINDINGS = Gauge(
    "dozor_worker_pending_findings", "Findings not yet published (evidence or event)", ["camera"]
)
LEASES = Gauge("dozor_worker_leases", "Cameras held")
STAGE = Histogram(
    "dozor_worker_stage_seconds",
    "Time per batch by stage",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BATCH = Histogram(
    "dozor_worker_batch_frames", "Frames per inference batch", buckets=(1, 2, 4, 8, 16, 32, 64)
)
_PER_CAMERA = (
    FRAMES_DECODED,
    FRAMES_ANALYSED,
    FRAMES_DROPPED,
    PENDING_FINDINGS,
    STREAM_ERRORS,
    QUEUE_DEPTH,
    LAST_FRAME,
    STREAM_UP,
)


def forget_camera(camera_id: str) -> None:
    """Drop a camera's series once the worker no longer holds it."""
    for metric in _PER_CAMERA:
        with contextlib.suppress(KeyError):
            metric.remove(camera_id)
