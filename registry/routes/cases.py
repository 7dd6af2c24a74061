"""Enforcement cases and their delivery state, for the roles allowed to see evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from contract.cases import Case, CaseEvidence, CaseManifest
from dozor.storage import ObjectStore
from registry.auth import EVIDENCE_READERS, Role, require
from registry.deps import db, reading, store
from registry.models import CaseRecord
from registry.paging import Limit, Offset, page_response, page_total
from registry.schemas import Page

router = APIRouter(prefix="/cases", tags=["cases"])

# Cases name plates and link to evidence media: the same roles that may see evidence.
_readers = require(*sorted(EVIDENCE_READERS))


class CaseSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6fed97f6-14e0-5a0a-9caf-5ede0b4762f2",
                    "event_id": "ead4a970-59f2-5228-a2bb-17dde1e5bc93",
                    "camera_id": "VLG-ENF-012",
                    "enforceable": False,
                    "reason": "verification certificate expired on 2026-04-17",
                    "created_at": "2026-11-20T16:42:10Z",
                    "published_at": "2026-11-20T16:42:10Z",
                    "delivered_at": None,
                    "attempts": 0,
                    "last_error": None,
                }
            ]
        }
    )

    id: str
    event_id: str
    camera_id: str
    enforceable: bool
    reason: str | None
    created_at: datetime
    published_at: datetime | None
    delivered_at: datetime | None
    attempts: int
    last_error: str | None


# What a list of cases shows: not the payload, the bulk of each row.
_SUMMARY_COLUMNS = tuple(getattr(CaseRecord, name) for name in CaseSummary.model_fields)


def _find_cases(
    session: Session, where: list[ColumnElement[bool]], limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    result = session.execute(
        select(*_SUMMARY_COLUMNS)
        .where(*where)
        .order_by(CaseRecord.created_at.desc(), CaseRecord.id)
        .limit(limit)
        .offset(offset)
    )
    keys = list(result.keys())
    items = [dict(zip(keys, row, strict=True)) for row in result]
    count = select(func.count(CaseRecord.id)).where(*where)
    return items, page_total(len(items), limit, offset, lambda: session.scalar(count) or 0)


@router.get("", response_model=Page[CaseSummary])
async def list_cases(
    session: Annotated[Session, Depends(db)],
    _role: Annotated[Role, Depends(_readers)],
    camera_id: Annotated[str | None, Query(max_length=32)] = None,
    enforceable: bool | None = None,
    delivered: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    where: list[ColumnElement[bool]] = []
    if camera_id:
        where.append(CaseRecord.camera_id == camera_id)
    if enforceable is not None:
        where.append(CaseRecord.enforceable.is_(enforceable))
    if delivered is not None:
        where.append(
            CaseRecord.delivered_at.is_not(None) if delivered else CaseRecord.delivered_at.is_(None)
        )
    # Only the query goes through reading(); the page is built here: serialising it in the
    # thread pool (PostgreSQL) made the event loop queue for the GIL behind it.
    items, total = await reading(session, _find_cases, where, limit, offset)
    return page_response(CaseSummary, items, total, limit, offset)


@router.get("/{case_id}", response_model=Case)
def get_case(
    case_id: str,
    session: Annotated[Session, Depends(db)],
    objects: Annotated[ObjectStore, Depends(store)],
    _role: Annotated[Role, Depends(_readers)],
) -> Case:
    """The case as built, with fresh presigned links (those inside it may have expired)."""
    row = session.get(CaseRecord, case_id)
    if row is None:
        raise HTTPException(404, f"case {case_id} not found")
    case = Case.model_validate(row.payload)
    expires = datetime.now(UTC) + objects.presign_ttl

    def renewed(link: CaseEvidence | CaseManifest, bucket: str) -> dict[str, object]:
        url = objects.client.presigned_get_object(
            bucket, link.key, expires=objects.presign_ttl, version_id=link.version_id
        )
        return {"url": url, "url_expires_at": expires}

    return case.model_copy(
        update={
            "evidence": [e.model_copy(update=renewed(e, e.bucket)) for e in case.evidence],
            "manifest": case.manifest.model_copy(update=renewed(case.manifest, objects.bucket)),
        }
    )
