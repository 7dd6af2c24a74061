"""Heartbeats: each leased camera's rates and errors, reported to the registry through the
boundary (the one heartbeat channel), and the per-camera counters in the metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from contract.health import Heartbeat
from detectors.boundary import RegistryLink
from detectors.camera_run import CameraRun
from detectors.worker_metrics import FRAMES_DECODED, FRAMES_DROPPED, STREAM_ERRORS

log = logging.getLogger(__name__)


class HealthReporter:
    def __init__(self, link: RegistryLink, worker_id: str) -> None:
        self.link = link
        self.worker_id = worker_id

    def report(self, runs: Iterable[CameraRun]) -> None:
        now = time.time()
        beats = [self._beat(run, now) for run in runs]
        try:
            self.link.report(beats)
        except Exception:
            # Health is reported again next interval; analysis must not stop for it.
            log.exception("heartbeats not recorded in the registry")

    def _beat(self, run: CameraRun, now: float) -> Heartbeat:
        stats = run.source.reader.stats
        seen = run.seen or {"at": run.claimed_at}
        elapsed = max(now - seen["at"], 1e-6)
        analysed = run.analysed - seen.get("analysed", 0)
        errors = stats.errors + run.errors
        beat = Heartbeat(
            camera_id=run.camera_id,
            worker_id=self.worker_id,
            time=datetime.fromtimestamp(now, UTC),
            fps_in=round((stats.decoded - seen.get("decoded", 0)) / elapsed, 2),
            fps_out=round(analysed / elapsed, 2),
            inference_ms=round(1000 * (run.inference_s - seen.get("inference_s", 0)) / analysed, 2)
            if analysed
            else None,
            queue_depth=run.source.reader.depth,
            last_frame_time=datetime.fromtimestamp(stats.last_frame_at, UTC)
            if stats.last_frame_at
            else None,
            errors=int(errors - seen.get("errors", 0)),
            last_error=(run.last_error or stats.last_error or "")[:500] or None,
        )
        FRAMES_DECODED.labels(run.camera_id).inc(stats.decoded - seen.get("decoded", 0))
        FRAMES_DROPPED.labels(run.camera_id).inc(stats.dropped - seen.get("dropped", 0))
        STREAM_ERRORS.labels(run.camera_id).inc(errors - seen.get("errors", 0))
        run.seen = {
            "at": now,
            "analysed": run.analysed,
            "decoded": stats.decoded,
            "dropped": stats.dropped,
            "errors": errors,
            "inference_s": run.inference_s,
        }
        return beat
