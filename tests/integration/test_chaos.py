"""Chaos: while a detector publishes a few hundred events, kill -9 the detector, the broker,
the S3 server and the evidence consumer in turn, and restart each.

Afterwards every event is indexed once, every manifest verifies and nothing is in the dead
letter queue. Its own stack (Tansu storing its log in SeaweedFS, so a killed broker keeps
what it acknowledged) and its own PostgreSQL database; every wait is on a condition.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contract.events import EventType
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.signing import load_signer
from evidence.verify import verify_event
from registry.db import session_scope
from registry.models import EventRecord
from tests.conftest import own_stack, settings_env
from tests.factories import publish, stored_event
from tests.security.test_poison import _dead_letters

pytestmark = pytest.mark.integration

CAMERA = "VLG-CAM-011"
N = 300
ROOT = Path(__file__).parents[2]
DEADLINE_S = 600


def publish_all(run: str) -> None:
    """The detector's side, run in a subprocess: store each event's evidence, then publish.
    A restarted run repeats every event as a replay would: same id, same body, same objects
    (a same id with another body is dead-lettered as a forgery)."""
    from dozor.settings import get_settings

    s = get_settings()
    store = ObjectStore(s)
    recorded = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    for start in range(0, N, 10):
        events = [
            stored_event(
                store,
                CAMERA,
                i,
                run=run,
                type_=EventType.STOPPED_VEHICLE,
                time=recorded + timedelta(seconds=i),
            )
            for i in range(start, start + 10)
        ]
        publish(s, events)


@dataclass
class Chaos:
    settings: Settings
    logs: Path
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)

    def _spawn(self, name: str) -> None:
        command = {
            "detector": [
                sys.executable,
                "-c",
                f"from tests.integration.test_chaos import publish_all; publish_all({self.run!r})",
            ],
            "consumer": [sys.executable, "-m", "dozor_cli.cli", "consume", "evidence"],
        }[name]
        n = self.restarts[name] = self.restarts.get(name, -1) + 1
        self.procs[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=settings_env(self.settings),
            stdout=(self.logs / f"{name}-{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )

    def supervise(self) -> None:
        """Restart what died (an outage may end a run); the detector is done once a run of
        it exits cleanly."""
        for name, proc in self.procs.items():
            code = proc.poll()
            if code == 0 and name == "detector":
                self.done.add(name)
            elif code is not None and name not in self.done:
                self._spawn(name)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        self._spawn(name)

    def indexed(self) -> int:
        with session_scope(self.settings.db_url) as session:
            return session.scalar(
                select(func.count(EventRecord.id)).where(EventRecord.camera_id == CAMERA)
            )

    def wait(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not check():
            assert time.monotonic() < deadline, f"gave up waiting for {what}: {self.restarts}"
            self.supervise()
            time.sleep(0.2)


@pytest.fixture
def chaos(tmp_path: Path) -> Iterator[tuple[Chaos, object]]:
    from dozor_cli.stack import Stack

    # The broker keeps its log in SeaweedFS, so a killed broker keeps what it acknowledged.
    with own_stack(tmp_path / "stack", kafka_storage="s3") as settings:
        c = Chaos(settings, tmp_path)
        try:
            yield c, Stack(settings)
        finally:
            for proc in c.procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(30)


def _kill_service(stack: object, name: str) -> None:
    """kill -9 an embedded server's process group, then start it again."""
    svc = stack._service(name)  # type: ignore[attr-defined]
    pid = stack.pid(svc)  # type: ignore[attr-defined]
    assert pid is not None, f"{name} is not running"
    os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)  # the stack started it from this process: reap it
    deadline = time.monotonic() + 60
    while True:
        try:
            stack.start(name)  # type: ignore[attr-defined]
            return
        except Exception:
            assert time.monotonic() < deadline, f"{name} did not come back"
            time.sleep(0.5)


def test_every_event_survives_kill_9_of_each_part(chaos: tuple[Chaos, object]) -> None:
    c, stack = chaos
    c._spawn("consumer")
    c._spawn("detector")

    c.wait("the first events", lambda: c.indexed() >= 30)
    c.kill("detector")
    c.wait("progress after the detector's restart", lambda: c.indexed() >= 90)
    _kill_service(stack, "kafka")
    c.wait("progress after the broker's restart", lambda: c.indexed() >= 150)
    _kill_service(stack, "s3")
    c.wait("progress after the S3 server's restart", lambda: c.indexed() >= 210)
    c.kill("consumer")
    c.wait("every event indexed", lambda: c.indexed() >= N and "detector" in c.done)

    s = c.settings
    with session_scope(s.db_url) as session:
        ids = session.scalars(select(EventRecord.id).where(EventRecord.camera_id == CAMERA)).all()
        assert len(ids) == len(set(ids)) == N
        store, verifier = ObjectStore(s), load_signer(s).verifier
        failed = {
            i: report.problems
            for i in ids
            if not (report := verify_event(session.get(EventRecord, i), store, verifier, i)).ok
        }
    assert failed == {}
    assert _dead_letters(s, CAMERA) == {}, "a dead letter from a fault that healed"
    print(f"restarts: {c.restarts}")
