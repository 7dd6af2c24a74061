"""The evidence consumer: verify every referenced object, then index the event once."""

from __future__ import annotations

import logging

from kafka.consumer.fetcher import ConsumerRecord
from minio.error import S3Error
from pydantic import ValidationError

from consumers.loop import PoisonMessage
from contract.events import DetectionEvent
from dozor.settings import Settings
from dozor.storage import ObjectStore, sha256_hex
from registry.db import session_scope
from registry.event_index import index_event

log = logging.getLogger(__name__)

_MISSING = frozenset({"NoSuchKey", "NoSuchBucket", "NoSuchVersion"})


class EvidenceConsumer:
    group_id = "dozor-evidence"

    def __init__(self, settings: Settings, store: ObjectStore | None = None) -> None:
        self.settings = settings
        self.store = store or ObjectStore(settings)

    def verify(self, event: DetectionEvent) -> None:
        for ref in event.data.evidence:
            try:
                data = self.store.get(ref.bucket, ref.key)
            except S3Error as exc:
                if exc.code in _MISSING:
                    raise PoisonMessage(
                        f"event {event.id}: evidence {ref.bucket}/{ref.key} is missing"
                    ) from exc
                raise
            digest = sha256_hex(data)
            if digest != ref.sha256:
                raise PoisonMessage(
                    f"event {event.id}: evidence {ref.bucket}/{ref.key} has SHA-256 {digest}, "
                    f"the event says {ref.sha256}"
                )

    def handle(self, record: ConsumerRecord) -> str:
        try:
            event = DetectionEvent.model_validate_json(record.value)
        except ValidationError as exc:
            raise PoisonMessage(f"not a valid detection event: {exc.errors()[:3]}") from exc
        self.verify(event)
        with session_scope(self.settings.db_url) as session:
            fresh = index_event(session, event)
        outcome = "indexed" if fresh else "duplicate"
        log.info(outcome, extra={"camera_id": event.subject, "event_id": event.id})
        return outcome
