"""API request and response models (the wire shape, apart from the database rows)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from contract.events import DetectionEvent

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class CameraOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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


class EvidenceLink(BaseModel):
    role: str
    content_type: str
    sha256: str
    size: int
    url: str | None = Field(
        None, description="Short-lived presigned GET; only for roles allowed to see evidence."
    )


class EventSummary(BaseModel):
    id: str
    camera_id: str
    type: str
    category: str
    gost_code: str | None
    time: datetime
    scene_version: int
    confidence: float


class EventDetail(EventSummary):
    event: DetectionEvent
    evidence: list[EvidenceLink]


class Health(BaseModel):
    status: str
    checks: dict[str, Any] = Field(default_factory=dict)
