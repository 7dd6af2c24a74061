"""Request-scoped dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from dozor.storage import ObjectStore

T = TypeVar("T")


async def querying(session: Session, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(session, ...)``: in the thread pool for a database server, right here for SQLite.

    A server query waits on the network, which must not hold up the event loop. A SQLite query
    is CPU work in this process, and the sqlite3 driver lets go of the GIL for every row it
    steps: from a worker thread, each row handed the GIL to the busy event loop and had to wait
    to get it back. On the loop the 110-camera list cost 3.0 ms of CPU instead of 5.2 ms
    (bench.registry_bench). Its readers never wait on writers (WAL), so nothing blocks."""
    if session.get_bind().dialect.name == "sqlite":
        return work(session, *args, **kwargs)
    return await run_in_threadpool(work, session, *args, **kwargs)


async def db(request: Request) -> AsyncIterator[Session]:
    # async: a session connects on first use, so making one is no I/O, and a sync generator
    # cost two thread-pool hops per request (enter and exit).
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            # Rolls back and returns its connection: database I/O.
            await querying(session, Session.close)
        else:
            session.close()


def _closing(session: Session, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return work(session, *args, **kwargs)
    finally:
        session.close()


async def reading(session: Session, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(session, ...)`` where querying() runs it, ending the session's transaction there
    too: its connection goes back to the pool in the same hop, not in one of its own after the
    answer is sent (db())."""
    return await querying(session, _closing, work, *args, **kwargs)


def store(request: Request) -> ObjectStore:
    return request.app.state.store
