"""Fixtures shared by unit and integration tests.

Integration fixtures start real servers: SeaweedFS and Tansu on free ports under a
temporary state directory, and a fresh database on the PostgreSQL that the test command
makes sure is running. Nothing here fakes a server.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from dozor.settings import Settings, child_env

# The worker id of the test stack's settings, enrolled by `set_up` (a replay key).
TEST_WORKER = "test-worker"
ADMIN_PG = os.environ.get("DOZOR_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def media_dir() -> Path:
    return Path(os.environ.get("DOZOR_MEDIA_DIR", Path(__file__).parents[2] / "shared" / "media"))


def model_path() -> str:
    return os.environ.get(
        "DOZOR_MODEL",
        str(Path(__file__).parents[2] / "shared" / "models" / "yolo11n_int8.tflite"),
    )


def eval_settings(state: Path) -> Settings:
    """Settings for ``dozor eval`` runs: the real model and clips, the hand labels, no servers."""
    return Settings(
        state_dir=state,
        model=model_path(),
        media_dir=media_dir(),
        ground_truth_dir=Path(__file__).parent / "ground_truth",
        yolo_config_dir=state / "yolo",
    )


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_port_block(n: int) -> int:
    """A base port whose n ports and their +10000 gRPC twins are all free."""
    for _ in range(200):
        base = random.randrange(20000, 29000, 10)
        ports = [base + i for i in range(n)]
        if all(_free(p) and _free(p + 10000) for p in ports):
            return base
    raise RuntimeError("no free port block")


@contextmanager
def temp_pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"dozor_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = ADMIN_PG.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_PG, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with temp_pg_database() as url:
        yield url


def stack_settings(state_dir: Path, database_url: str, **overrides: object) -> Settings:
    base = free_port_block(5)
    values: dict[str, object] = {
        "state_dir": state_dir,
        "database_url": database_url,
        "s3_endpoint": f"127.0.0.1:{base}",
        "weed_master_port": base + 1,
        "weed_volume_port": base + 2,
        "weed_filer_port": base + 3,
        "kafka_bootstrap": f"127.0.0.1:{base + 4}",
        "kafka_storage": "memory",
        "model": model_path(),
        "yolo_config_dir": state_dir / "yolo",
        "worker_id": TEST_WORKER,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Settings]:
    """Real SeaweedFS + Tansu + PostgreSQL for the whole integration session."""
    from dozor_cli.bootstrap import set_up
    from dozor_cli.stack import Stack

    settings = stack_settings(tmp_path_factory.mktemp("stack"), pg_url)
    stack = Stack(settings)
    stack.up()
    try:
        set_up(settings)
        yield settings
    finally:
        stack.down()


@contextmanager
def own_stack(state_dir: Path, **overrides: object) -> Iterator[Settings]:
    """SeaweedFS + Tansu + a fresh PostgreSQL database for one test that must not share the
    session's (it kills servers, or it would leave events other tests count)."""
    from dozor_cli.bootstrap import set_up
    from dozor_cli.stack import Stack

    with temp_pg_database() as url:
        settings = stack_settings(state_dir, url, **overrides)
        stack = Stack(settings)
        stack.up()
        try:
            set_up(settings)
            yield settings
        finally:
            stack.down()


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as DOZOR_* variables, for a `dozor` subprocess running the same engine."""
    return child_env(settings, os.environ)
