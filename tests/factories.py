"""Synthetic detection events whose evidence is a real JPEG stored in S3 first, as detectors do."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np

from contract.events import (
    Category,
    DetectionEvent,
    DetectorInfo,
    EventData,
    EventType,
    EvidenceRef,
    EvidenceRole,
    category_of,
    event_id,
)
from detectors.publisher import EventPublisher
from dozor import bus
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.signing import load_detector_signer
from tests.conftest import TEST_WORKER


def stored_event(
    store: ObjectStore,
    camera: str,
    n: int,
    *,
    run: object,
    type_: EventType = EventType.RED_LIGHT,
    gost: str | None = "C12",
    measured: dict[str, float | str] | None = None,
    time: datetime | None = None,
    worker_id: str = TEST_WORKER,
) -> DetectionEvent:
    eid = event_id(camera, run, n)
    img = np.full((48, 64, 3), 90, np.uint8)
    cv2.putText(img, str(n), (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    stored = store.put(
        f"{camera}/synthetic/{eid}/overview.jpg",
        cv2.imencode(".jpg", img)[1].tobytes(),
        "image/jpeg",
    )
    violation = category_of(type_) is Category.VIOLATION
    return DetectionEvent(
        id=eid,
        source=f"dozor://detector/{worker_id}",
        type=type_,
        time=time or datetime.now(UTC),
        subject=camera,
        data=EventData(
            category=category_of(type_),
            gost_code=gost if violation else None,
            scene_version=1,
            confidence=0.7,
            frame_index=n,
            offset_s=n / 10,
            measured=measured or {},
            evidence=[
                EvidenceRef(
                    role=EvidenceRole.OVERVIEW,
                    bucket=stored.bucket,
                    key=stored.key,
                    sha256=stored.sha256,
                    size=stored.size,
                    content_type=stored.content_type,
                    version_id=stored.version_id,
                )
            ],
            detector=DetectorInfo(
                model_name="test",
                model_sha256="0" * 64,
                software_version="test",
                worker_id=worker_id,
            ),
            source_uri="file:///synthetic",
        ),
    )


def publish(settings: Settings, events: list[DetectionEvent]) -> None:
    """Publish as the settings' worker does: signed with its key."""
    bus.ensure_topics(settings)
    publisher = EventPublisher(bus.producer(settings), load_detector_signer(settings))
    try:
        for event in events:
            publisher.publish(event)
    finally:
        publisher.close()
