"""An archive replayed from a manifest on a local Ray publishes exactly what replaying its
files one by one does, timed from the manifest's recording starts; a rerun publishes nothing."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from kafka import KafkaConsumer, TopicPartition

from contract import topics
from contract.events import DetectionEvent
from detectors.archive import Status, read_manifest, replay_archive
from detectors.replay import replay
from dozor import bus
from dozor.settings import Settings
from registry.link import DatabaseLink
from tests.conftest import media_dir, own_stack, settings_env

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

# Two short clips with red-light runners, each as the camera whose scene is drawn for it.
CLIPS = {
    "redlight_cam_intersection3.mp4": "VLG-ENF-002",
    "redlight_cam_platte_chelton.mp4": "VLG-ENF-001",
}
STARTS = {
    "VLG-ENF-002": datetime(2026, 3, 1, 5, 0, tzinfo=UTC),
    "VLG-ENF-001": datetime(2026, 3, 1, 7, 30, 15, tzinfo=UTC),
}
CORRUPT, CAMERA = "corrupt.mp4", "VLG-ENF-001"
RAY_DAEMONS = ("raylet", "gcs_server")

Offsets = dict[TopicPartition, int]


def _parts() -> list[TopicPartition]:
    return [TopicPartition(topics.EVENTS, p) for p in range(topics.PARTITIONS[topics.EVENTS])]


def _end_offsets(settings: Settings) -> Offsets:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        return dict(consumer.end_offsets(_parts()))
    finally:
        consumer.close()


def _events_since(settings: Settings, start: Offsets) -> tuple[list[DetectionEvent], Offsets]:
    """Every event published after ``start``, and where the topic ends now."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    try:
        consumer.assign(_parts())
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        end = consumer.end_offsets(_parts())
        events: list[DetectionEvent] = []
        deadline = time.monotonic() + 120
        while any(consumer.position(tp) < end[tp] for tp in end):
            assert time.monotonic() < deadline, "dozor.events not read to its end in 120 s"
            for records in consumer.poll(timeout_ms=1000).values():
                events += [
                    DetectionEvent.model_validate_json(r.value)
                    for r in records
                    if r.offset < end[TopicPartition(r.topic, r.partition)]
                ]
        return events, dict(end)
    finally:
        consumer.close()


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _ray_daemons() -> set[int]:
    return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] in RAY_DAEMONS}


def _left_over(find: Callable[[], set[int]], before: set[int]) -> set[int]:
    """The processes ``find`` names that were not there ``before``, once they have had a
    generous while to end."""
    deadline = time.monotonic() + 60
    while (left := find() - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _manifest(directory: Path) -> Path:
    """The clips, and a corrupt file that fails on its worker (the others go on)."""
    corrupt = directory / CORRUPT
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    rows = [*((media_dir() / clip, camera) for clip, camera in CLIPS.items()), (corrupt, CAMERA)]
    lines = ["file,camera_id,started_at"]
    lines += [f"{path},{camera},{STARTS[camera].isoformat()}" for path, camera in rows]
    path = directory / "archive.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _ids_and_types(events: list[DetectionEvent]) -> list[tuple[str, str]]:
    return sorted((e.id, e.type.value) for e in events)


@pytest.fixture
def archive_stack(tmp_path: Path) -> Iterator[Settings]:
    """Its own stack: the archive's events are on cameras whose index other tests count."""
    with own_stack(tmp_path / "stack", replay_cpus=2) as settings:
        yield settings


def test_a_manifest_on_ray_publishes_what_one_by_one_replays_do_and_a_rerun_nothing(
    archive_stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # a local Ray on the test's two cores
    settings = archive_stack
    bus.ensure_topics(settings)
    link = DatabaseLink(settings)

    start = _end_offsets(settings)
    began = time.perf_counter()
    for clip, camera in CLIPS.items():
        replay(
            settings,
            media_dir() / clip,
            camera,
            link=link,
            progress=False,
            started_at=STARTS[camera],
        )
    one_by_one_s = time.perf_counter() - began
    singles, start = _events_since(settings, start)
    assert {e.subject for e in singles} == set(CLIPS.values()), "both clips raise events"
    for event in singles:
        assert event.time == STARTS[event.subject] + timedelta(seconds=event.data.offset_s)

    manifest = _manifest(tmp_path)
    before = _children()
    began = time.perf_counter()
    results = replay_archive(settings, read_manifest(manifest), link=link, progress=False)
    archive_s = time.perf_counter() - began
    log.warning(
        "archive of %d clips on Ray: %.1f s; one by one: %.1f s (ratio %.2f)",
        len(CLIPS),
        archive_s,
        one_by_one_s,
        archive_s / one_by_one_s,
    )
    assert [(r.recording.path.name, r.status) for r in results] == [
        *((clip, Status.REPLAYED) for clip in CLIPS),
        (CORRUPT, Status.FAILED),
    ]
    assert "cannot decode video" in (results[-1].error or "")
    archived, start = _events_since(settings, start)
    assert _ids_and_types(archived) == _ids_and_types(singles)
    for event in archived:
        assert event.time == STARTS[event.subject] + timedelta(seconds=event.data.offset_s)
    assert {
        (r.summary.camera_id, i) for r in results if r.summary for i in r.summary.event_ids
    } == {(e.subject, e.id) for e in archived}
    # Ray's daemons and workers went with the session.
    assert _left_over(_children, before) == set()

    # A rerun, as an operator runs it: the clips were replayed to the end, so not again.
    daemons = _ray_daemons()
    proc = subprocess.run(
        [sys.executable, "-m", "dozor_cli.cli", "replay", str(manifest), "--no-progress"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr  # the corrupt file failed again
    assert proc.stdout.count("done before") == len(CLIPS), proc.stdout
    assert f"failed: {manifest} line 4: cannot decode video" in proc.stderr, proc.stderr
    assert _events_since(settings, start)[0] == []
    assert _left_over(_ray_daemons, daemons) == set()
