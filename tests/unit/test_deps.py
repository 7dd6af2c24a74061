"""Where registry reads run: a SQLite query on the event loop, a server's in the thread pool."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from registry.db import engine_for
from registry.deps import querying, reading


def _thread(session: Session) -> int:
    return threading.get_ident()


def test_sqlite_work_runs_on_the_calling_thread() -> None:
    session = Session(create_engine("sqlite://"))
    assert asyncio.run(querying(session, _thread)) == threading.get_ident()


def test_server_database_work_runs_in_the_thread_pool() -> None:
    # Never connects: the work asks nothing of the database.
    session = Session(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert asyncio.run(querying(session, _thread)) != threading.get_ident()


def test_reading_hands_back_the_connection_even_when_the_work_fails() -> None:
    session = Session(create_engine("sqlite://"))

    def fails(s: Session) -> None:
        s.execute(text("select 1"))
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(reading(session, fails))
    assert not session.in_transaction()


def test_a_sqlite_checkout_never_waits_for_the_pool(tmp_path: Path) -> None:
    # Reads check out on the event loop: a full pool must open another connection, not wait
    # for one that only the (then blocked) loop could hand back.
    engine = engine_for(f"sqlite:///{tmp_path / 'registry.db'}")
    held = [engine.connect() for _ in range(60)]
    try:
        assert all(c.execute(text("select 1")).scalar() == 1 for c in held)
    finally:
        for c in held:
            c.close()
