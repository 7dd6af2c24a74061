"""Enforcement cases: what Dozor hands to a downstream enforcement system.

One case per violation event, built once by the enforcement consumer. A case carries what
a centre needs to decide on a fine without calling back: where and what (camera, unit
certificates, GOST code, measured values, plate), and how to get and check the proof
(evidence objects with SHA-256 and presigned URLs, the signed manifest). Documented for
downstream systems in docs/cases.md; the JSON Schema is contract/schemas/case.v1.json.

Versioning: fields may be added within a version (readers must ignore unknown fields);
removing, renaming or changing the meaning of a field makes a new version.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from contract.events import DetectorInfo, EventType, EvidenceRole

CASE_SCHEMA_VERSION: Final = "1"

# Same event -> same case id, so a rebuilt or redelivered case is recognisably the same one.
CASE_ID_NAMESPACE = uuid.UUID("0c8f3a52-9a1d-4e7b-b4a6-5d2e8c1f7a93")


def case_id_for(event_id: str) -> str:
    return str(uuid.uuid5(CASE_ID_NAMESPACE, event_id))


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseLocation(_Frozen):
    camera_id: str
    name: str
    address: str | None = None
    lat: float
    lon: float


class CaseUnit(_Frozen):
    """The unit's certificates as the signed manifest records them for this event."""

    kind: str = Field(description="enforcement_unit or street_camera.")
    type_approval_number: str | None = None
    verification_certificate: str | None = None
    verification_valid_until: date | None = None
    certified_codes: list[str] = Field(default_factory=list)


class CaseEvidence(_Frozen):
    role: EvidenceRole
    content_type: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    bucket: str
    key: str
    version_id: str | None = Field(None, description="The S3 version that was signed.")
    url: str = Field(description="Presigned GET of that version; GET /cases/{id} renews it.")
    url_expires_at: AwareDatetime


class CaseManifest(_Frozen):
    """The evidence manifest signed by Dozor (Ed25519); verify it with the published key."""

    key: str
    version_id: str | None = None
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the stored object.")
    url: str
    url_expires_at: AwareDatetime
    signature_algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str = Field(description="SHA-256 of the raw public key that signed it, hex.")
    public_key_path: str = Field(
        "/evidence/public-key", description="Registry API path of the verifying public key."
    )


_SHA = "9f2c1e0d5b7a4c3e8f6d2a1b0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
_EVENT = "ead4a970-59f2-5228-a2bb-17dde1e5bc93"
_CASE_EXAMPLE: dict[str, Any] = {
    "schema_version": "1",
    "case_id": case_id_for(_EVENT),
    "event_id": _EVENT,
    "built_at": "2026-11-20T16:42:10Z",
    "location": {
        "camera_id": "VLG-ENF-001",
        "name": "пр. Ленина — ул. Рабоче-Крестьянская",
        "address": "г. Волгоград, проспект Ленина / улица Рабоче-Крестьянская",
        "lat": 48.7071,
        "lon": 44.5169,
    },
    "unit": {
        "kind": "enforcement_unit",
        "type_approval_number": "51578-12",
        "verification_certificate": "С-ДЦФ/12-10-2025/113146488",
        "verification_valid_until": "2027-10-11",
        "certified_codes": ["C1", "C9", "C11", "C12", "C13"],
    },
    "gost_code": "C12",
    "violation_type": "red_light",
    "time": "2026-11-20T16:42:07Z",
    "confidence": 0.92,
    "measured": {"red_for_s": 7.2, "plate": "Х590НР 178"},
    "plate": "Х590НР 178",
    "evidence": [
        {
            "role": "overview",
            "content_type": "image/jpeg",
            "sha256": _SHA,
            "size": 48506,
            "bucket": "evidence",
            "key": f"VLG-ENF-001/2026/11/20/{_EVENT}/overview.jpg",
            "version_id": "0000000000001",
            "url": "https://s3.example/evidence/...overview.jpg?X-Amz-Signature=...",
            "url_expires_at": "2026-11-27T16:42:10Z",
        }
    ],
    "manifest": {
        "key": f"manifests/VLG-ENF-001/{_EVENT}.json",
        "version_id": "0000000000002",
        "sha256": _SHA,
        "url": "https://s3.example/evidence/manifests/...json?X-Amz-Signature=...",
        "url_expires_at": "2026-11-27T16:42:10Z",
        "signature_algorithm": "Ed25519",
        "key_id": "4352dea2051e8a5c0b1f6e7d9c3a2b4f5e6d7c8b9a0f1e2d3c4b5a6978695a4b",
        "public_key_path": "/evidence/public-key",
    },
    "detector": {
        "model_name": "yolo11n_int8.tflite",
        "model_sha256": _SHA,
        "software_version": "0.1.0",
        "worker_id": "detector-1",
    },
    "enforceable": True,
    "reason": None,
}


class Case(_Frozen):
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [_CASE_EXAMPLE]}
    )

    schema_version: Literal["1"] = CASE_SCHEMA_VERSION
    case_id: str = Field(description="uuid5 of the event id; also the Idempotency-Key.")
    event_id: str
    built_at: AwareDatetime
    location: CaseLocation
    unit: CaseUnit
    gost_code: str | None = Field(None, description="GOST R 57144-2016 event code.")
    violation_type: EventType
    time: AwareDatetime = Field(description="When the violation happened.")
    confidence: float = Field(ge=0, le=1)
    measured: dict[str, float | str] = Field(default_factory=dict)
    plate: str | None = Field(None, description="Plate as read, when the detector read one.")
    evidence: list[CaseEvidence]
    manifest: CaseManifest
    detector: DetectorInfo
    enforceable: bool
    reason: str | None = Field(None, description="Why the case is not enforceable.")

    @model_validator(mode="after")
    def _reason_iff_not_enforceable(self) -> Case:
        if self.enforceable == bool(self.reason):
            raise ValueError("a reason is required exactly when the case is not enforceable")
        if self.case_id != case_id_for(self.event_id):
            raise ValueError("case_id must be case_id_for(event_id)")
        return self
