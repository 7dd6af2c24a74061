"""Engine, sessions and migrations. PostgreSQL in production, SQLite for the embedded demo."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from registry.certification import keep_certification_history

MIGRATIONS = Path(__file__).parent / "migrations"


def as_utc(t: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # It holds token hashes, audit history and encrypted credentials: owner only. SQLite
        # gives its -wal and -shm files the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)
        # A pooled SQLite connection is a file handle: keep one for each thread-pool thread
        # (anyio's 40). With the default 5, the sixth request in flight opened one, with its
        # PRAGMAs, and closed it again: a tenth of a list's CPU at 16 concurrent. Beyond 40,
        # open more rather than wait: reads check out on the event loop
        # (registry.deps.querying), which must never block on the pool, and the requests
        # that would hand a connection back need that loop to do it.
        eng = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=40,
            max_overflow=-1,
        )

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets the API read while a consumer writes; FKs are off by default in SQLite.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
            # SQLite's lower() folds ASCII only; case-insensitive search must fold Cyrillic too.
            dbapi_conn.create_function(
                "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
            )

        return eng
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def session_factory(url: str) -> sessionmaker[Session]:
    maker = sessionmaker(engine_for(url), expire_on_commit=False)
    # Whichever code path changes a camera's certificates, the history keeps the change.
    event.listen(maker, "before_flush", keep_certification_history)
    return maker


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    with session_factory(url)() as session, session.begin():
        yield session


@lru_cache(maxsize=1)
def _script_heads() -> frozenset[str]:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(cfg).get_heads())


def schema_at_heads(session: Session) -> bool:
    """The database carries every migration branch's newest revision."""
    current = MigrationContext.configure(session.connection()).get_current_heads()
    return frozenset(current) == _script_heads()


def migrate(url: str) -> None:
    """Bring the schema to the newest revision of every branch (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine_for(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
