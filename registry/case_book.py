"""The registry side of ``consumers.boundary.CaseBook``: the enforcement consumer's cases and
the operators' review gate, in the registry's database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contract.cases import Case
from dozor.settings import Settings
from registry import review
from registry.db import session_scope
from registry.models import CaseRecord


@dataclass(frozen=True)
class StoredCase:
    """A case row as read, detached from its session."""

    id: str
    camera_id: str
    enforceable: bool
    reason: str | None
    payload: dict[str, Any]
    published_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: CaseRecord) -> StoredCase:
        return cls(
            row.id,
            row.camera_id,
            row.enforceable,
            row.reason,
            row.payload,
            row.published_at,
            row.delivered_at,
        )


class DatabaseCaseBook:
    def __init__(self, settings: Settings) -> None:
        self.url = settings.db_url

    def get(self, case_id: str) -> StoredCase | None:
        with session_scope(self.url) as session:
            row = session.get(CaseRecord, case_id)
            return None if row is None else StoredCase.of(row)

    def add(self, case: Case, event_id: str, camera_id: str) -> StoredCase:
        with session_scope(self.url) as session:
            record = CaseRecord(
                id=case.case_id,
                event_id=event_id,
                camera_id=camera_id,
                enforceable=case.enforceable,
                reason=case.reason,
                payload=case.model_dump(mode="json"),
                attempts=0,
            )
            try:
                with session.begin_nested():
                    session.add(record)
            except IntegrityError:
                # A takeover after a rebalance stored it first: theirs is the case.
                theirs = session.get(CaseRecord, case.case_id)
                assert theirs is not None
                return StoredCase.of(theirs)
            return StoredCase.of(record)

    def update(self, case_id: str, add_attempts: int = 0, **values: object) -> None:
        with session_scope(self.url) as session:
            row = session.get(CaseRecord, case_id)
            assert row is not None
            row.attempts += add_attempts
            for name, value in values.items():
                setattr(row, name, value)

    def review_gate(self, event_id: str, camera_id: str, signed_json: str) -> str | None:
        with session_scope(self.url) as session:
            return review.gate(session, event_id, camera_id, signed_json)

    def undelivered(self) -> list[StoredCase]:
        with session_scope(self.url) as session:
            rows = session.scalars(
                select(CaseRecord)
                .where(
                    CaseRecord.enforceable.is_(True),
                    CaseRecord.published_at.is_not(None),
                    CaseRecord.delivered_at.is_(None),
                )
                .order_by(CaseRecord.created_at)
            )
            return [StoredCase.of(r) for r in rows]

    def withdrawn(self, event_id: str) -> bool:
        with session_scope(self.url) as session:
            return review.withdrawn(session, event_id)
