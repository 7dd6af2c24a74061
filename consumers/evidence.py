"""The evidence consumer: verify every referenced object, sign a manifest, index once.

Order matters for "nothing lost, nothing trusted blindly": the objects are re-read and
hashed first, then the signed manifest is written (one object, retained under object
lock), and only then is the event indexed; the offset is committed after all three. A
redelivered event finds its manifest already there, checks it, and is indexed at most once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from kafka.consumer.fetcher import ConsumerRecord
from minio.error import S3Error
from pydantic import ValidationError

from consumers.loop import PoisonMessage
from contract.events import DetectionEvent
from contract.manifest import (
    Artifact,
    CameraInfo,
    CertificateInfo,
    Manifest,
    Signature,
    SignedManifest,
    canonical_json,
    manifest_key,
)
from dozor import __version__
from dozor.evidence_verify import parse_signed
from dozor.settings import Settings
from dozor.signing import Signer, load_signer
from dozor.storage import MISSING_CODES, ObjectStore, sha256_hex
from registry.db import session_scope
from registry.event_index import index_event
from registry.models import Camera

log = logging.getLogger(__name__)


def event_sha256(event: DetectionEvent) -> str:
    return sha256_hex(canonical_json(event.model_dump(mode="json")))


def time_source(event: DetectionEvent) -> str:
    # Replays date frames from the file's modification time; live workers from their own
    # (NTP-disciplined) clock when the frame arrived.
    if event.data.source_uri.startswith("file:"):
        return "recording file modification time + frame offset"
    return "detector worker clock (UTC) + frame offset"


def certificate_info(camera: Camera, event: DetectionEvent) -> CertificateInfo:
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
    event: DetectionEvent, camera: Camera, artifacts: list[Artifact], signed_at: datetime
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


class EvidenceConsumer:
    group_id = "dozor-evidence"

    def __init__(
        self, settings: Settings, store: ObjectStore | None = None, signer: Signer | None = None
    ) -> None:
        self.settings = settings
        self.store = store or ObjectStore(settings)
        self.signer = signer or load_signer(settings)

    def verify(self, event: DetectionEvent) -> list[Artifact]:
        """Re-read and hash every referenced object; the versions that matched."""
        artifacts = []
        for ref in event.data.evidence:
            try:
                fetched = self.store.fetch(ref.bucket, ref.key)
            except S3Error as exc:
                if exc.code in MISSING_CODES:
                    raise PoisonMessage(
                        f"event {event.id}: evidence {ref.bucket}/{ref.key} is missing"
                    ) from exc
                raise
            digest = sha256_hex(fetched.data)
            if digest != ref.sha256:
                raise PoisonMessage(
                    f"event {event.id}: evidence {ref.bucket}/{ref.key} has SHA-256 {digest}, "
                    f"the event says {ref.sha256}"
                )
            artifacts.append(Artifact(version_id=fetched.version_id, **ref.model_dump()))
        return artifacts

    def _check_existing(self, event: DetectionEvent, key: str) -> None:
        """A manifest already stored (a redelivery) must be ours and for this very event."""
        signed, problems = parse_signed(
            self.store.get(self.store.bucket, key), self.signer.verifier
        )
        if signed is not None and signed.manifest.event_sha256 != event_sha256(event):
            problems.append("it was signed for a different event body")
        if problems:
            raise PoisonMessage(f"event {event.id}: manifest {key} exists but {problems[0]}")

    def handle(self, record: ConsumerRecord) -> str:
        try:
            event = DetectionEvent.model_validate_json(record.value)
        except ValidationError as exc:
            raise PoisonMessage(f"not a valid detection event: {exc.errors()[:3]}") from exc
        key = manifest_key(event.subject, event.id)
        if self.store.exists(self.store.bucket, key):
            self._check_existing(event, key)
        else:
            artifacts = self.verify(event)
            with session_scope(self.settings.db_url) as session:
                camera = session.get(Camera, event.subject)
                if camera is None:
                    raise PoisonMessage(f"event {event.id}: unknown camera {event.subject}")
                manifest = build_manifest(event, camera, artifacts, datetime.now(UTC))
            self.store.put(key, sign_manifest(manifest, self.signer), "application/json")
        with session_scope(self.settings.db_url) as session:
            fresh = index_event(session, event)
        outcome = "indexed" if fresh else "duplicate"
        log.info(outcome, extra={"camera_id": event.subject, "event_id": event.id})
        return outcome
