"""Watching each leased camera's stream: `stream_lost` / `stream_restored` incidents, once.

Incidents are keyed by the loss time kept in the lease row, which a takeover inherits: the
new worker neither repeats the `stream lost` nor invents another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from contract.events import DetectionEvent, EventData, EventType, category_of, event_id
from detectors.camera_run import CameraRun, LeaseLost
from detectors.lease_keeper import LeaseKeeper
from detectors.worker_metrics import LAST_FRAME, QUEUE_DEPTH, STREAM_UP

log = logging.getLogger(__name__)


class StreamWatcher:
    def __init__(
        self,
        keeper: LeaseKeeper,
        publish: Callable[[str, DetectionEvent], None],
        worker_id: str,
        lost_after_s: float,
    ) -> None:
        self.keeper = keeper
        self.publish = publish
        self.worker_id = worker_id
        self.lost_after_s = lost_after_s

    def watch(self, runs: Iterable[CameraRun]) -> None:
        now = time.time()
        for run in runs:
            stats = run.source.reader.stats
            try:
                self._check(run, now)
            except LeaseLost:
                run.fenced = True
            QUEUE_DEPTH.labels(run.camera_id).set(run.source.reader.depth)
            STREAM_UP.labels(run.camera_id).set(0 if run.lost_at else int(stats.connected))
            if stats.last_frame_at:
                LAST_FRAME.labels(run.camera_id).set(stats.last_frame_at)

    def _check(self, run: CameraRun, now: float) -> None:
        stats = run.source.reader.stats
        last = stats.last_frame_at or run.claimed_at
        if run.lost_at is None and now - last > self.lost_after_s:
            run.lost_at = datetime.fromtimestamp(last, UTC)
            # Remembered before it is announced: a successor must not announce it again.
            if not self.keeper.mark_stream(run):
                return
            self._incident(run, EventType.STREAM_LOST, run.lost_at, gap_s=now - last)
            log.warning("stream lost", extra={"camera_id": run.camera_id})
        elif (
            run.lost_at is not None
            and stats.last_frame_at is not None
            and stats.last_frame_at > run.lost_at.timestamp()
            and now - stats.last_frame_at <= self.lost_after_s
        ):
            back = datetime.fromtimestamp(stats.last_frame_at, UTC)
            outage = (back - run.lost_at).total_seconds()
            self._incident(run, EventType.STREAM_RESTORED, back, outage_s=outage)
            run.lost_at = None
            self.keeper.mark_stream(run)
            log.info("stream restored", extra={"camera_id": run.camera_id})

    def _incident(self, run: CameraRun, kind: EventType, at: datetime, **measured: float) -> None:
        cam = run.pipeline.camera
        assert run.lost_at is not None
        event = DetectionEvent(
            # Keyed by the loss the lease row remembers: the same outage, the same ids,
            # whichever worker reports it.
            id=event_id(cam.camera_id, kind.value, run.lost_at.isoformat()),
            source=f"dozor://detector/{self.worker_id}",
            type=kind,
            time=at,
            subject=cam.camera_id,
            data=EventData(
                category=category_of(kind),
                scene_version=cam.scene_version,
                confidence=1.0,
                frame_index=run.analysed,
                offset_s=max((at - cam.started_at).total_seconds(), 0.0),
                measured={k: round(v, 3) for k, v in measured.items()},
                detector=run.pipeline.detector_info,
                source_uri=cam.source_uri,
            ),
        )
        self.publish(cam.camera_id, event)
