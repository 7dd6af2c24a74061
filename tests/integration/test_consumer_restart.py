"""Kill the evidence consumer mid-stream, restart it: every event indexed exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contract.events import EventType
from dozor.settings import Settings
from dozor.storage import ObjectStore
from registry.db import session_scope
from registry.models import EventRecord
from tests.conftest import settings_env
from tests.factories import publish, stored_event

pytestmark = pytest.mark.integration

CAMERA = "VLG-CAM-010"
N = 300


def _publish_events(settings: Settings, run: str) -> list[str]:
    store = ObjectStore(settings)
    store.ensure()
    events = [
        stored_event(store, CAMERA, i, run=run, type_=EventType.STOPPED_VEHICLE) for i in range(N)
    ]
    publish(settings, events)
    return [e.id for e in events]


def _count(settings: Settings, ids: list[str]) -> int:
    with session_scope(settings.db_url) as session:
        return (
            session.scalar(select(func.count(EventRecord.id)).where(EventRecord.id.in_(ids))) or 0
        )


def _consumer(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dozor_cli.cli", "consume", "evidence", "--until-idle", "6"],
        env=settings_env(settings),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def test_consumer_killed_mid_stream_indexes_each_event_once(
    stack_env: Settings, tmp_path: Path
) -> None:
    ids = _publish_events(stack_env, run=str(tmp_path))
    first = _consumer(stack_env, tmp_path / "first.log")
    deadline = time.monotonic() + 120
    while _count(stack_env, ids) < 20:
        assert first.poll() is None, (tmp_path / "first.log").read_text()
        assert time.monotonic() < deadline, "consumer made no progress"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    before = _count(stack_env, ids)
    assert 0 < before < N, "kill must land mid-stream"

    second = _consumer(stack_env, tmp_path / "second.log")
    assert second.wait(timeout=240) == 0, (tmp_path / "second.log").read_text()
    assert _count(stack_env, ids) == N
    with session_scope(stack_env.db_url) as session:
        rows = session.scalars(select(EventRecord.id).where(EventRecord.id.in_(ids))).all()
    assert sorted(rows) == sorted(ids)
    # The restart resumed from the committed offset: at most the in-flight message again.
    summary = (tmp_path / "second.log").read_text().strip().splitlines()[-1]
    handled = int(summary.split()[1].rstrip(","))
    assert N - before <= handled <= N - before + 1, summary
