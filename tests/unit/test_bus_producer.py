"""A producer that failed a send is replaced: kafka-python's stays failed for good."""

from __future__ import annotations

from typing import Any

import pytest
from kafka.errors import KafkaError

from dozor.bus import Producer


class FakeKafkaProducer:
    """Fails every send once broken, as kafka-python's idempotent producer does after an
    unexpected broker error."""

    made: list[FakeKafkaProducer] = []  # noqa: RUF012 - the test's record of instances

    def __init__(self, broken: bool) -> None:
        self.broken, self.closed_with, self.sent = broken, None, []
        FakeKafkaProducer.made.append(self)

    def send(self, topic: str, **message: Any) -> FakeKafkaProducer:
        self.sent.append((topic, message["value"]))
        return self

    def get(self, timeout: float) -> str:
        if self.broken:
            raise KafkaError("Aborting producer batches due to fatal error")
        return "acknowledged"

    def flush(self, timeout: float) -> None:
        pass

    def close(self, timeout: float) -> None:
        self.closed_with = timeout


def test_a_failed_producer_is_closed_and_the_next_send_starts_a_fresh_one() -> None:
    FakeKafkaProducer.made = []
    producer = Producer(lambda: FakeKafkaProducer(broken=not FakeKafkaProducer.made))
    with pytest.raises(KafkaError):
        producer.send("dozor.events.signed", value=b"1")
    assert producer.send("dozor.events.signed", value=b"1") == "acknowledged"
    first, second = FakeKafkaProducer.made
    assert first.closed_with == 0 and second.closed_with is None
    assert second.sent == [("dozor.events.signed", b"1")]
    producer.close()
    assert second.closed_with == 10.0


def test_a_healthy_producer_is_kept() -> None:
    FakeKafkaProducer.made = []
    producer = Producer(lambda: FakeKafkaProducer(broken=False))
    for n in range(3):
        producer.send("dozor.events", value=str(n).encode())
    assert len(FakeKafkaProducer.made) == 1
