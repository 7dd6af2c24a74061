"""The Kafka producer of detection events: signed by the worker, keyed by camera, acknowledged
before moving on."""

from __future__ import annotations

import logging

from contract import topics
from contract.events import DetectionEvent
from dozor.bus import Producer
from evidence.signing import Signer, sign_event

log = logging.getLogger(__name__)


class EventPublisher:
    def __init__(self, producer: Producer, signer: Signer, timeout_s: float = 30.0) -> None:
        self.producer = producer
        self.signer = signer
        self.timeout_s = timeout_s

    def publish(self, event: DetectionEvent) -> None:
        """Sign with the worker's own key (the evidence consumer refuses anything else), send
        and wait for acks=all: the caller learns of a failure before it moves on."""
        event = sign_event(event, self.signer)
        meta = self.producer.send(
            topics.EVENTS,
            key=topics.key_for(event.subject),
            value=event.model_dump_json().encode(),
            # CloudEvents Kafka binding, structured mode: the value is the whole event.
            headers=[("content-type", b"application/cloudevents+json")],
            timeout_s=self.timeout_s,
        )
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
        self.producer.close(self.timeout_s)
