"""Detection events: the one message detectors publish and consumers and the registry read.

The envelope is a CloudEvents 1.0 event in the JSON format (id, source, type, time, subject,
specversion, dataschema, and the extension ``schemaversion``), so that CloudEvents tools
(SDKs, brokers' routers) accept it as it is; the payload lives under ``data``. Media never
travels inside an event: evidence is referenced by bucket, key, SHA-256 and the S3 version
the detector wrote.

Producer authentication: a detector signs every event it publishes with its own Ed25519
key (registered in the registry). The extension attributes ``keyid`` (SHA-256 fingerprint
of the raw public key) and ``signature`` (base64 Ed25519 over :meth:`DetectionEvent.
signed_bytes`, the canonical JSON of the event without ``signature``) carry it, so the
signature travels with the event wherever it goes (DLQ, re-drives, the index). The
evidence consumer refuses an unsigned event, or one whose key is unknown, revoked, another
worker's, or whose worker did not hold the camera's lease at the event's time.
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from contract.ids import BucketName, CameraId, EventId, GostCode, ObjectKey, WorkerId

SCHEMA_VERSION: Final = "1"

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
    # The camera's view against its scene's reference frame (detectors/registration.py).
    CAMERA_MOVED = "camera_moved"
    SCENE_CHANGED = "scene_changed"
    # A cyclist where cycling is banned (a motorway, a no-cycling zone).
    CYCLIST_BANNED = "cyclist_banned"


_INCIDENTS = frozenset(
    {
        EventType.STOPPED_VEHICLE,
        EventType.PEDESTRIAN_ON_ROADWAY,
        EventType.CONGESTION,
        EventType.CAMERA_TAMPER,
        EventType.STREAM_LOST,
        EventType.STREAM_RESTORED,
        EventType.CAMERA_MOVED,
        EventType.SCENE_CHANGED,
        EventType.CYCLIST_BANNED,
    }
)


def category_of(event_type: EventType) -> Category:
    return Category.INCIDENT if event_type in _INCIDENTS else Category.VIOLATION


# CloudEvents `type` values on the wire: reverse-DNS, as the spec recommends, e.g.
# io.github.dozor.violation.red_light. Code, rules and the index keep the short EventType.
TYPE_NAMESPACE = "io.github.dozor"


def wire_type(event_type: EventType) -> str:
    return f"{TYPE_NAMESPACE}.{category_of(event_type)}.{event_type.value}"


_FROM_WIRE = {wire_type(t): t for t in EventType}


def _from_wire(value: object) -> object:
    # Messages written before the reverse-DNS names carry the bare EventType value.
    return _FROM_WIRE.get(value, value) if isinstance(value, str) else value


WireEventType = Annotated[
    EventType,
    BeforeValidator(_from_wire),
    PlainSerializer(wire_type, return_type=str),
    WithJsonSchema({"title": "Type", "type": "string", "enum": sorted(_FROM_WIRE)}),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def canonical_json(value: Any) -> bytes:
    """The bytes that are signed: sorted keys, no whitespace, UTF-8 (close to RFC 8785)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _unset(value: object) -> bool:
    # Attributes added later are left out while unset, so an older message serialises (and
    # hashes) exactly as it did before they existed.
    return value is None


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
    bucket: BucketName
    key: ObjectKey
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    content_type: str = Field(max_length=200)
    frame_index: int | None = None
    version_id: str | None = Field(
        None,
        max_length=200,
        exclude_if=_unset,
        description="The S3 version the detector wrote, where versioned.",
    )


class DetectorInfo(_Strict):
    model_name: str
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    software_version: str
    worker_id: WorkerId


class EventData(_Strict):
    category: Category
    gost_code: GostCode | None = Field(default=None, description="GOST R 57144-2016 event code.")
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
    # CloudEvents attribute names are lowercase letters and digits only: an extension
    # attribute added here must not contain "_" (tests/unit/test_cloudevents.py checks).
    specversion: Literal["1.0"] = "1.0"
    id: EventId
    source: str = Field(description="URI of the producing worker, e.g. dozor://detector/w1")
    type: WireEventType
    time: AwareDatetime
    subject: CameraId = Field(description="Camera id; also the Kafka message key.")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str = f"dozor:detection-event:v{SCHEMA_VERSION}"
    schemaversion: Literal["1"] = Field(
        default=SCHEMA_VERSION,
        # Messages written before CloudEvents naming carry `schema_version`.
        validation_alias=AliasChoices("schemaversion", "schema_version"),
    )
    data: EventData
    keyid: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        exclude_if=_unset,
        description="Fingerprint (SHA-256 of the raw public key) of the detector's signing key.",
    )
    signature: str | None = Field(
        None,
        max_length=200,
        exclude_if=_unset,
        description="Base64 Ed25519 signature over signed_bytes().",
    )

    def signed_bytes(self) -> bytes:
        """What the detector signs: the canonical JSON of the event without ``signature``."""
        return canonical_json(self.model_dump(mode="json", exclude={"signature"}))


def event_id(*parts: object) -> str:
    """Deterministic id from whatever identifies an occurrence uniquely."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "|".join(str(p) for p in parts)))
