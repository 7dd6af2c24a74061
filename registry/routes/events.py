"""The event index, with short-lived presigned links to evidence for those allowed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from sqlalchemy import Row
from sqlalchemy.orm import Session

from contract.events import DetectionEvent, EventType
from dozor.storage import ObjectStore
from registry.auth import ANY_HUMAN, EVIDENCE_READERS, Role, require
from registry.db import as_utc
from registry.deps import db, reading, store
from registry.event_index import query_events
from registry.models import EventRecord
from registry.paging import Limit, Offset, page_response
from registry.schemas import EventDetail, EventSummary, EvidenceLink, Page

router = APIRouter(prefix="/events", tags=["events"])


def for_role(event: DetectionEvent, role: Role) -> DetectionEvent:
    """The event as ``role`` may see it: plate readings (measured ``plate``, ``plate_raw``,
    ...) only for the roles that may see evidence; a viewer gets the rest."""
    if role in EVIDENCE_READERS:
        return event
    measured = {k: v for k, v in event.data.measured.items() if not k.startswith("plate")}
    return event.model_copy(update={"data": event.data.model_copy(update={"measured": measured})})


def summary(row: EventRecord | Row[Any]) -> EventSummary:
    return EventSummary(
        id=row.id,
        camera_id=row.camera_id,
        type=row.type,
        category=row.category,
        gost_code=row.gost_code,
        time=as_utc(row.time),
        scene_version=row.scene_version,
        confidence=row.confidence,
    )


@router.get("", response_model=Page[EventSummary])
async def list_events(
    session: Annotated[Session, Depends(db)],
    _role: Annotated[Role, Depends(require(*ANY_HUMAN))],
    camera_id: Annotated[str | None, Query(max_length=32)] = None,
    type: Annotated[EventType | None, Query()] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    # Only the query goes through reading(); the page is built here: serialising it in the
    # thread pool (PostgreSQL) made the event loop queue for the GIL behind it.
    rows, total = await reading(
        session,
        query_events,
        camera_id=camera_id,
        type_=type.value if type else None,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return page_response(EventSummary, [summary(r) for r in rows], total, limit, offset)


@router.get("/{event_id}", response_model=EventDetail)
def get_event(
    event_id: str,
    session: Annotated[Session, Depends(db)],
    objects: Annotated[ObjectStore, Depends(store)],
    role: Annotated[Role, Depends(require(*ANY_HUMAN))],
) -> EventDetail:
    row = session.get(EventRecord, event_id)
    if row is None:
        raise HTTPException(404, f"event {event_id} not found")
    event = DetectionEvent.model_validate(row.payload)
    links = [
        EvidenceLink(
            role=ref.role.value,
            content_type=ref.content_type,
            sha256=ref.sha256,
            size=ref.size,
            url=objects.presigned_get(ref.bucket, ref.key) if role in EVIDENCE_READERS else None,
        )
        for ref in event.data.evidence
    ]
    return EventDetail(**summary(row).model_dump(), event=for_role(event, role), evidence=links)
