"""The evidence manifest: what an enforcement centre checks, and where it lives.

Written and signed by the evidence consumer as one object, a signed envelope
``{"manifest": {...}, "signature": {...}}``: a single write is atomic (no manifest without
its signature) and the file stays readable JSON. The signature is Ed25519 over the
manifest's canonical JSON (:func:`canonical_json`: keys sorted, no whitespace, UTF-8), so a
verifier re-serialises the parsed ``manifest`` member and checks the signature against it.
"""

from __future__ import annotations

from datetime import date
from typing import Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
)

from contract.events import Category, DetectorInfo, EventType, EvidenceRef
from contract.events import canonical_json as canonical_json

MANIFEST_SCHEMA_VERSION: Final = "1"


def manifest_key(camera_id: str, event_id: str) -> str:
    """Object key of an event's signed manifest in the evidence bucket."""
    return f"manifests/{camera_id}/{event_id}.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Artifact(EvidenceRef):
    """An event's evidence reference, pinned to the S3 version that was hashed and signed."""

    # Always present in a manifest, null where the store keeps no versions.
    version_id: str | None = Field(description="The S3 version that was hashed and signed.")


class CameraInfo(_Strict):
    id: str
    kind: str
    name: str
    address: str | None
    lat: float
    lon: float


class CertificateInfo(_Strict):
    """The unit's metrological verification (поверка) as the registry held it."""

    certificate: str | None
    valid_until: date | None
    valid_at_event: bool = Field(description="A certificate existed and had not expired.")
    type_approval_number: str | None
    certified_codes: list[str]
    code_certified: bool | None = Field(
        description="The event's GOST code is among certified_codes; null without a code."
    )


class Manifest(_Strict):
    schema_version: Literal["1"] = MANIFEST_SCHEMA_VERSION
    event_id: str
    event_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the event's canonical JSON."
    )
    type: EventType
    category: Category
    gost_code: str | None
    params: dict[str, float | str]
    measured: dict[str, float | str]
    camera: CameraInfo
    event_time: AwareDatetime = Field(description="UTC.")
    time_source: str = Field(description="Where the event time came from.")
    signed_at: AwareDatetime = Field(description="UTC, the signing consumer's clock.")
    scene_version: int = Field(ge=1)
    detector: DetectorInfo
    signer_software_version: str
    source_uri: str
    certificate: CertificateInfo
    artifacts: list[Artifact]


class Signature(_Strict):
    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str = Field(description="SHA-256 of the raw public key, hex.")
    value: str = Field(description="Base64 signature over canonical_json(manifest).")


class SignedManifest(_Strict):
    manifest: Manifest
    signature: Signature
