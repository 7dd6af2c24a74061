"""API request and response models (the wire shape, apart from the database rows)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from contract.events import (
    BBox,
    Category,
    DetectionEvent,
    DetectorInfo,
    EventData,
    EventType,
    EvidenceRef,
    EvidenceRole,
    TrackPoint,
)
from contract.health import HealthState, Heartbeat
from contract.ids import CAMERA_ID_PATTERN, GostCode
from contract.scene import SceneConfig
from registry.db import as_utc
from registry.detector_keys import KeyScope

T = TypeVar("T")


def _page_example(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    # A page's example is a page of its item model's first example.
    args = getattr(cls, "__pydantic_generic_metadata__", {}).get("args") or ()
    extra = args[0].model_config.get("json_schema_extra") if args else None
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if examples:
        schema["examples"] = [{"items": examples[:1], "total": 1, "limit": 50, "offset": 0}]


class Page(BaseModel, Generic[T]):
    model_config = ConfigDict(json_schema_extra=_page_example)

    items: list[T]
    total: int
    limit: int
    offset: int


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

INT32_MAX = 2**31 - 1


def _printable(value: str) -> str:
    # PostgreSQL text cannot hold NUL; other control characters are never meant in these fields.
    if any(ord(c) < 32 and c not in "\t\n" for c in value):
        raise ValueError("control characters are not allowed")
    return value


def Text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_printable)
    ]


def _stream_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("rtsp", "rtsps", "http", "https", "rtmp", "srt"):
        raise ValueError("must be an rtsp://, rtsps://, http(s)://, rtmp:// or srt:// URL")
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise ValueError("has a malformed host or port") from None
    if not host:
        raise ValueError("has no host")
    return value


StreamUrl = Annotated[Text(1000, 1), AfterValidator(_stream_url)]


class CameraKind(StrEnum):
    STREET_CAMERA = "street_camera"
    ENFORCEMENT_UNIT = "enforcement_unit"


class CameraStatus(StrEnum):
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    DECOMMISSIONED = "decommissioned"


_CAMERA_EXAMPLE: dict[str, Any] = {
    "id": "VLG-CAM-095",
    "kind": "street_camera",
    "name": "пр. Ленина — ул. Пушкина",
    "district": "Tsentralny",
    "address": "г. Волгоград, проспект Ленина / улица Пушкина",
    "lat": 48.7102,
    "lon": 44.5153,
    "heading_deg": 90,
    "lanes": 4,
    "vendor": "Hikvision",
    "model": "DS-2CD2T46G2",
    "status": "active",
    "stream_main": "rtsp://viewer:s3cret@10.41.3.99:554/Streaming/Channels/101",
    "stream_sub": "rtsp://viewer:s3cret@10.41.3.99:554/Streaming/Channels/102",
}
_ENFORCEMENT_EXAMPLE: dict[str, Any] = {
    **_CAMERA_EXAMPLE,
    "id": "VLG-ENF-017",
    "kind": "enforcement_unit",
    "type_approval_number": "ГРСИ 78211-20",
    "verification_certificate": "С-ВЯ/12-03-2026/512345678",
    "verification_valid_until": "2027-03-11",
    "certified_codes": ["C1", "C12", "C13"],
}


class CameraFields(BaseModel):
    """Everything about a camera an operator sets, with the bounds the registry enforces."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: CameraKind
    name: Text(200, 1)
    district: Text(64) | None = None
    address: Text(300) | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    heading_deg: float | None = Field(None, ge=0, lt=360, description="Compass bearing of view.")
    lanes: int | None = Field(None, ge=1, le=16)
    vendor: Text(100) | None = None
    model: Text(100) | None = None
    status: CameraStatus = CameraStatus.ACTIVE
    stream_main: StreamUrl | None = Field(
        None,
        description=(
            "Stream URL. user:password@ in it is stored encrypted and never returned; answers "
            "show ***@ instead, and sending ***@ back keeps the stored credentials."
        ),
    )
    stream_sub: StreamUrl | None = None
    type_approval_number: Text(64) | None = Field(
        None, description="ГРСИ type-approval number (enforcement units)."
    )
    verification_certificate: Text(128) | None = Field(
        None, description="Metrological verification (поверка) certificate number."
    )
    verification_valid_until: date | None = None
    certified_codes: list[GostCode] | None = Field(None, max_length=40)

    @model_validator(mode="after")
    def _enforcement_has_certificates(self) -> CameraFields:
        if self.kind is CameraKind.ENFORCEMENT_UNIT:
            missing = [
                name
                for name in (
                    "type_approval_number",
                    "verification_certificate",
                    "verification_valid_until",
                    "certified_codes",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"an enforcement unit needs {', '.join(missing)}")
        return self


class CameraCreate(CameraFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [_CAMERA_EXAMPLE, _ENFORCEMENT_EXAMPLE]}
    )

    id: str = Field(pattern=CAMERA_ID_PATTERN, description="Stable id, e.g. VLG-CAM-095.")


class CameraUpdate(BaseModel):
    """Fields to change; those left out stay as they are, null clears an optional one."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {"status": "maintenance"},
                {
                    "verification_certificate": "С-ВЯ/01-04-2026/6001",
                    "verification_valid_until": "2027-04-01",
                },
            ]
        },
    )

    kind: CameraKind | None = None
    name: Text(200, 1) | None = None
    district: Text(64) | None = None
    address: Text(300) | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    heading_deg: float | None = Field(None, ge=0, lt=360)
    lanes: int | None = Field(None, ge=1, le=16)
    vendor: Text(100) | None = None
    model: Text(100) | None = None
    status: CameraStatus | None = None
    stream_main: StreamUrl | None = None
    stream_sub: StreamUrl | None = None
    type_approval_number: Text(64) | None = None
    verification_certificate: Text(128) | None = None
    verification_valid_until: date | None = None
    certified_codes: list[GostCode] | None = Field(None, max_length=40)


class CameraOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_ENFORCEMENT_EXAMPLE,
                    "stream_main": "rtsp://***@10.41.3.99:554/Streaming/Channels/101",
                    "stream_sub": "rtsp://***@10.41.3.99:554/Streaming/Channels/102",
                    "stream_credentials_set": True,
                    "verification_lapsed": False,
                    "health": "online",
                    "scene_version": 2,
                }
            ]
        },
    )

    id: str
    kind: str
    name: str
    district: str | None
    address: str | None
    lat: float
    lon: float
    heading_deg: float | None
    lanes: int | None
    vendor: str | None
    model: str | None
    status: str
    stream_main: str | None = Field(None, description="Credentials are always redacted.")
    stream_sub: str | None = None
    type_approval_number: str | None = None
    verification_certificate: str | None = None
    verification_valid_until: date | None = None
    certified_codes: list[str] | None = None
    scene_version: int | None = None
    stream_credentials_set: bool = Field(
        False, description="Whether stream credentials are stored (they are never returned)."
    )
    verification_lapsed: bool = Field(
        False, description="Enforcement unit whose verification is past its valid-until date."
    )
    health: HealthState = HealthState.OFFLINE


_EXAMPLE_TIME = datetime(2026, 11, 20, 16, 42, 7, tzinfo=UTC)
_SHA = "9f2c1e0d5b7a4c3e8f6d2a1b0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
_EVENT_EXAMPLE = DetectionEvent(
    id="ead4a970-59f2-5228-a2bb-17dde1e5bc93",
    source="dozor://detector/detector-1",
    type=EventType.RED_LIGHT,
    time=_EXAMPLE_TIME,
    subject="VLG-ENF-001",
    data=EventData(
        category=Category.VIOLATION,
        gost_code="C12",
        scene_version=1,
        track_id=2,
        object_class="car",
        confidence=0.92,
        frame_index=179,
        offset_s=7.45,
        track=[
            TrackPoint(frame_index=179, offset_s=7.45, bbox=BBox(x1=322, y1=118, x2=382, y2=163))
        ],
        params={"stop_line": "stop_nb", "grace_s": 0.3},
        measured={"red_for_s": 7.2, "object_class": "car"},
        evidence=[
            EvidenceRef(
                role=EvidenceRole.OVERVIEW,
                bucket="evidence",
                key="VLG-ENF-001/2026/11/20/ead4a970-59f2-5228-a2bb-17dde1e5bc93/overview.jpg",
                sha256=_SHA,
                size=48506,
                content_type="image/jpeg",
                frame_index=179,
            )
        ],
        detector=DetectorInfo(
            model_name="yolo11n_int8.tflite",
            model_sha256=_SHA,
            software_version="0.1.0",
            worker_id="detector-1",
        ),
        source_uri="rtsp://***@10.41.5.12:554/live/main",
    ),
).model_dump(mode="json")
_EVENT_SUMMARY_EXAMPLE = {
    "id": _EVENT_EXAMPLE["id"],
    "camera_id": "VLG-ENF-001",
    "type": "red_light",
    "category": "violation",
    "gost_code": "C12",
    "time": _EVENT_EXAMPLE["time"],
    "scene_version": 1,
    "confidence": 0.92,
}


class EvidenceLink(BaseModel):
    role: str
    content_type: str
    sha256: str
    size: int
    url: str | None = Field(
        None, description="Short-lived presigned GET; only for roles allowed to see evidence."
    )


class EventSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT_SUMMARY_EXAMPLE]})

    id: str
    camera_id: str
    type: str
    category: str
    gost_code: str | None
    time: datetime
    scene_version: int
    confidence: float


class EventDetail(EventSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EVENT_SUMMARY_EXAMPLE,
                    "event": _EVENT_EXAMPLE,
                    "evidence": [
                        {
                            "role": "overview",
                            "content_type": "image/jpeg",
                            "sha256": _SHA,
                            "size": 48506,
                            "url": "http://127.0.0.1:18333/evidence/VLG-ENF-001/...overview.jpg"
                            "?X-Amz-Expires=300&X-Amz-Signature=...",
                        }
                    ],
                }
            ]
        }
    )

    event: DetectionEvent
    evidence: list[EvidenceLink]


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "checks": {"database": "ok"}}]}
    )

    status: str
    checks: dict[str, Any] = Field(default_factory=dict)


_SCENE_EXAMPLE: dict[str, Any] = {
    "frame_width": 1280,
    "frame_height": 720,
    "zones": [
        {
            "id": "crosswalk-1",
            "kind": "crosswalk",
            "polygon": [[300, 520], [980, 520], [1000, 600], [280, 600]],
        }
    ],
    "lines": [
        {"id": "stop-1", "kind": "stop_line", "points": [[260, 620], [1020, 620]]},
    ],
    "signals": [{"id": "tl-1", "bbox": [600, 40, 640, 140], "controls": ["stop-1"]}],
    "calibration": {
        "image_points": [[300, 700], [980, 700], [900, 400], [380, 400]],
        "ground_points": [[0, 0], [10.5, 0], [10.5, 40], [0, 40]],
    },
}


class SceneSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"version": 2, "created_at": "2026-05-01T09:30:00Z", "created_by": "ops"}]
        }
    )

    version: int
    created_at: UtcDatetime
    created_by: str | None
    reference_frame: str | None = Field(
        None, description="Id (sha256) of the frame the scene was drawn on, if one was kept."
    )


class SceneOut(SceneSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "camera_id": "VLG-ENF-001",
                    "version": 2,
                    "created_at": "2026-05-01T09:30:00Z",
                    "created_by": "ops",
                    "config": _SCENE_EXAMPLE,
                }
            ]
        }
    )

    camera_id: str
    config: SceneConfig


SCENE_BODY_EXAMPLES: dict[str, Any] = {
    "stop line, crosswalk, signal, calibration": {"value": _SCENE_EXAMPLE},
}


class HeartbeatIn(Heartbeat):
    """A detector heartbeat, bounded so that every accepted value can be stored."""

    model_config = ConfigDict(
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "camera_id": "VLG-ENF-001",
                    "worker_id": "detector-1",
                    "time": "2026-05-01T09:30:00Z",
                    "fps_in": 25.0,
                    "fps_out": 12.5,
                    "inference_ms": 38.2,
                    "queue_depth": 0,
                    "last_frame_time": "2026-05-01T09:29:59.960Z",
                    "errors": 0,
                }
            ]
        },
    )

    camera_id: str = Field(max_length=32)
    worker_id: Text(100, 1)
    queue_depth: int = Field(0, ge=0, le=INT32_MAX)
    errors: int = Field(0, ge=0, le=INT32_MAX, description="Errors since the previous heartbeat.")
    last_error: Text(500) | None = None


class CameraHealthOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "camera_id": "VLG-ENF-001",
                    "state": "degraded",
                    "reasons": ["analysed 0.4 fps, below 1.0"],
                    "worker_id": "detector-1",
                    "time": "2026-05-01T09:30:00Z",
                    "received_at": "2026-05-01T09:30:00.120Z",
                    "fps_in": 25.0,
                    "fps_out": 0.4,
                    "inference_ms": 910.0,
                    "queue_depth": 48,
                    "last_frame_time": "2026-05-01T09:29:59.960Z",
                    "errors": 0,
                    "last_error": None,
                }
            ]
        }
    )

    camera_id: str
    state: HealthState
    reasons: list[str] = Field(description="Why the state is not online; empty when it is.")
    worker_id: str | None = None
    time: UtcDatetime | None = Field(None, description="When the worker sent its last heartbeat.")
    received_at: UtcDatetime | None = None
    fps_in: float | None = None
    fps_out: float | None = None
    inference_ms: float | None = None
    queue_depth: int | None = None
    last_frame_time: UtcDatetime | None = None
    errors: int | None = None
    last_error: str | None = Field(None, description="Credentials in it are redacted.")


class AuditOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "at": "2026-05-01T09:30:00Z",
                    "actor": "ops-desk",
                    "role": "operator",
                    "action": "update",
                    "entity": "camera",
                    "entity_id": "VLG-CAM-007",
                    "before": {"status": "active"},
                    "after": {"status": "maintenance"},
                }
            ]
        },
    )

    id: int
    at: UtcDatetime
    actor: str
    role: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ImportProblem(BaseModel):
    line: int = Field(description="1-based line of the bad row (CSV) or feature (GeoJSON).")
    field: str | None = Field(None, description="The offending column or property, if one.")
    message: str


class ImportFailed(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "import rejected: 2 bad rows, nothing was changed",
                    "errors": [
                        {"line": 3, "field": "lat", "message": "Input should be ≤ 90"},
                        {"line": 7, "field": "id", "message": "duplicate id VLG-CAM-101"},
                    ],
                }
            ]
        }
    )

    detail: str
    errors: list[ImportProblem]


class ImportReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"created": 12, "updated": 98, "unchanged": 0}]}
    )

    created: int
    updated: int
    unchanged: int


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float] = Field(description="[lon, lat], WGS 84.")


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "id": "VLG-ENF-004",
                            "geometry": {"type": "Point", "coordinates": [44.51, 48.71]},
                            "properties": {
                                "id": "VLG-ENF-004",
                                "kind": "enforcement_unit",
                                "name": "ул. Рабоче-Крестьянская",
                                "status": "active",
                                "health": "offline",
                                "verification_lapsed": True,
                            },
                        }
                    ],
                }
            ]
        }
    )

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


# --- scene editor (issue 10): validation per geometry, diffs between versions ---------------


class GeometryError(BaseModel):
    geometry: str | None = Field(description="e.g. lines[stop1]; null for the whole scene.")
    kind: Literal["zone", "line", "signal", "calibration", "scene"]
    id: str | None
    loc: list[str | int]
    msg: str


class SceneValidation(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "valid": False,
                    "errors": [
                        {
                            "geometry": "lines[stop1]",
                            "kind": "line",
                            "id": "stop1",
                            "loc": [],
                            "msg": "lines[stop1]: point (700.0, 240.0) lies outside the "
                            "640x352 frame",
                        }
                    ],
                }
            ]
        }
    )

    valid: bool
    errors: list[GeometryError]


class GeometryChange(BaseModel):
    geometry: str
    kind: Literal["zone", "line", "signal"]
    id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class FrameSizeChange(BaseModel):
    before: tuple[int, int]
    after: tuple[int, int]


class SceneDiff(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": 1,
                    "to": 2,
                    "added": [
                        {
                            "geometry": "zones[walk]",
                            "kind": "zone",
                            "id": "walk",
                            "after": {
                                "id": "walk",
                                "kind": "crosswalk",
                                "polygon": [[0, 250], [640, 250], [640, 300]],
                            },
                        }
                    ],
                    "removed": [],
                    "changed": [],
                    "frame_size": {"before": [640, 352], "after": [640, 352]},
                    "calibration_changed": False,
                }
            ]
        },
    )

    from_version: int = Field(alias="from")
    to_version: int = Field(alias="to")
    added: list[GeometryChange]
    removed: list[GeometryChange]
    changed: list[GeometryChange]
    frame_size: FrameSizeChange
    calibration_changed: bool


_PEM_EXAMPLE = (
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAa5k77qMJL4xM8/p5WJIPMw8htZmCCDpqR0os+yDMR8s=\n"
    "-----END PUBLIC KEY-----\n"
)


class DetectorKeyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"public_key_pem": _PEM_EXAMPLE, "scope": "live"}]},
    )

    public_key_pem: str = Field(max_length=4096, description="Ed25519 public key, PEM.")
    scope: KeyScope = Field(
        KeyScope.LIVE,
        description="live: events must fall in a lease the worker held; replay: recordings "
        "replayed as any camera (enrol only for the hosts that replay).",
    )


class DetectorKeyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key_id": "da8faefb7aad2e7613f53a8d8cf43121239c06bf97d30079ab35a385946dfaf5",
                    "worker_id": "dozor-detector-worker-0",
                    "scope": "live",
                    "public_key_pem": _PEM_EXAMPLE,
                    "created_at": "2026-05-01T09:30:00Z",
                    "created_by": "ops-admin",
                    "revoked_at": None,
                    "revoked_by": None,
                }
            ]
        }
    )

    key_id: str
    worker_id: str
    scope: KeyScope
    public_key_pem: str
    created_at: UtcDatetime
    created_by: str | None
    revoked_at: UtcDatetime | None
    revoked_by: str | None

    @classmethod
    def of(cls, row: Any) -> DetectorKeyOut:
        return cls(
            key_id=row.key_id,
            worker_id=row.worker_id,
            scope=row.scope,
            public_key_pem=row.public_key,
            created_at=row.created_at,
            created_by=row.created_by,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
        )
