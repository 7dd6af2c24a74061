"""The event index: idempotent writes by event id, filtered reads."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.events import DetectionEvent
from registry.models import EventRecord
from registry.paging import page_total


def hold_event_lock(session: Session, event_id: str) -> None:
    """Serialise the work on one event id across consumers until ``session`` commits.

    Two consumers given the same event (a rebalance, a redelivery racing the original) would
    otherwise both find no manifest and both sign one: two versions of a manifest under
    object lock, and verification failing forever. PostgreSQL: a transaction-scoped advisory
    lock on the id's hash. SQLite: any write takes the database's single writer lock until
    commit, so the embedded demo's consumers queue the same way (on every event, which only a
    one-machine demo can afford)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(event_id.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        session.execute(text("DELETE FROM events WHERE 1 = 0"))


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


# What a list of events shows (EventSummary): not the payload, the bulk of each row.
SUMMARY_COLUMNS = (
    EventRecord.id,
    EventRecord.camera_id,
    EventRecord.type,
    EventRecord.category,
    EventRecord.gost_code,
    EventRecord.time,
    EventRecord.scene_version,
    EventRecord.confidence,
)


def query_events(
    session: Session,
    *,
    camera_id: str | None = None,
    type_: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Row[Any]], int]:
    """A page of matching events as rows of SUMMARY_COLUMNS, newest first, and how many match."""
    rows = session.execute(
        _filtered(select(*SUMMARY_COLUMNS), camera_id, type_, since, until)
        .order_by(EventRecord.time.desc(), EventRecord.id)
        .limit(limit)
        .offset(offset)
    ).all()
    count = _filtered(select(func.count(EventRecord.id)), camera_id, type_, since, until)
    return list(rows), page_total(len(rows), limit, offset, lambda: session.scalar(count) or 0)
