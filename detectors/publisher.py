"""The Kafka producer of detection events: keyed by camera, acknowledged before moving on."""

from __future__ import annotations

import logging

from kafka import KafkaProducer

from contract import topics
from contract.events import DetectionEvent

log = logging.getLogger(__name__)


class EventPublisher:
    def __init__(self, producer: KafkaProducer, timeout_s: float = 30.0) -> None:
        self.producer = producer
        self.timeout_s = timeout_s

    def publish(self, event: DetectionEvent) -> None:
        """Send and wait for acks=all: the caller learns of a failure before it moves on."""
        meta = self.producer.send(
            topics.EVENTS,
            key=topics.key_for(event.subject),
            value=event.model_dump_json().encode(),
            headers=[
                ("ce_type", event.type.value.encode()),
                ("ce_id", event.id.encode()),
                ("schema_version", event.schema_version.encode()),
            ],
        ).get(timeout=self.timeout_s)
        log.info(
            "published %s",
            event.type.value,
            extra={
                "camera_id": event.subject,
                "event_id": event.id,
                "partition": meta.partition,
                "offset": meta.offset,
            },
        )

    def close(self) -> None:
        self.producer.flush(self.timeout_s)
        self.producer.close(self.timeout_s)
