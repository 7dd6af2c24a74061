"""Bad input to `dozor replay`: one clear line, non-zero exit, nothing published or stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from contract import topics
from dozor.settings import Settings
from dozor.storage import ObjectStore
from tests.conftest import media_dir, settings_env

pytestmark = pytest.mark.integration


def _end_offsets(settings: Settings) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        parts = [TopicPartition(topics.EVENTS, p) for p in range(topics.PARTITIONS[topics.EVENTS])]
        return {tp.partition: off for tp, off in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def _objects(settings: Settings) -> int:
    store = ObjectStore(settings)
    store.ensure()
    return sum(1 for _ in store.client.list_objects(settings.s3_bucket, recursive=True))


@pytest.fixture
def corrupt_video(tmp_path: Path) -> Path:
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    return path


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "video not found"),
        ("corrupt", "cannot decode video"),
        ("unknown_camera", "unknown camera id: VLG-CAM-999"),
        ("no_scene", "has no scene config"),
    ],
)
def test_bad_input_is_one_clear_error_and_nothing_is_written(
    stack_env: Settings, tmp_path: Path, corrupt_video: Path, case: str, expected: str
) -> None:
    from dozor import bus

    bus.ensure_topics(stack_env)
    clip = media_dir() / "redlight_cam_platte_chelton.mp4"
    video, camera = {
        "missing": (tmp_path / "nope.mp4", "VLG-ENF-001"),
        "corrupt": (corrupt_video, "VLG-ENF-001"),
        "unknown_camera": (clip, "VLG-CAM-999"),
        "no_scene": (clip, "VLG-CAM-050"),
    }[case]
    offsets, objects = _end_offsets(stack_env), _objects(stack_env)
    proc = subprocess.run(
        [sys.executable, "-m", "dozor_cli.cli", "replay", str(video), "--camera", camera],
        env=settings_env(stack_env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [lines[0]] and lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in proc.stderr
    assert _end_offsets(stack_env) == offsets
    assert _objects(stack_env) == objects
