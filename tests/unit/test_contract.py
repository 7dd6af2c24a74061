"""The event contract: round trips, schema files in step with the models, deterministic ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest
from pydantic import ValidationError

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
from contract.scene import SceneConfig
from contract.schema_files import MODELS, SCHEMA_DIR, render, stale

SHA = "a" * 64


def sample_event() -> DetectionEvent:
    return DetectionEvent(
        id=event_id("VLG-ENF-001", "src", 1, SHA, "red_light", 7, 120),
        source="dozor://detector/w1",
        type=EventType.RED_LIGHT,
        time=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        subject="VLG-ENF-001",
        data=EventData(
            category=Category.VIOLATION,
            gost_code="C12",
            scene_version=1,
            track_id=7,
            object_class="car",
            confidence=0.87,
            frame_index=120,
            offset_s=5.0,
            params={"stop_line": "stop-1"},
            measured={"red_for_s": 2.5},
            evidence=[
                EvidenceRef(
                    role=EvidenceRole.OVERVIEW,
                    bucket="evidence",
                    key="VLG-ENF-001/x/overview.jpg",
                    sha256=SHA,
                    size=1234,
                    content_type="image/jpeg",
                )
            ],
            detector=DetectorInfo(
                model_name="yolo11n_int8.tflite",
                model_sha256=SHA,
                software_version="0.1.0",
                worker_id="w1",
            ),
            source_uri="file:///clip.mp4",
        ),
    )


def sample_scene() -> SceneConfig:
    return SceneConfig.model_validate(
        {
            "frame_width": 640,
            "frame_height": 352,
            "lines": [
                {
                    "id": "stop-1",
                    "kind": "stop_line",
                    "points": [[100, 300], [400, 300]],
                    "approach": [250, 340],
                }
            ],
            "signals": [{"id": "sig-1", "bbox": [300, 10, 320, 50], "controls": ["stop-1"]}],
            "zones": [
                {"id": "box", "kind": "junction_box", "polygon": [[0, 0], [50, 0], [50, 50]]}
            ],
        }
    )


@pytest.mark.parametrize(
    ("name", "instance"),
    [("detection-event.v1.json", sample_event), ("scene-config.v1.json", sample_scene)],
)
def test_round_trip_and_validates_against_checked_in_schema(name: str, instance) -> None:  # type: ignore[no-untyped-def]
    obj = instance()
    model = type(obj)
    again = model.model_validate_json(obj.model_dump_json())
    assert again == obj
    schema = json.loads((SCHEMA_DIR / name).read_text())
    jsonschema.validate(json.loads(obj.model_dump_json()), schema)


def test_schema_files_match_models() -> None:
    assert stale() == [], "run `dozor schema export` and commit the schema files"


def test_every_model_has_a_schema_file() -> None:
    for name, model in MODELS.items():
        assert (SCHEMA_DIR / name).read_text() == render(model)


def test_schema_rejects_what_the_model_rejects() -> None:
    payload = json.loads(sample_event().model_dump_json())
    payload["data"]["evidence"][0]["sha256"] = "not-a-hash"
    schema = json.loads((SCHEMA_DIR / "detection-event.v1.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, schema)
    with pytest.raises(ValidationError):
        DetectionEvent.model_validate(payload)


def test_event_ids_are_deterministic_and_distinct() -> None:
    assert event_id("cam", 1, "x") == event_id("cam", 1, "x")
    assert event_id("cam", 1, "x") != event_id("cam", 2, "x")


def test_categories() -> None:
    assert category_of(EventType.RED_LIGHT) is Category.VIOLATION
    assert category_of(EventType.STOPPED_VEHICLE) is Category.INCIDENT


def test_scene_rejects_points_outside_frame_and_unknown_lines() -> None:
    with pytest.raises(ValidationError, match="outside"):
        SceneConfig.model_validate(
            {
                "frame_width": 100,
                "frame_height": 100,
                "lines": [{"id": "l", "kind": "stop_line", "points": [[0, 0], [150, 10]]}],
            }
        )
    with pytest.raises(ValidationError, match="unknown line"):
        SceneConfig.model_validate(
            {
                "frame_width": 100,
                "frame_height": 100,
                "signals": [{"id": "s", "bbox": [1, 1, 5, 5], "controls": ["nope"]}],
            }
        )
