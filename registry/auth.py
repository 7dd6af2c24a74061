"""Bearer tokens with roles. Every route declares the roles it admits."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from registry.deps import db, querying
from registry.models import ApiToken


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    ENFORCEMENT = "enforcement"
    DETECTOR = "detector"


# Who may see evidence media (plates, faces): not every viewer of the event list.
EVIDENCE_READERS = frozenset({Role.OPERATOR, Role.ADMIN, Role.ENFORCEMENT})

_bearer = HTTPBearer(auto_error=False)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, role: Role, name: str, ttl: timedelta | None = None) -> str:
    """A new token for ``role``, valid for ``ttl`` (None: until revoked)."""
    token = f"dz_{secrets.token_urlsafe(32)}"
    expires = datetime.now(UTC) + ttl if ttl is not None else None
    session.add(ApiToken(name=name, role=role.value, token_sha256=_hash(token), expires_at=expires))
    return token


_HOLDER = select(ApiToken.name, ApiToken.role)


def lookup_token(session: Session, token: str) -> Row[str, str] | None:
    """The token's holder (name, role) if it is known, not revoked and not expired.

    Asked on every request, straight through the session's connection: a Core query of two
    columns, not an ORM object loaded into the session."""
    stmt = _HOLDER.where(
        ApiToken.token_sha256 == _hash(token),
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > datetime.now(UTC)),
    )
    return session.connection().execute(stmt).first()


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int) -> ApiToken | None:
    """Revoke a token by id (idempotent); None when there is no such token."""
    row = session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    return row


def require(*roles: Role) -> Callable[..., Awaitable[Role]]:
    """Dependency: the caller's role, if it is one of ``roles``; else 401/403."""
    allowed = frozenset(roles)

    async def dependency(
        request: Request,
        # The route's own session (FastAPI caches the dependency per request): one
        # connection per request, not one for the token and one for the work.
        session: Session = Depends(db),
        creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> Role:
        if creds is None or creds.scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        row = await querying(session, lookup_token, creds.credentials)
        if row is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "invalid or revoked token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        role = Role(row.role)
        # The token's holder is who the audit log names for any change this request makes.
        request.state.actor = row.name
        if role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {role} may not do this")
        return role

    return dependency


ANY_HUMAN = (Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.ENFORCEMENT)
ANY_ROLE = (*ANY_HUMAN, Role.DETECTOR)
