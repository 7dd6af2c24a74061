"""The evidence consumer: admit the producer, verify every object, sign a manifest, index
once, pass it on.

Only events a registered detector signed, from a camera it held, with evidence where that
camera's event writes it, are admitted (consumers/admission.py); the rest are dead-lettered.

Order matters for "nothing lost, nothing trusted blindly": the objects are re-read and
hashed first, then the signed manifest is written (one object, retained under object
lock), then the event is indexed, and only then is it published to ``dozor.events.signed``
with a reference to its manifest; the offset is committed after all four. A redelivered
event finds its manifest already there, checks it, is indexed at most once and published
again (readers dedupe by event id).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError

from consumers.admission import admit
from consumers.loop import PoisonMessage
from contract import topics
from contract.events import DetectionEvent
from contract.manifest import Artifact, manifest_key
from contract.signed import SIGNED_EVENT_SCHEMA_VERSION, ManifestRef, SignedEvent
from dozor import bus
from dozor.settings import Settings
from dozor.storage import ObjectStore, sha256_hex
from evidence.manifest import build_manifest, event_sha256, sign_manifest
from evidence.signing import Signer, load_signer
from evidence.verify import check_object, parse_signed
from registry.certification import certification_at
from registry.db import session_scope
from registry.event_index import hold_event_lock, index_event
from registry.models import Camera

log = logging.getLogger(__name__)


class EvidenceConsumer:
    group_id = "dozor-evidence"
    topic_names = (topics.EVENTS,)

    def __init__(
        self,
        settings: Settings,
        store: ObjectStore | None = None,
        signer: Signer | None = None,
        producer: bus.Producer | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or ObjectStore(settings)
        self.signer = signer or load_signer(settings)
        self._producer = producer

    @property
    def producer(self) -> bus.Producer:
        if self._producer is None:
            self._producer = bus.producer(self.settings)
        return self._producer

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(10)

    def verify(self, event: DetectionEvent) -> list[Artifact]:
        """Re-read and hash every referenced object, at the version the detector wrote where
        the event names one; the versions that matched."""
        artifacts = []
        for ref in event.data.evidence:
            version_id, problems = check_object(self.store, ref, ref.version_id)
            if problems:
                raise PoisonMessage(f"event {event.id}: {problems[0]}")
            artifacts.append(Artifact(**{**ref.model_dump(), "version_id": version_id}))
        return artifacts

    def _check_existing(self, event: DetectionEvent, key: str) -> ManifestRef:
        """A manifest already stored (a redelivery) must be ours and for this very event."""
        fetched = self.store.fetch(self.store.bucket, key)
        signed, problems = parse_signed(fetched.data, self.signer.verifier)
        if signed is not None and signed.manifest.event_sha256 != event_sha256(event):
            problems.append("it was signed for a different event body")
        if problems:
            raise PoisonMessage(f"event {event.id}: manifest {key} exists but {problems[0]}")
        return self._ref(key, fetched.version_id, sha256_hex(fetched.data))

    def _ref(self, key: str, version_id: str | None, sha256: str) -> ManifestRef:
        return ManifestRef(
            bucket=self.store.bucket,
            key=key,
            version_id=version_id,
            sha256=sha256,
            key_id=self.signer.key_id,
        )

    def _publish_signed(self, event: DetectionEvent, manifest: ManifestRef) -> None:
        """Hand the event on to dozor.events.signed; a redelivery publishes it again and
        readers dedupe by event id."""
        signed = SignedEvent(event=event, manifest=manifest, published_at=datetime.now(UTC))
        self.producer.send(
            topics.EVENTS_SIGNED,
            key=topics.key_for(event.subject),
            value=signed.model_dump_json().encode(),
            headers=[("schema_version", SIGNED_EVENT_SCHEMA_VERSION.encode())],
        )

    def handle(self, record: ConsumerRecord) -> str:
        try:
            event = DetectionEvent.model_validate_json(record.value)
        except ValidationError as exc:
            raise PoisonMessage(f"not a valid detection event: {exc.errors()[:3]}") from exc
        with session_scope(self.settings.db_url) as session:
            admit(session, event, self.store.bucket, self.settings.lease_clock_skew_s)
            # Until commit, no other consumer works on this id: one manifest per event.
            hold_event_lock(session, event.id)
            key = manifest_key(event.subject, event.id)
            if self.store.exists(self.store.bucket, key):
                ref = self._check_existing(event, key)
            else:
                artifacts = self.verify(event)
                camera = session.get(Camera, event.subject)
                if camera is None:
                    raise PoisonMessage(f"event {event.id}: unknown camera {event.subject}")
                # Judged by the certificate on record when it happened, not today's.
                as_of = certification_at(session, camera, event.time)
                manifest = build_manifest(event, as_of, artifacts, datetime.now(UTC))
                stored = self.store.put(
                    key, sign_manifest(manifest, self.signer), "application/json"
                )
                ref = self._ref(key, stored.version_id, stored.sha256)
            fresh = index_event(session, event)
        self._publish_signed(event, ref)
        outcome = "indexed" if fresh else "duplicate"
        log.info(outcome, extra={"camera_id": event.subject, "event_id": event.id})
        return outcome
