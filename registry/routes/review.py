"""The review queue: operators confirm or reject violations and incidents (audited), with
filters by camera, type, state and time, and the filtered events as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from contract.events import EventType
from dozor.settings import Settings
from registry import audit, review
from registry.audit import Actor, acting
from registry.auth import ANY_HUMAN, require
from registry.db import as_utc
from registry.deps import db
from registry.paging import Limit, Offset
from registry.review import Decision, Joined, ReviewFilters, ReviewState
from registry.routes.cameras import EDITORS, settings_of
from registry.schemas import Page, UtcDatetime

router = APIRouter(tags=["review"])

_ITEM_EXAMPLE = {
    "event_id": "7f3a1c0e9b2d4a58",
    "camera_id": "VLG-CAM-010",
    "camera_kind": "street_camera",
    "type": "red_light",
    "category": "violation",
    "gost_code": "C12",
    "time": "2026-11-20T16:42:07Z",
    "confidence": 0.91,
    "state": "confirmed",
    "reason": "красный горит, машина за стоп-линией",
    "reviewed_by": "operator-desk",
    "reviewed_at": "2026-11-20T16:50:00Z",
    "case_id": None,
    "case": "none",
}


class ReviewItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ITEM_EXAMPLE]})

    event_id: str
    camera_id: str
    camera_kind: str | None
    type: str
    category: str
    gost_code: str | None
    time: UtcDatetime
    confidence: float
    state: ReviewState
    reason: str | None
    reviewed_by: str | None
    reviewed_at: UtcDatetime | None
    case_id: str | None
    case: Literal["none", "held", "published", "delivered", "withdrawn"]


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"decision": "confirm", "reason": "красный, машина пересекла стоп-линию"},
                {"decision": "reject", "reason": "тень от автобуса, не машина"},
            ]
        },
    )

    decision: Decision
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f]*$")


def item(row: Joined) -> ReviewItem:
    event, rev, case, kind = row
    return ReviewItem(
        event_id=event.id,
        camera_id=event.camera_id,
        camera_kind=kind,
        type=event.type,
        category=event.category,
        gost_code=event.gost_code,
        time=event.time,
        confidence=event.confidence,
        state=ReviewState(rev.state) if rev else ReviewState.PENDING,
        reason=rev.reason if rev else None,
        reviewed_by=rev.reviewed_by if rev else None,
        reviewed_at=rev.reviewed_at if rev else None,
        case_id=case.id if case else None,
        case=review.case_state(case, rev),  # type: ignore[arg-type]
    )


def filters(
    camera_id: Annotated[str | None, Query(max_length=32)] = None,
    type: Annotated[EventType | None, Query()] = None,
    category: Annotated[Literal["violation", "incident"] | None, Query()] = None,
    state: Annotated[ReviewState | None, Query()] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ReviewFilters:
    return ReviewFilters(camera_id, type.value if type else None, category, state, since, until)


@router.get("/review", response_model=Page[ReviewItem], dependencies=[Depends(require(*ANY_HUMAN))])
def review_queue(
    session: Annotated[Session, Depends(db)],
    chosen: Annotated[ReviewFilters, Depends(filters)],
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ReviewItem]:
    """Violations and incidents with their review state and case, newest first."""
    rows, total = review.query(session, chosen, limit, offset)
    return Page(items=[item(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post(
    "/review/{event_id}",
    response_model=ReviewItem,
    responses={
        404: {"description": "No such violation or incident."},
        409: {"description": "The case was already delivered."},
    },
)
def review_event(
    event_id: Annotated[str, PathParam(max_length=64)],
    body: ReviewIn,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    actor: Annotated[Actor, Depends(acting(*EDITORS))],
) -> ReviewItem:
    """Confirm or reject an event, with a reason. Rejecting a certified unit's violation
    withdraws it (refused once delivered)."""
    found = review.one(session, event_id)
    if found is None or found[0].category not in review.REVIEWED_CATEGORIES:
        raise HTTPException(404, f"no violation or incident {event_id}")
    event, _, _, kind = found
    try:
        before, rev = review.decide(session, event, kind, body.decision, body.reason, actor.name)
    except review.AlreadyDelivered as exc:
        raise HTTPException(409, str(exc)) from None
    audit.record(session, actor, "review", "event", event_id, before, review.snapshot(rev))
    session.commit()
    if rev.state == ReviewState.CONFIRMED and rev.held is not None:
        try:
            review.requeue(settings, rev, event.camera_id)
        except Exception as exc:  # the broker's many failure types; the verdict is kept
            raise HTTPException(
                503,
                f"confirmed, but the case could not be queued ({type(exc).__name__}); "
                "confirm again to retry",
            ) from None
    return item(review.one(session, event_id))  # type: ignore[arg-type]


CSV_COLUMNS = (
    "event_id",
    "time",
    "camera_id",
    "type",
    "category",
    "gost_code",
    "confidence",
    "state",
    "reason",
    "reviewed_by",
    "reviewed_at",
    "case",
)


@router.get(
    "/events.csv",
    dependencies=[Depends(require(*ANY_HUMAN))],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def events_csv(
    session: Annotated[Session, Depends(db)],
    chosen: Annotated[ReviewFilters, Depends(filters)],
) -> Response:
    """The filtered violations and incidents as CSV (times in UTC, ISO 8601)."""
    rows, _ = review.query(session, chosen, limit=100_000)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        it = item(row)
        values = it.model_dump(mode="json")
        values["time"] = as_utc(it.time).isoformat()
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="events.csv"'},
    )
