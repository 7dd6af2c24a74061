"""Certification history: every change of a unit's certificates is kept, and a violation is
judged by the certificate on record at the event's time.

Rows are added by a flush hook on every registry session, so every writer (API, GeoJSON
import, seed, CLI) records history without having to remember to; nothing updates or
deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from registry.models import Camera, CertificationRecord

CERTIFICATION_FIELDS = (
    "type_approval_number",
    "verification_certificate",
    "verification_valid_until",
    "certified_codes",
)


def _record(session: Session, cam: Camera) -> None:
    session.add(
        CertificationRecord(
            camera_id=cam.id,
            recorded_at=datetime.now(UTC),
            **{name: getattr(cam, name) for name in CERTIFICATION_FIELDS},
        )
    )


def keep_certification_history(session: Session, _context: Any, _instances: Any) -> None:
    """The ``before_flush`` hook every registry session carries (registry/db.py)."""
    for obj in list(session.new):
        if isinstance(obj, Camera) and any(getattr(obj, n) for n in CERTIFICATION_FIELDS):
            _record(session, obj)
    for obj in list(session.dirty):
        if not isinstance(obj, Camera):
            continue
        state = inspect(obj)
        if any(state.attrs[n].history.has_changes() for n in CERTIFICATION_FIELDS):
            _record(session, obj)


@dataclass
class CameraAsOf:
    """A camera as the manifest states it (evidence.manifest.CameraRecord), with the
    certification on record at one moment."""

    id: str
    kind: str
    name: str
    address: str | None
    lat: float
    lon: float
    verification_certificate: str | None
    verification_valid_until: date | None
    type_approval_number: str | None
    certified_codes: list[str] | None


def certification_at(session: Session, cam: Camera, at: datetime) -> CameraAsOf:
    """``cam`` with the certification recorded last before ``at``. An event older than the
    first record is judged by that first record: the registry knows of no earlier one."""
    history = select(CertificationRecord).where(CertificationRecord.camera_id == cam.id)
    before = history.where(CertificationRecord.recorded_at <= at.astimezone(UTC))
    row = (
        session.scalars(
            before.order_by(CertificationRecord.recorded_at.desc(), CertificationRecord.id.desc())
        ).first()
        or session.scalars(
            history.order_by(CertificationRecord.recorded_at, CertificationRecord.id)
        ).first()
    )
    certification = {name: getattr(row, name) if row else None for name in CERTIFICATION_FIELDS}
    return CameraAsOf(
        id=cam.id,
        kind=cam.kind,
        name=cam.name,
        address=cam.address,
        lat=cam.lat,
        lon=cam.lon,
        **certification,
    )
