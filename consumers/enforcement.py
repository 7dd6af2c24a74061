"""The enforcement consumer: one case per violation, built once, published, delivered once.

A case is built from what the evidence consumer signed, never from the raw event alone: it
waits until the event is indexed with its signed manifest, re-verifies the manifest's
signature and every object at its signed version (dozor.evidence_verify), and takes the
camera and its certificates from the manifest, so a case and its proof cannot disagree.

A case is enforceable only when it comes from an enforcement unit whose verification was
valid on the day of the violation and which is certified for the event's GOST code, and
its evidence verified. Any other violation is still recorded, and published to
``enforcement.cases`` with ``enforceable: false`` and the reason, so the centre can see what
was not sent to it and why, but it is never POSTed to the enforcement endpoint.

The cases table makes each step happen once in effect: the case is stored before it is
published (a replay republishes the stored payload, byte for byte), and delivery is
recorded only after the endpoint acknowledged it; a crash in between re-POSTs the same
Idempotency-Key, which the endpoint answers with 409 or its earlier 2xx.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from kafka import KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from consumers.delivery import CaseDelivery, DeliveryRefused, DeliveryUnavailable
from consumers.evidence import event_sha256
from consumers.loop import PoisonMessage
from contract import topics
from contract.cases import (
    Case,
    CaseEvidence,
    CaseLocation,
    CaseManifest,
    CaseUnit,
    case_id_for,
)
from contract.events import Category, DetectionEvent
from contract.manifest import Artifact, Manifest, SignedManifest, manifest_key
from dozor import bus
from dozor.evidence_verify import check_artifact, verify_event
from dozor.settings import Settings
from dozor.signing import Verifier, load_verifier
from dozor.storage import ObjectStore, sha256_hex
from registry.db import session_scope
from registry.models import Camera, CaseRecord, EventRecord

log = logging.getLogger(__name__)

ENFORCEMENT_UNIT = "enforcement_unit"


class NotSignedYet(RuntimeError):
    """The evidence consumer has not signed and indexed the event yet: retry later."""


def not_enforceable_reason(manifest: Manifest) -> str | None:
    """Why a signed violation cannot be enforced, or None when it can."""
    cam, cert, code = manifest.camera, manifest.certificate, manifest.gost_code
    if cam.kind != ENFORCEMENT_UNIT:
        return f"camera {cam.id} is a {cam.kind}, not a certified enforcement unit"
    if not cert.certificate or cert.valid_until is None:
        return f"unit {cam.id} has no verification certificate on record"
    if not cert.valid_at_event:
        return (
            f"unit {cam.id}'s verification expired on {cert.valid_until}, "
            f"before the violation on {manifest.event_time.date()}"
        )
    if not code:
        return "the violation has no GOST code"
    if not cert.code_certified:
        return (
            f"unit {cam.id} is not certified for {code} "
            f"(certified: {', '.join(cert.certified_codes)})"
        )
    return None


class EnforcementConsumer:
    group_id = "dozor-enforcement"

    def __init__(
        self,
        settings: Settings,
        *,
        store: ObjectStore | None = None,
        verifier: Verifier | None = None,
        producer: KafkaProducer | None = None,
        delivery: CaseDelivery | None = None,
        group_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or ObjectStore(settings)
        self.verifier = verifier or load_verifier(settings)
        # Links inside a case must outlive a slow downstream; GET /cases/{id} renews them.
        self.url_ttl = timedelta(seconds=settings.case_url_ttl_s)
        self._producer = producer
        if delivery is None and settings.enforcement_endpoint:
            delivery = CaseDelivery(settings)
        self.delivery = delivery
        if group_id:
            self.group_id = group_id

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = bus.producer(self.settings)
        return self._producer

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(10)
        if self.delivery is not None:
            self.delivery.close()

    # -- building ------------------------------------------------------------------------

    def _presign(self, bucket: str, key: str, version_id: str | None) -> str:
        return self.store.client.presigned_get_object(
            bucket, key, expires=self.url_ttl, version_id=version_id
        )

    def _never_signed(self, event: DetectionEvent) -> str | None:
        """Why the evidence consumer will dead-letter the event instead of signing it."""
        with session_scope(self.settings.db_url) as session:
            if session.get(Camera, event.subject) is None:
                return f"event {event.id}: unknown camera {event.subject}"
        for ref in event.data.evidence:
            problems = check_artifact(self.store, Artifact(version_id=None, **ref.model_dump()))
            if problems:
                return f"event {event.id}: {problems[0]}"
        return None

    def _signed(self, event: DetectionEvent) -> tuple[SignedManifest, CaseManifest, list[str]]:
        """The event's signed manifest, a reference to it, and what failed verification."""
        with session_scope(self.settings.db_url) as session:
            indexed = session.get(EventRecord, event.id) is not None
            report = verify_event(session, self.store, self.verifier, event.id) if indexed else None
        if report is None:
            # Waiting would never end for an event the evidence consumer dead-letters.
            reason = self._never_signed(event)
            if reason:
                raise PoisonMessage(reason)
            raise NotSignedYet(f"event {event.id} is not signed and indexed yet")
        bucket, key = self.store.bucket, manifest_key(event.subject, event.id)
        fetched = self.store.fetch(bucket, key)
        try:
            signed = SignedManifest.model_validate_json(fetched.data)
        except ValidationError as exc:
            raise PoisonMessage(f"event {event.id}: manifest {key} is unreadable") from exc
        if signed.manifest.event_sha256 != event_sha256(event):
            raise PoisonMessage(f"event {event.id}: differs from the event its manifest signed")
        ref = CaseManifest(
            key=key,
            version_id=fetched.version_id,
            sha256=sha256_hex(fetched.data),
            url=self._presign(bucket, key, fetched.version_id),
            url_expires_at=datetime.now(UTC) + self.url_ttl,
            key_id=signed.signature.key_id,
        )
        return signed, ref, report.problems

    def build(self, event: DetectionEvent) -> Case:
        signed, manifest_ref, problems = self._signed(event)
        m = signed.manifest
        reason = not_enforceable_reason(m)
        if problems:
            reason = f"evidence failed verification: {problems[0]}"
        expires = manifest_ref.url_expires_at
        plate = m.measured.get("plate")
        return Case(
            case_id=case_id_for(event.id),
            event_id=event.id,
            built_at=datetime.now(UTC),
            location=CaseLocation(
                camera_id=m.camera.id,
                name=m.camera.name,
                address=m.camera.address,
                lat=m.camera.lat,
                lon=m.camera.lon,
            ),
            unit=CaseUnit(
                kind=m.camera.kind,
                type_approval_number=m.certificate.type_approval_number,
                verification_certificate=m.certificate.certificate,
                verification_valid_until=m.certificate.valid_until,
                certified_codes=m.certificate.certified_codes,
            ),
            gost_code=m.gost_code,
            violation_type=m.type,
            time=m.event_time,
            confidence=event.data.confidence,
            measured=m.measured,
            plate=str(plate) if plate is not None else None,
            evidence=[
                CaseEvidence(
                    role=a.role,
                    content_type=a.content_type,
                    sha256=a.sha256,
                    size=a.size,
                    bucket=a.bucket,
                    key=a.key,
                    version_id=a.version_id,
                    url=self._presign(a.bucket, a.key, a.version_id),
                    url_expires_at=expires,
                )
                for a in m.artifacts
            ],
            manifest=manifest_ref,
            detector=m.detector,
            enforceable=reason is None,
            reason=reason,
        )

    # -- the steps, each recorded --------------------------------------------------------

    def _stored(self, event: DetectionEvent) -> CaseRecord:
        """The case row for the event, building and storing the case the first time."""
        url = self.settings.db_url
        with session_scope(url) as session:
            row = session.get(CaseRecord, case_id_for(event.id))
        if row is not None:
            return row
        case = self.build(event)
        with session_scope(url) as session:
            record = CaseRecord(
                id=case.case_id,
                event_id=event.id,
                camera_id=event.subject,
                enforceable=case.enforceable,
                reason=case.reason,
                payload=case.model_dump(mode="json"),
                attempts=0,
            )
            try:
                with session.begin_nested():
                    session.add(record)
            except IntegrityError:
                # A takeover after a rebalance stored it first: theirs is the case.
                return session.get(CaseRecord, case.case_id)  # type: ignore[return-value]
        return record

    def _publish(self, row: CaseRecord) -> None:
        case_json = Case.model_validate(row.payload).model_dump_json().encode()
        self.producer.send(
            topics.ENFORCEMENT_CASES,
            key=topics.key_for(row.camera_id),
            value=case_json,
            headers=[
                ("case_id", row.id.encode()),
                ("enforceable", b"true" if row.enforceable else b"false"),
                ("schema_version", Case.model_fields["schema_version"].default.encode()),
            ],
        ).get(timeout=30)
        self._update(row.id, published_at=datetime.now(UTC))

    def _update(self, case_id: str, add_attempts: int = 0, **values: object) -> None:
        with session_scope(self.settings.db_url) as session:
            row = session.get(CaseRecord, case_id)
            assert row is not None
            row.attempts += add_attempts
            for name, value in values.items():
                setattr(row, name, value)

    def _deliver(self, row: CaseRecord) -> None:
        assert self.delivery is not None
        case = Case.model_validate(row.payload)
        try:
            done = self.delivery.deliver(case)
        except DeliveryUnavailable as exc:
            self._update(row.id, exc.attempts, last_error=str(exc)[:500])
            raise
        except DeliveryRefused as exc:
            self._update(row.id, 1, last_error=str(exc)[:500])
            raise
        self._update(row.id, done.attempts, delivered_at=datetime.now(UTC), last_error=None)

    def handle(self, record: ConsumerRecord) -> str:
        try:
            event = DetectionEvent.model_validate_json(record.value)
        except ValidationError as exc:
            raise PoisonMessage(f"not a valid detection event: {exc.errors()[:3]}") from exc
        if event.data.category is not Category.VIOLATION:
            return "not_violation"
        ctx = {"camera_id": event.subject, "event_id": event.id}
        row = self._stored(event)
        outcome = "duplicate"
        if row.published_at is None:
            self._publish(row)
            outcome = "published"
        if not row.enforceable:
            if outcome == "published":
                log.info("not enforceable: %s", row.reason, extra=ctx)
                outcome = "not_enforceable"
            return outcome
        if self.delivery is not None and row.delivered_at is None:
            self._deliver(row)
            outcome = "delivered"
        log.info("case %s %s", row.id, outcome, extra=ctx)
        return outcome
