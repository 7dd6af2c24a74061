"""The enforcement consumer: one case per violation, built once, published, delivered once.

A case is built from what the evidence consumer signed, never from the raw event alone: it
reads ``dozor.events.signed`` (each event with a reference to its stored signed manifest),
re-verifies the manifest's signature and every object at its signed version
(evidence.verify), and takes the camera and its certificates from the manifest, so a case
and its proof cannot disagree. Nothing waits or polls for a signature.

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

from kafka.consumer.fetcher import ConsumerRecord
from minio.error import S3Error
from pydantic import ValidationError

from consumers.boundary import CaseBook, CaseRow
from consumers.delivery import CaseDelivery, DeliveryRefused, DeliveryUnavailable
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
from contract.manifest import Manifest, SignedManifest
from contract.signed import ManifestRef, SignedEvent
from dozor import bus
from dozor.settings import Settings
from dozor.storage import MISSING_CODES, ObjectStore, sha256_hex
from evidence.manifest import event_sha256
from evidence.signing import Verifier, load_verifier
from evidence.verify import EventBody, verify_event

log = logging.getLogger(__name__)

ENFORCEMENT_UNIT = "enforcement_unit"


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
    topic_names = (topics.EVENTS_SIGNED,)

    def __init__(
        self,
        settings: Settings,
        *,
        cases: CaseBook,
        store: ObjectStore | None = None,
        verifier: Verifier | None = None,
        producer: bus.Producer | None = None,
        delivery: CaseDelivery | None = None,
        group_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.cases = cases
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
    def producer(self) -> bus.Producer:
        if self._producer is None:
            self._producer = bus.producer(self.settings)
        return self._producer

    def interrupt(self) -> None:
        """A stop request: end a delivery's backoff wait instead of sleeping it out."""
        if self.delivery is not None:
            self.delivery.interrupt()

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

    def _manifest(self, event: DetectionEvent, ref: ManifestRef) -> SignedManifest:
        """The signed manifest at the version the evidence consumer published."""
        try:
            data = self.store.get(ref.bucket, ref.key, ref.version_id)
        except S3Error as exc:
            if exc.code not in MISSING_CODES:
                raise
            raise PoisonMessage(f"event {event.id}: manifest {ref.key} is missing") from exc
        if sha256_hex(data) != ref.sha256:
            raise PoisonMessage(f"event {event.id}: manifest {ref.key} differs from the published")
        try:
            signed = SignedManifest.model_validate_json(data)
        except ValidationError as exc:
            raise PoisonMessage(f"event {event.id}: manifest {ref.key} is unreadable") from exc
        if signed.manifest.event_sha256 != event_sha256(event):
            raise PoisonMessage(f"event {event.id}: differs from the event its manifest signed")
        return signed

    def _signed(self, message: SignedEvent) -> tuple[SignedManifest, CaseManifest, list[str]]:
        """The event's signed manifest, a reference to it, and what failed verification."""
        event, ref = message.event, message.manifest
        signed = self._manifest(event, ref)
        report = verify_event(EventBody.of(event), self.store, self.verifier, event.id)
        case_ref = CaseManifest(
            key=ref.key,
            version_id=ref.version_id,
            sha256=ref.sha256,
            url=self._presign(ref.bucket, ref.key, ref.version_id),
            url_expires_at=datetime.now(UTC) + self.url_ttl,
            key_id=signed.signature.key_id,
        )
        return signed, case_ref, report.problems

    def build(self, message: SignedEvent) -> Case:
        event = message.event
        signed, manifest_ref, problems = self._signed(message)
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

    def _stored(self, message: SignedEvent) -> CaseRow:
        """The case row for the event, building and storing the case the first time."""
        event = message.event
        row = self.cases.get(case_id_for(event.id))
        if row is not None:
            return row
        return self.cases.add(self.build(message), event.id, event.subject)

    def _publish(self, row: CaseRow) -> None:
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
        )
        self._update(row.id, published_at=datetime.now(UTC))

    def _update(self, case_id: str, add_attempts: int = 0, **values: object) -> None:
        self.cases.update(case_id, add_attempts, **values)

    def _deliver(self, row: CaseRow) -> None:
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

    def redeliver(self) -> tuple[int, int]:
        """Send again every enforceable case not delivered yet (after the endpoint or its
        token was fixed); (delivered, still failing). Withdrawn violations are skipped."""
        if self.delivery is None:
            raise ValueError("DOZOR_ENFORCEMENT_ENDPOINT is not set")
        delivered = failed = 0
        for row in self.cases.undelivered():
            if self.cases.withdrawn(Case.model_validate(row.payload).event_id):
                continue
            try:
                self._deliver(row)
            except (DeliveryUnavailable, DeliveryRefused) as exc:
                log.warning("case %s still not delivered: %s", row.id, exc)
                failed += 1
            else:
                delivered += 1
        return delivered, failed

    def handle(self, record: ConsumerRecord) -> str:
        try:
            message = SignedEvent.model_validate_json(record.value)
        except ValidationError as exc:
            raise PoisonMessage(f"not a valid signed event: {exc.errors()[:3]}") from exc
        event = message.event
        if event.data.category is not Category.VIOLATION:
            return "not_violation"
        ctx = {"camera_id": event.subject, "event_id": event.id}
        # Operators' review (registry/review.py): a street camera's violation waits for
        # confirmation before it becomes a case; a withdrawn one is never delivered.
        waiting = self.cases.review_gate(event.id, event.subject, record.value.decode())
        if waiting is not None:
            log.info("violation %s until an operator confirms it", waiting, extra=ctx)
            return waiting
        row = self._stored(message)
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
            if self.cases.withdrawn(event.id):
                log.info("case %s withdrawn by an operator", row.id, extra=ctx)
                return "withdrawn"
            self._deliver(row)
            outcome = "delivered"
        log.info("case %s %s", row.id, outcome, extra=ctx)
        return outcome
