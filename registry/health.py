"""Camera health: detectors report heartbeats, the registry derives online/degraded/offline.

A detector worker reports either over HTTP, ``POST /cameras/{id}/heartbeat`` with a
``detector`` token and a :class:`contract.health.Heartbeat` body, or, where it shares the
database, in-process with :func:`record_heartbeat`. Only the latest heartbeat per camera is
kept; the state is derived when read, against thresholds from the settings, so a camera
whose worker died turns offline without anyone writing anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.health import HealthState, Heartbeat
from dozor.redact import redact
from dozor.settings import Settings
from registry.db import as_utc
from registry.models import CameraHealth


def record_heartbeat(
    session: Session, heartbeat: Heartbeat, received_at: datetime | None = None
) -> None:
    """Keep ``heartbeat`` as the camera's latest (the camera must exist)."""
    row = session.get(CameraHealth, heartbeat.camera_id) or CameraHealth(
        camera_id=heartbeat.camera_id
    )
    row.worker_id = heartbeat.worker_id
    row.time = heartbeat.time
    row.received_at = received_at or datetime.now(UTC)
    row.fps_in = heartbeat.fps_in
    row.fps_out = heartbeat.fps_out
    row.inference_ms = heartbeat.inference_ms
    row.queue_depth = heartbeat.queue_depth
    row.last_frame_time = heartbeat.last_frame_time
    row.errors = heartbeat.errors
    row.last_error = redact(heartbeat.last_error) if heartbeat.last_error else None
    session.add(row)


def derive(
    row: CameraHealth | None, settings: Settings, now: datetime
) -> tuple[HealthState, list[str]]:
    """The state a heartbeat implies at ``now``, and why it is not online."""
    if row is None:
        return HealthState.OFFLINE, ["no heartbeat received"]
    silent = (now - as_utc(row.received_at)).total_seconds()
    if silent > settings.health_offline_after_s:
        return HealthState.OFFLINE, [
            f"last heartbeat {silent:.0f}s ago, over {settings.health_offline_after_s:g}s"
        ]
    reasons = []
    if row.last_frame_time is None:
        reasons.append("no frame decoded yet")
    else:
        age = (as_utc(row.time) - as_utc(row.last_frame_time)).total_seconds()
        if age > settings.health_stale_frame_s:
            reasons.append(f"last frame {age:.0f}s old, over {settings.health_stale_frame_s:g}s")
    if row.fps_out < settings.health_min_fps:
        reasons.append(f"analysed {row.fps_out:g} fps, below {settings.health_min_fps:g}")
    if row.errors > settings.health_max_errors:
        reasons.append(f"{row.errors} errors since the previous heartbeat")
    return (HealthState.DEGRADED if reasons else HealthState.ONLINE), reasons


def health_rows(
    session: Session, camera_ids: Iterable[str] | None = None
) -> dict[str, CameraHealth]:
    stmt = select(CameraHealth)
    if camera_ids is not None:
        stmt = stmt.where(CameraHealth.camera_id.in_(list(camera_ids)))
    return {row.camera_id: row for row in session.scalars(stmt)}
