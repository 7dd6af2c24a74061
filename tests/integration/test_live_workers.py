"""Live cameras from a real RTSP server through real detector workers (subprocesses).

GStreamer's RTSP server loops real clips as cameras; workers run `dozor worker run` against
their own SeaweedFS, Tansu and PostgreSQL database, with short leases so takeovers are quick.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from contract import topics
from contract.events import DetectionEvent, EventType
from contract.health import Heartbeat
from dozor.settings import Settings
from registry import leases
from registry.audit import Actor
from registry.auth import Role
from registry.db import session_scope
from registry.detector_keys import KeyScope, enroll
from registry.models import Camera, CameraHealth, CameraLease
from tests.conftest import media_dir, own_stack, settings_env

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
# Camera -> clip whose scene it has (registry/seed/scenes/assignments.json).
CAMERAS = {
    "VLG-ENF-002": "redlight_cam_intersection3.mp4",
    "VLG-CAM-002": "highway_overhead_ca_sobral1.avi",
}
RED_CAMERA = "VLG-ENF-002"
_LONG_AGO = datetime(1900, 1, 1, tzinfo=UTC)
LEASE_TTL_S = 6.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting for {what}")


class RtspServer:
    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log, self.proc = port, log, None
        self.clips = [str(media_dir() / clip) for clip in CAMERAS.values()]

    def start(self) -> None:
        out = self.log.open("a")
        self.proc = subprocess.Popen(
            [
                "/usr/bin/python3",
                str(ROOT / "tests" / "rtsp_server.py"),
                str(self.port),
                *self.clips,
            ],
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def url(self, i: int) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam{i}"


@dataclass
class Live:
    settings: Settings
    rtsp: RtspServer
    logs: Path
    workers: list[subprocess.Popen[str]]

    def start_worker(self, worker_id: str, capacity: int, metrics_port: int = 0) -> Any:
        with session_scope(self.settings.db_url) as s:  # as `dozor detector enroll` does
            enroll(s, Actor("test", Role.ADMIN), self.settings, worker_id, KeyScope.LIVE)
        env = settings_env(self.settings)
        env.update(DOZOR_WORKER_ID=worker_id, DOZOR_WORKER_METRICS_PORT=str(metrics_port))
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "dozor"), "worker", "run", "--capacity", str(capacity)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=(self.logs / f"{worker_id}.log").open("w"),
            text=True,
        )
        self.workers.append(proc)
        return proc

    def held_by(self, worker_id: str) -> set[str]:
        with session_scope(self.settings.db_url) as s:
            now = leases.db_now(s)
            return {
                lease.camera_id
                for lease in leases.current(s)
                if lease.worker_id == worker_id and lease.expires_at > now
            }

    def read(self, topic: str) -> list[Any]:
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap, enable_auto_commit=False
        )
        try:
            parts = [TopicPartition(topic, p) for p in range(topics.PARTITIONS[topic])]
            consumer.assign(parts)
            consumer.seek_to_beginning(*parts)
            records, idle = [], 0
            while idle < 2:
                batch = consumer.poll(timeout_ms=500)
                idle = 0 if batch else idle + 1
                records += [r for rs in batch.values() for r in rs]
            return records
        finally:
            consumer.close()

    def events(self) -> list[DetectionEvent]:
        return [DetectionEvent.model_validate_json(r.value) for r in self.read(topics.EVENTS)]

    def heartbeats(self) -> list[Heartbeat]:
        """The latest heartbeat per camera as the registry recorded it: the one channel."""
        with session_scope(self.settings.db_url) as s:
            rows = s.scalars(select(CameraHealth).where(CameraHealth.camera_id.in_(CAMERAS)))
            return [Heartbeat.model_validate(r, from_attributes=True) for r in rows]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    base = tmp_path_factory.mktemp("live")
    stack = own_stack(
        base,
        # The red-light rule needs ~8 analysed fps on this clip to see a crossing.
        analysis_fps=8.0,
        lease_ttl_s=LEASE_TTL_S,
        heartbeat_interval_s=1.0,
        stream_lost_after_s=2.0,
        stream_open_timeout_s=2.0,
        stream_read_timeout_s=2.0,
        stream_backoff_initial_s=0.2,
        stream_backoff_max_s=1.0,
    )
    rtsp = RtspServer(_free_port(), base / "rtsp.log")
    workers: list[subprocess.Popen[str]] = []
    with stack as settings:
        try:
            with session_scope(settings.db_url) as s:
                # Only our served cameras are analysable; the roster's real addresses are not.
                s.execute(update(Camera).values(stream_main=None))
                for i, camera_id in enumerate(CAMERAS, start=1):
                    s.execute(
                        update(Camera).where(Camera.id == camera_id).values(stream_main=rtsp.url(i))
                    )
            rtsp.start()
            yield Live(settings, rtsp, base, workers)
        finally:
            for proc in workers:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
            rtsp.kill()


def _published(live: Live, worker_id: str) -> bool:
    """A finding (not a stream incident) about the red-light camera from this worker. Which
    finding depends on how many frames a busy CPU lets the worker analyse; the takeover is
    what is tested here, the rules' accuracy in test_eval."""
    return any(
        e.subject == RED_CAMERA
        and e.type not in (EventType.STREAM_LOST, EventType.STREAM_RESTORED)
        and e.data.detector.worker_id == worker_id
        for e in live.events()
    )


def _drain(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def test_frames_flow_with_health_and_metrics_and_outages_are_reported(live: Live) -> None:
    metrics_port = _free_port()
    worker = live.start_worker("w-flow", capacity=2, metrics_port=metrics_port)
    wait_for("both cameras leased", lambda: live.held_by("w-flow") == set(CAMERAS))

    def analysing() -> bool:
        beats = live.heartbeats()
        return {b.camera_id for b in beats if b.fps_out > 0 and b.fps_in > b.fps_out} == set(
            CAMERAS
        )

    wait_for("heartbeats showing frames analysed below the decoded rate", analysing)
    with session_scope(live.settings.db_url) as s:
        rows = s.scalars(select(CameraHealth).where(CameraHealth.camera_id.in_(CAMERAS))).all()
        assert {r.camera_id for r in rows if r.worker_id == "w-flow"} == set(CAMERAS)
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    for camera_id in CAMERAS:
        assert f'dozor_worker_frames_analysed_total{{camera="{camera_id}"}}' in text
    assert "dozor_worker_stage_seconds_bucket" in text

    live.rtsp.kill()

    def of_type(kind: EventType) -> set[str]:
        return {e.subject for e in live.events() if e.type is kind}

    wait_for("stream lost for every camera", lambda: of_type(EventType.STREAM_LOST) == set(CAMERAS))
    beats = wait_for(
        "a heartbeat reporting the stream errors",
        lambda: [b for b in live.heartbeats() if b.errors > 0 and b.last_error],
    )
    assert not any("@" in (b.last_error or "") for b in beats)
    live.rtsp.start()
    wait_for(
        "stream restored for every camera",
        lambda: of_type(EventType.STREAM_RESTORED) == set(CAMERAS),
    )
    out = _drain(worker)
    assert "w-flow" in out
    assert live.held_by("w-flow") == set()
    events = live.events()
    incidents = [e for e in events if e.type in (EventType.STREAM_LOST, EventType.STREAM_RESTORED)]
    assert len(incidents) == 2 * len(CAMERAS)  # one loss and one return per camera, no repeats
    assert all(not e.data.evidence and e.data.category == "incident" for e in incidents)


def test_a_dead_workers_cameras_move_without_duplicate_events(live: Live) -> None:
    # Longest free goes first: w-a is to take (and lose) the red-light camera. Both rows are
    # set here, whatever earlier tests left (never-claimed rows are stamped 1970).
    with session_scope(live.settings.db_url) as s:
        s.execute(
            pg_insert(CameraLease)
            .values([{"camera_id": c, "epoch": 0, "expires_at": _LONG_AGO} for c in CAMERAS])
            .on_conflict_do_nothing(index_elements=["camera_id"])
        )
        for camera_id in CAMERAS:
            expired = _LONG_AGO if camera_id == RED_CAMERA else _LONG_AGO + timedelta(days=1)
            s.execute(
                update(CameraLease)
                .where(CameraLease.camera_id == camera_id)
                .values(expires_at=expired)
            )
    first = live.start_worker("w-a", capacity=1)
    wait_for("w-a holds the red-light camera", lambda: live.held_by("w-a") == {RED_CAMERA})
    second = live.start_worker("w-b", capacity=2)
    wait_for("w-b holds the other camera", lambda: len(live.held_by("w-b")) == 1)
    # Let w-a find a violation, then kill it without warning.
    wait_for("w-a publishes about it", lambda: _published(live, "w-a"), 300)
    first.kill()
    first.wait(10)
    killed_at = time.monotonic()
    wait_for("w-b takes over", lambda: live.held_by("w-b") == set(CAMERAS), LEASE_TTL_S * 4)
    took_s = time.monotonic() - killed_at
    wait_for(
        "w-b analysing the moved camera",
        lambda: any(
            b.worker_id == "w-b" and b.camera_id == RED_CAMERA and b.fps_out > 0
            for b in live.heartbeats()
        ),
    )
    wait_for("w-b publishes about it", lambda: _published(live, "w-b"), 300)
    _drain(second)
    assert live.held_by("w-b") == set()

    events = live.events()
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids)), "an event was published twice"
    # Both workers published about the moved camera, in disjoint capture windows.
    moved = [e for e in events if e.subject == RED_CAMERA]
    before = [e.time for e in moved if e.data.detector.worker_id == "w-a"]
    after = [e.time for e in moved if e.data.detector.worker_id == "w-b"]
    assert before and after and max(before) < min(after)
    violations = [e for e in moved if e.type is EventType.RED_LIGHT]
    print(json.dumps({"takeover_s": round(took_s, 2), "violations": len(violations)}))
