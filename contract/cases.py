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
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from contract.events import DetectorInfo, EventType, EvidenceRole

CASE_SCHEMA_VERSION = "1"

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


class Case(_Frozen):
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
