"""A signed event (topic ``dozor.events.signed``, key = camera id).

The evidence consumer publishes one after it re-hashed the event's evidence, stored the
signed manifest and indexed the event, so whatever reads this topic (the enforcement
consumer, anything downstream) never waits or polls for a signature: the reference names
the exact manifest version to check.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contract.events import DetectionEvent

SIGNED_EVENT_SCHEMA_VERSION: Final = "1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestRef(_Strict):
    bucket: str
    key: str
    version_id: str | None = Field(description="The S3 version of the stored signed manifest.")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the stored envelope's bytes."
    )
    key_id: str = Field(description="Fingerprint of the key that signed the manifest.")


class SignedEvent(_Strict):
    schema_version: Literal["1"] = SIGNED_EVENT_SCHEMA_VERSION
    event: DetectionEvent
    manifest: ManifestRef
    published_at: AwareDatetime = Field(description="UTC, the evidence consumer's clock.")
