"""Request-scoped dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from dozor.storage import ObjectStore


async def db(request: Request) -> AsyncIterator[Session]:
    # async: a session connects on first use, so making one is no I/O, and a sync generator
    # cost two thread-pool hops per request (enter and exit).
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            # Rolls back and returns its connection: database I/O, not on the event loop.
            await run_in_threadpool(session.close)
        else:
            session.close()


T = TypeVar("T")


async def reading(session: Session, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(session, ...)`` in the thread pool, ending the session's transaction there too:
    its connection goes back to the pool in the same hop, not in one of its own after the
    answer is sent (db())."""

    def run() -> T:
        try:
            return work(session, *args, **kwargs)
        finally:
            session.close()

    return await run_in_threadpool(run)


def store(request: Request) -> ObjectStore:
    return request.app.state.store
