"""Dozor's events are CloudEvents the official SDK (core JSON format, Kafka binding) accepts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract.events import DetectionEvent, EventType, category_of, wire_type
from detectors.publisher import EventPublisher
from dozor.bus import Producer
from evidence.signing import Signer, sign_event
from registry.schemas import _EVENT_EXAMPLE
from tests.unit.test_contract import sample_event
from tests.unit.test_pipeline import FlakyStore, pipeline, run

FORMAT = JSONFormat()


def _examples() -> list[DetectionEvent]:
    base = sample_event()
    # One of each type: incidents and violations carry different categories in `type`.
    per_type = [
        base.model_copy(
            update={
                "type": t,
                "data": base.data.model_copy(update={"category": category_of(t)}),
            }
        )
        for t in EventType
    ]
    return [base, DetectionEvent.model_validate(_EVENT_EXAMPLE), *per_type]


def _back(ce: BaseCloudEvent) -> DetectionEvent:
    """The SDK's own JSON rendering of what it read, read again by the contract."""
    doc = json.loads(FORMAT.write(ce))
    doc.pop("partitionkey", None)  # the Kafka binding adds the message key as an extension
    return DetectionEvent.model_validate(doc)


def check(event: DetectionEvent, ce: BaseCloudEvent) -> None:
    assert ce.get_specversion() == "1.0"
    assert ce.get_id() == event.id
    assert ce.get_type() == wire_type(event.type)
    assert ce.get_subject() == event.subject
    assert ce.get_extension("schemaversion") == event.schemaversion
    assert _back(ce) == event


def test_attribute_names_are_what_cloudevents_allows() -> None:
    names = [n for n in DetectionEvent.model_fields if n != "data"]
    assert names and all(re.fullmatch(r"[a-z0-9]+", n) for n in names), names


def test_types_are_reverse_dns_and_distinct() -> None:
    wires = {wire_type(t) for t in EventType}
    assert len(wires) == len(EventType)
    assert all(re.fullmatch(r"[a-z0-9]+(\.[a-z0-9]+)+\.[a-z_]+", w) for w in wires), wires


@pytest.mark.parametrize("event", _examples(), ids=lambda e: e.type.value)
def test_every_contract_example_is_read_by_the_sdk(event: DetectionEvent) -> None:
    check(event, FORMAT.read(None, event.model_dump_json().encode()))


class _Sent:
    """What a KafkaProducer.send future resolves to."""

    partition, offset = 0, 0

    def get(self, timeout: float) -> _Sent:
        return self


class _Producer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, topic: str, **message: Any) -> _Sent:
        self.sent.append(message)
        return _Sent()


def test_pipeline_events_as_published_are_read_by_the_sdk_kafka_binding() -> None:
    store, published = FlakyStore(failures=0), []
    run(pipeline(store, published), 60)
    assert published, "the scripted crossing produced no event"
    producer = _Producer()
    signer = Signer(Ed25519PrivateKey.generate())
    publisher = EventPublisher(Producer(lambda: producer), signer)  # type: ignore[arg-type,return-value]
    for event in published:
        publisher.publish(event)
    for event, sent in zip(published, producer.sent, strict=True):
        message = KafkaMessage(
            headers={k: v for k, v in sent["headers"]}, key=sent["key"], value=sent["value"]
        )
        ce = from_kafka(message, FORMAT)
        signed = sign_event(event, signer)
        check(signed, ce)
        assert ce.get_extension("partitionkey") == event.subject
        # The signature is an extension attribute the SDK carries through unchanged.
        assert ce.get_extension("keyid") == signer.key_id
        assert signer.verifier.verify(ce.get_extension("signature"), signed.signed_bytes())


def test_messages_written_before_cloudevents_naming_are_still_read() -> None:
    event = sample_event()
    old = json.loads(event.model_dump_json())
    old["type"] = event.type.value
    old["schema_version"] = old.pop("schemaversion")
    del old["datacontenttype"]
    assert DetectionEvent.model_validate(old) == event
