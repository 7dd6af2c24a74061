"""One leased camera as a worker runs it: its stream, tracker, pipeline and counters."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from detectors.boundary import Lease
from detectors.pipeline import Pipeline
from detectors.sources import LiveSource
from detectors.tracking import CameraTracker


class LeaseLost(Exception):
    """The camera's lease may have passed to another worker: stop publishing for it."""


@dataclass
class CameraRun:
    lease: Lease
    deadline: float  # time.monotonic() by which the lease could expire
    source: LiveSource
    tracker: CameraTracker
    pipeline: Pipeline
    claimed_at: float = field(default_factory=time.time)
    lost_at: datetime | None = None
    fenced: bool = False
    analysed: int = 0
    inference_s: float = 0.0
    errors: int = 0
    last_error: str | None = None
    # Counters at the previous heartbeat and metrics update, for rates and deltas.
    seen: dict[str, float] = field(default_factory=dict)

    @property
    def camera_id(self) -> str:
        return self.lease.camera_id
