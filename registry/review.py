"""Operators' review of violations and incidents: confirm or reject, with a reason.

An event without a review row is pending. Rejecting a certified unit's violation withdraws
it, which is refused once its case was delivered: what the centre received stands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from contract import topics
from contract.signed import SIGNED_EVENT_SCHEMA_VERSION
from dozor import bus
from dozor.settings import Settings
from registry.models import Camera, CaseRecord, EventRecord, EventReview

ENFORCEMENT_UNIT = "enforcement_unit"
REVIEWED_CATEGORIES = ("violation", "incident")


class ReviewState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


class AlreadyDelivered(RuntimeError):
    pass


@dataclass(frozen=True)
class ReviewFilters:
    camera_id: str | None = None
    type_: str | None = None
    category: str | None = None
    state: ReviewState | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, stmt: Select) -> Select:
        stmt = stmt.where(EventRecord.category.in_(REVIEWED_CATEGORIES))
        for column, value in (
            (EventRecord.camera_id, self.camera_id),
            (EventRecord.type, self.type_),
            (EventRecord.category, self.category),
        ):
            if value:
                stmt = stmt.where(column == value)
        if self.since:
            stmt = stmt.where(EventRecord.time >= self.since)
        if self.until:
            stmt = stmt.where(EventRecord.time < self.until)
        if self.state is ReviewState.PENDING:
            stmt = stmt.where(or_(EventReview.state.is_(None), EventReview.state == "pending"))
        elif self.state is not None:
            stmt = stmt.where(EventReview.state == self.state.value)
        return stmt


Joined = tuple[EventRecord, EventReview | None, CaseRecord | None, str | None]


def _joined() -> Select:
    return (
        select(EventRecord, EventReview, CaseRecord, Camera.kind)
        .outerjoin(EventReview, EventReview.event_id == EventRecord.id)
        .outerjoin(CaseRecord, CaseRecord.event_id == EventRecord.id)
        .outerjoin(Camera, Camera.id == EventRecord.camera_id)
    )


def query(
    session: Session, filters: ReviewFilters, limit: int | None, offset: int = 0
) -> tuple[list[Joined], int]:
    count = filters.apply(
        select(func.count(EventRecord.id)).outerjoin(
            EventReview, EventReview.event_id == EventRecord.id
        )
    )
    total = int(session.scalar(count) or 0)
    stmt = filters.apply(_joined()).order_by(EventRecord.time.desc(), EventRecord.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [tuple(r) for r in session.execute(stmt)], total  # type: ignore[misc]


def one(session: Session, event_id: str) -> Joined | None:
    row = session.execute(_joined().where(EventRecord.id == event_id)).first()
    return tuple(row) if row else None  # type: ignore[return-value]


def case_state(case: CaseRecord | None, review: EventReview | None) -> str:
    if (
        review is not None
        and review.state == ReviewState.WITHDRAWN
        and (case is None or case.delivered_at is None)
    ):
        return "withdrawn"
    if case is None:
        return "held" if review is not None and review.held is not None else "none"
    if case.delivered_at is not None:
        return "delivered"
    return "published" if case.published_at is not None else "none"


def decide(
    session: Session,
    event: EventRecord,
    camera_kind: str | None,
    decision: Decision,
    reason: str,
    actor: str,
) -> tuple[dict[str, Any] | None, EventReview]:
    """Record the verdict; answers the review before (as a dict) and after."""
    review = session.get(EventReview, event.id)
    before = _snapshot(review)
    if review is None:
        review = EventReview(event_id=event.id, state=ReviewState.PENDING.value)
        session.add(review)
    state = ReviewState.CONFIRMED if decision is Decision.CONFIRM else ReviewState.REJECTED
    if (
        decision is Decision.REJECT
        and event.category == "violation"
        and camera_kind == ENFORCEMENT_UNIT
    ):
        case = session.scalar(select(CaseRecord).where(CaseRecord.event_id == event.id))
        if case is not None and case.delivered_at is not None:
            raise AlreadyDelivered(
                f"case of event {event.id} was delivered; it cannot be withdrawn"
            )
        state = ReviewState.WITHDRAWN
    review.state = state.value
    review.reason = reason
    review.reviewed_by = actor
    review.reviewed_at = datetime.now(UTC)
    return before, review


def _snapshot(review: EventReview | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {
        "state": review.state,
        "reason": review.reason,
        "reviewed_by": review.reviewed_by,
        "reviewed_at": review.reviewed_at.isoformat() if review.reviewed_at else None,
    }


def snapshot(review: EventReview) -> dict[str, Any]:
    return _snapshot(review) or {}


# -- the enforcement consumer's gate ------------------------------------------------------


def gate(session: Session, event_id: str, camera_id: str, signed_json: str) -> str | None:
    """Why a violation may not become a case now ("held", "rejected"), or None.

    A street camera's violation waits for an operator: it is held (the signed message kept,
    to be sent again on confirmation) until confirmed, and never becomes a case once
    rejected. A certified unit's violation, or one from a camera the registry does not know,
    goes on as before."""
    camera = session.get(Camera, camera_id)
    if camera is None or camera.kind == ENFORCEMENT_UNIT:
        return None
    rev = session.get(EventReview, event_id)
    if rev is not None and rev.state == ReviewState.CONFIRMED:
        return None
    if rev is not None and rev.state in (ReviewState.REJECTED, ReviewState.WITHDRAWN):
        return "rejected"
    if rev is None:
        rev = EventReview(event_id=event_id, state=ReviewState.PENDING.value)
        session.add(rev)
    rev.held = json.loads(signed_json)
    rev.held_at = datetime.now(UTC)
    return "held"


def withdrawn(session: Session, event_id: str) -> bool:
    """An operator withdrew the violation: its case must not be delivered."""
    rev = session.get(EventReview, event_id)
    return rev is not None and rev.state == ReviewState.WITHDRAWN


def requeue(settings: Settings, rev: EventReview, camera_id: str) -> None:
    """Send a held, now confirmed, signed event again, so the enforcement consumer builds
    its case by the usual path (it dedupes by event id, so sending twice is harmless)."""
    producer = bus.producer(settings)
    try:
        producer.send(
            topics.EVENTS_SIGNED,
            key=topics.key_for(camera_id),
            value=json.dumps(rev.held).encode(),
            headers=[("schema_version", SIGNED_EVENT_SCHEMA_VERSION.encode())],
        )
    finally:
        producer.close(10)
