"""Request-scoped dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from dozor.storage import ObjectStore


def db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def store(request: Request) -> ObjectStore:
    return request.app.state.store
