"""The audit log: every change to the registry, who made it, and the entity before and after.

Snapshots are API answers (stream credentials already masked), so the log never holds a
secret. Entries are written in the same transaction as the change they describe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Depends, Request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from registry.auth import Role, require
from registry.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role


def acting(*roles: Role) -> Callable[..., Awaitable[Actor]]:
    """Dependency like :func:`registry.auth.require`, naming the token holder for the log."""
    check = require(*roles)

    # async: a plain def would cost a thread-pool hop for two attribute reads.
    async def dependency(request: Request, role: Role = Depends(check)) -> Actor:
        return Actor(name=request.state.actor, role=role)

    return dependency


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditEntry(
            actor=actor.name,
            role=actor.role.value,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


def _filtered(
    stmt: Select,
    entity: str | None,
    entity_id: str | None,
    actor: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select:
    for column, value in (
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.actor, actor),
        (AuditEntry.action, action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    return stmt


def query_audit(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    args = (entity, entity_id, actor, action, since, until)
    total = session.scalar(_filtered(select(func.count(AuditEntry.id)), *args)) or 0
    rows = session.scalars(
        _filtered(select(AuditEntry), *args)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)
