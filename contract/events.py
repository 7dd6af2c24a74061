"""Detection events: the one message detectors publish and consumers and the registry read.

The envelope follows CloudEvents 1.0 attribute names (id, source, type, time, subject,
specversion, dataschema) so that tools which know CloudEvents recognise it; the payload
lives under ``data``. Media never travels inside an event: evidence is referenced by
bucket, key and SHA-256.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"

# Namespace for deterministic event ids: same inputs -> same id, so replays and
# takeovers can be deduplicated downstream.
EVENT_ID_NAMESPACE = uuid.UUID("6f1d2f5e-4a0b-4c1e-9a57-0d6f3b7c2e11")


class Category(StrEnum):
    VIOLATION = "violation"
    INCIDENT = "incident"


class EventType(StrEnum):
    RED_LIGHT = "red_light"
    STOP_LINE = "stop_line"
    SPEEDING = "speeding"
    WRONG_WAY = "wrong_way"
    SOLID_LINE = "solid_line"
    BUS_LANE = "bus_lane"
    BLOCKED_JUNCTION = "blocked_junction"
    FAILURE_TO_YIELD = "failure_to_yield"
    NO_STOPPING = "no_stopping"
    STOPPED_VEHICLE = "stopped_vehicle"
    PEDESTRIAN_ON_ROADWAY = "pedestrian_on_roadway"
    CONGESTION = "congestion"
    CAMERA_TAMPER = "camera_tamper"
    STREAM_LOST = "stream_lost"
    STREAM_RESTORED = "stream_restored"


_INCIDENTS = frozenset(
    {
        EventType.STOPPED_VEHICLE,
        EventType.PEDESTRIAN_ON_ROADWAY,
        EventType.CONGESTION,
        EventType.CAMERA_TAMPER,
        EventType.STREAM_LOST,
        EventType.STREAM_RESTORED,
    }
)


def category_of(event_type: EventType) -> Category:
    return Category.INCIDENT if event_type in _INCIDENTS else Category.VIOLATION


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BBox(_Strict):
    x1: float
    y1: float
    x2: float
    y2: float


class TrackPoint(_Strict):
    frame_index: int = Field(ge=0)
    offset_s: float = Field(ge=0, description="Seconds since the start of the source.")
    bbox: BBox


class EvidenceRole(StrEnum):
    OVERVIEW = "overview"
    CROP = "crop"
    PLATE = "plate"
    CLIP = "clip"
    BEFORE = "before"
    AFTER = "after"


class EvidenceRef(_Strict):
    role: EvidenceRole
    bucket: str
    key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    content_type: str
    frame_index: int | None = None


class DetectorInfo(_Strict):
    model_name: str
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    software_version: str
    worker_id: str


class EventData(_Strict):
    category: Category
    gost_code: str | None = Field(default=None, description="GOST R 57144-2016 event code.")
    scene_version: int = Field(ge=1)
    track_id: int | None = None
    object_class: str | None = None
    confidence: float = Field(ge=0, le=1)
    frame_index: int = Field(ge=0)
    offset_s: float = Field(ge=0)
    track: list[TrackPoint] = Field(default_factory=list)
    params: dict[str, float | str] = Field(default_factory=dict)
    measured: dict[str, float | str] = Field(default_factory=dict)
    evidence: list[EvidenceRef] = Field(default_factory=list)
    detector: DetectorInfo
    source_uri: str = Field(description="The stream or file, credentials redacted.")


class DetectionEvent(_Strict):
    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str = Field(description="URI of the producing worker, e.g. dozor://detector/w1")
    type: EventType
    time: AwareDatetime
    subject: str = Field(description="Camera id; also the Kafka message key.")
    dataschema: str = f"dozor:detection-event:v{SCHEMA_VERSION}"
    schema_version: Literal["1"] = SCHEMA_VERSION
    data: EventData


def event_id(*parts: object) -> str:
    """Deterministic id from whatever identifies an occurrence uniquely."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "|".join(str(p) for p in parts)))
