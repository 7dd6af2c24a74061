"""Building and signing an event's evidence manifest (the model lives in contract/manifest.py).

The evidence consumer is the only writer; the enforcement consumer and the verifiers use
:func:`event_sha256` to tie a manifest to the event body it was signed for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

from contract.events import DetectionEvent
from contract.manifest import (
    Artifact,
    CameraInfo,
    CertificateInfo,
    Manifest,
    Signature,
    SignedManifest,
    canonical_json,
)
from dozor import __version__
from dozor.storage import sha256_hex
from evidence.signing import Signer


class CameraRecord(Protocol):
    """What the manifest states about the unit, as the registry holds it."""

    id: str
    kind: str
    name: str
    address: str | None
    lat: float
    lon: float
    verification_certificate: str | None
    verification_valid_until: date | None
    type_approval_number: str | None
    certified_codes: list[str] | None


def event_sha256(event: DetectionEvent) -> str:
    return sha256_hex(canonical_json(event.model_dump(mode="json")))


def time_source(event: DetectionEvent) -> str:
    # Replays date frames from the recording's start as the operator stated it (`dozor replay
    # --started-at`, an archive manifest) or else the file's modification time; live workers
    # from their own (NTP-disciplined) clock when the frame arrived.
    if event.data.source_uri.startswith("file:"):
        return (
            "recording start (stated by the operator, else file modification time) + frame offset"
        )
    return "detector worker clock (UTC) + frame offset"


def certificate_info(camera: CameraRecord, event: DetectionEvent) -> CertificateInfo:
    valid_until = camera.verification_valid_until
    codes = list(camera.certified_codes or [])
    gost = event.data.gost_code
    return CertificateInfo(
        certificate=camera.verification_certificate,
        valid_until=valid_until,
        valid_at_event=bool(
            camera.verification_certificate
            and valid_until is not None
            and event.time.astimezone(UTC).date() <= valid_until
        ),
        type_approval_number=camera.type_approval_number,
        certified_codes=codes,
        code_certified=None if gost is None else gost in codes,
    )


def build_manifest(
    event: DetectionEvent, camera: CameraRecord, artifacts: list[Artifact], signed_at: datetime
) -> Manifest:
    return Manifest(
        event_id=event.id,
        event_sha256=event_sha256(event),
        type=event.type,
        category=event.data.category,
        gost_code=event.data.gost_code,
        params=event.data.params,
        measured=event.data.measured,
        camera=CameraInfo(
            id=camera.id,
            kind=camera.kind,
            name=camera.name,
            address=camera.address,
            lat=camera.lat,
            lon=camera.lon,
        ),
        event_time=event.time.astimezone(UTC),
        time_source=time_source(event),
        signed_at=signed_at.astimezone(UTC),
        scene_version=event.data.scene_version,
        detector=event.data.detector,
        signer_software_version=__version__,
        source_uri=event.data.source_uri,
        certificate=certificate_info(camera, event),
        artifacts=artifacts,
    )


def sign_manifest(manifest: Manifest, signer: Signer) -> bytes:
    """The stored envelope: indented for people, signed over the canonical form."""
    signature = signer.sign(canonical_json(manifest.model_dump(mode="json")))
    envelope = SignedManifest(
        manifest=manifest, signature=Signature(key_id=signer.key_id, value=signature)
    )
    return envelope.model_dump_json(indent=2).encode()
