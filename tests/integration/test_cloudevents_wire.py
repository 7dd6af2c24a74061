"""What the demo's replay actually put on dozor.events is CloudEvents the official SDK reads."""

from __future__ import annotations

import time

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat
from kafka import KafkaConsumer, TopicPartition

from contract import topics
from contract.events import DetectionEvent, wire_type
from tests.integration.conftest import DEMO_CAMERA, Replayed
from tests.unit.test_cloudevents import check

pytestmark = pytest.mark.integration


def _messages(replayed: Replayed) -> list[KafkaMessage]:
    consumer = KafkaConsumer(
        bootstrap_servers=replayed.settings.kafka_bootstrap, enable_auto_commit=False
    )
    try:
        parts = [TopicPartition(topics.EVENTS, p) for p in range(topics.PARTITIONS[topics.EVENTS])]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        out: list[KafkaMessage] = []
        deadline = time.monotonic() + 120
        while any(consumer.position(p) < end[p] for p in parts):
            assert time.monotonic() < deadline, "dozor.events not read to its end in 120 s"
            for records in consumer.poll(timeout_ms=1000).values():
                out += [KafkaMessage(dict(r.headers), r.key, r.value) for r in records]
        return out
    finally:
        consumer.close()


def test_every_event_the_demo_published_is_read_by_the_sdk(replayed: Replayed) -> None:
    # Everything on the topic, the demo clip's events and whatever other tests published.
    messages = _messages(replayed)
    demo = [m for m in messages if m.key == DEMO_CAMERA.encode()]
    assert len(demo) >= replayed.summary.events >= 1
    for message in messages:
        event = DetectionEvent.model_validate_json(message.value)
        ce = from_kafka(message, JSONFormat())
        assert ce.get_type() == wire_type(event.type)
        check(event, ce)
