"""The event index: idempotent writes by event id, filtered reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.events import DetectionEvent
from registry.models import EventRecord


def index_event(session: Session, event: DetectionEvent) -> bool:
    """Insert the event; False if an event with its id is already indexed."""
    if session.get(EventRecord, event.id) is not None:
        return False
    row = EventRecord(
        id=event.id,
        camera_id=event.subject,
        type=event.type.value,
        category=event.data.category.value,
        gost_code=event.data.gost_code,
        time=event.time,
        scene_version=event.data.scene_version,
        confidence=event.data.confidence,
        payload=event.model_dump(mode="json"),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another consumer (a takeover after a rebalance) indexed it first.
        return False
    return True


def _filtered(
    stmt: Select,
    camera_id: str | None,
    type_: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select:
    if camera_id:
        stmt = stmt.where(EventRecord.camera_id == camera_id)
    if type_:
        stmt = stmt.where(EventRecord.type == type_)
    if since:
        stmt = stmt.where(EventRecord.time >= since)
    if until:
        stmt = stmt.where(EventRecord.time < until)
    return stmt


def query_events(
    session: Session,
    *,
    camera_id: str | None = None,
    type_: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[EventRecord], int]:
    total = session.scalar(
        _filtered(select(func.count(EventRecord.id)), camera_id, type_, since, until)
    )
    rows = session.scalars(
        _filtered(select(EventRecord), camera_id, type_, since, until)
        .order_by(EventRecord.time.desc(), EventRecord.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total or 0)
