"""The pipeline on scripted detections: an outage delays an event, it never loses it."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from contract.events import DetectionEvent, EventType
from detectors.backends.base import Boxes, DetectorBackend
from detectors.pipeline import CameraContext, Pipeline
from detectors.sources import Frame
from detectors.tracking import CameraTracker
from dozor.settings import Settings
from dozor.storage import StoredObject, sha256_hex
from evidence.capture import EvidenceWriter
from tests.unit.test_contract import sample_scene

FPS = 10.0
# A car approaching the stop line (y=300) from below and driving on through it.
BOTTOMS = [340, 330, 320, 310, 300, 290, 270, 250, 230, 210, 190, 170] + [150] * 50


class ScriptedDetector(DetectorBackend):
    """A detector that sees the car where the script puts it, as the seam's neutral arrays."""

    key = "scripted"
    model_name = "scripted"
    model_sha256 = "0" * 64

    def __init__(self) -> None:
        self.calls = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> ScriptedDetector:
        return cls()

    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        found = []
        for _ in images:
            y = BOTTOMS[min(self.calls, len(BOTTOMS) - 1)]
            self.calls += 1
            found.append(Boxes.of([[210.0, y - 60.0, 290.0, float(y)]], [0.9], [2]))
        return found


class FlakyStore:
    """S3 that is down for the first ``failures`` writes."""

    bucket = "evidence"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("S3 unavailable")
        self.objects[key] = data
        return StoredObject(self.bucket, key, sha256_hex(data), len(data), content_type)


# A textured, steady street: a black frame would rightly be reported as camera tamper.
STREET = np.random.default_rng(7).integers(60, 200, (352, 640, 3), dtype=np.uint8)


def frame(i: int) -> Frame:
    image = STREET.copy()
    cv2.circle(image, (310, 20), 6, (30, 30, 250), -1)  # the signal head shows red
    return Frame(i, i / FPS, image)


def pipeline(
    store: FlakyStore, published: list[DetectionEvent]
) -> tuple[Pipeline, DetectorBackend]:
    camera = CameraContext(
        camera_id="VLG-ENF-001",
        scene_version=1,
        scene=sample_scene(),
        source_uri="file:///scripted",
        source_id="scripted",
        started_at=datetime(2026, 11, 26, tzinfo=UTC),
        fps=FPS,
    )
    writer = EvidenceWriter(store, plate_reader=None)  # type: ignore[arg-type]
    detector = ScriptedDetector()
    tracker = CameraTracker(detector, FPS)  # the real per-stream ByteTrack, fed neutral arrays
    return Pipeline(camera, tracker, writer, published.append, "w1"), detector


def run(scripted: tuple[Pipeline, DetectorBackend], frames: int) -> list[Exception]:
    p, detector = scripted
    errors = []
    for i in range(frames):
        f = frame(i)
        try:
            p.process(f, detector.detect([f.image])[0])
        except ConnectionError as exc:  # what a worker logs before it goes on
            errors.append(exc)
    return errors


def test_a_crossing_on_red_is_published_once_with_its_evidence() -> None:
    store, published = FlakyStore(failures=0), []
    p, detector = pipeline(store, published)
    assert run((p, detector), 60) == []
    assert [e.type for e in published] == [EventType.RED_LIGHT]
    refs = published[0].data.evidence
    assert {r.role.value for r in refs} >= {"overview", "crop", "clip"}
    assert all(store.objects[r.key] and sha256_hex(store.objects[r.key]) == r.sha256 for r in refs)
    assert p.pending == []


@pytest.mark.parametrize("failures", [1, 5])
def test_an_s3_outage_delays_the_event_but_loses_nothing(failures: int) -> None:
    healthy: list[DetectionEvent] = []
    run(pipeline(FlakyStore(failures=0), healthy), 60)
    store, published = FlakyStore(failures=failures), []
    p, detector = pipeline(store, published)
    errors = run((p, detector), 300)  # 30 s of stream: retries back off 0.5, 1, 2, 4 s ...
    assert len(errors) == failures
    assert [e.id for e in published] == [healthy[0].id]  # once, with the same id
    # The evidence shows the frames the rule chose, not whatever the ring held at the retry.
    assert [(r.role, r.frame_index, r.sha256) for r in published[0].data.evidence] == [
        (r.role, r.frame_index, r.sha256) for r in healthy[0].data.evidence
    ]
    assert p.pending == []


def test_retries_back_off_instead_of_rebuilding_evidence_every_frame() -> None:
    store, published = FlakyStore(failures=1000), []
    p, detector = pipeline(store, published)
    errors = run((p, detector), 300)  # the finding is ready after ~2 s, then 28 s of outage
    assert 4 <= len(errors) <= 7  # 0.5 + 1 + 2 + 4 + 8 + 16 s, not one try per frame
    assert published == [] and len(p.pending) == 1


def test_flush_publishes_what_is_still_waiting_for_after_frames() -> None:
    store, published = FlakyStore(failures=0), []
    p, detector = pipeline(store, published)
    run((p, detector), 9)  # the crossing is seen, its after-frames are not
    assert published == [] and len(p.pending) == 1
    assert [e.type for e in p.flush()] == [EventType.RED_LIGHT]
    assert p.pending == []


def test_failed_findings_at_the_cap_pause_analysis_until_they_are_out() -> None:
    store, published = FlakyStore(failures=1000), []
    p, detector = pipeline(store, published)
    p.max_failed = 1
    run((p, detector), 60)  # the finding is ready after ~2 s, then fails
    assert p.paused and len(p.pending) == 1
    judged, paused = p.detections, p.paused_frames
    run((p, detector), 60)
    # Nothing new is judged (memory stays bounded), the finding is still tried.
    assert p.detections == judged and p.paused_frames == paused + 60
    store.failures = 0
    run((p, detector), 300)  # the next try after the backoff succeeds
    assert [e.type for e in published] == [EventType.RED_LIGHT]
    assert not p.paused and p.detections > judged
