"""Poison never stalls a partition: the loop's verdict on each kind of failure, with a fake
broker (the real one: test_poison.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from consumers.loop import GAVE_UP, ConsumerLoop, permanent_reason
from contract.events import DetectionEvent
from dozor.bus import Producer
from dozor.settings import Settings

TP = TopicPartition("dozor.events", 0)


def _record(offset: int) -> ConsumerRecord:
    return ConsumerRecord(
        topic="dozor.events",
        partition=0,
        leader_epoch=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=b"{}",
        headers=[],
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=2,
        serialized_header_size=-1,
    )


@dataclass
class FakeConsumer:
    """Serves one record until it is committed past, then nothing (as a broker does)."""

    records: list[ConsumerRecord]
    position: int = 0
    commits: list[int] = field(default_factory=list)

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        rest = self.records[self.position :]
        return {TP: rest} if rest else {}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.position = offset

    def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.position = offsets[TP].offset
        self.commits.append(self.position)

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def close(self) -> None:
        pass


@dataclass
class FakeFuture:
    def get(self, timeout: float) -> None:
        pass


@dataclass
class FakeDlq:
    sent: list[tuple[bytes, dict[str, bytes]]] = field(default_factory=list)

    def send(self, topic: str, key: bytes, value: bytes, headers: list[Any]) -> FakeFuture:
        self.sent.append((value, dict(headers)))
        return FakeFuture()

    def flush(self, timeout: float) -> None:
        pass

    def close(self, timeout: float) -> None:
        pass


class Failing:
    group_id = "test-group"
    topic_names = ("dozor.events",)

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.calls = 0

    def handle(self, record: ConsumerRecord) -> str:
        self.calls += 1
        raise self.exc


def _run(exc: Exception, **settings: Any) -> tuple[ConsumerLoop, Failing, FakeDlq]:
    handler = Failing(exc)
    dlq = FakeDlq()
    fake = FakeConsumer([_record(0)])
    loop = ConsumerLoop(
        Settings(consumer_backoff_max_s=0.01, **settings),
        handler,
        consumer_factory=lambda *a: fake,
        dlq_producer=Producer(lambda: dlq),  # type: ignore[arg-type,return-value]
    )
    stop = threading.Event()
    done = threading.Thread(target=loop.run, args=(stop, 0.5))
    done.start()
    done.join(60)
    stop.set()
    done.join(5)
    assert not done.is_alive(), "the loop must finish: the message may not stall it"
    assert fake.commits == [1]
    return loop, handler, dlq


def _validation_error() -> ValidationError:
    try:
        DetectionEvent.model_validate({"id": "../../x"})
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    "exc",
    [
        _validation_error(),
        DataError("INSERT", {}, Exception("value too long for type character varying(64)")),
        IntegrityError("INSERT", {}, Exception("null value in column violates not-null")),
        ValueError("bad value"),
        TypeError("a programming error"),
        KeyError("missing"),
    ],
    ids=["validation", "data-error", "integrity", "value-error", "type-error", "key-error"],
)
def test_permanent_errors_are_dead_lettered_at_the_first_failure(exc: Exception) -> None:
    loop, handler, dlq = _run(exc)
    assert handler.calls == 1 and loop.stats.retries == 0
    assert loop.stats.dead_lettered == 1
    ((_value, headers),) = dlq.sent
    assert type(exc).__name__.encode() in headers["dlq_reason"]


def test_transient_errors_are_retried_a_bounded_number_of_times_then_dead_lettered() -> None:
    gave_up = GAVE_UP.labels("test-group")._value.get()
    loop, handler, dlq = _run(
        OperationalError("SELECT", {}, Exception("server closed the connection")),
        consumer_max_retries=3,
    )
    assert handler.calls == 4 and loop.stats.retries == 3
    assert b"gave up after 4 tries" in dlq.sent[0][1]["dlq_reason"]
    assert GAVE_UP.labels("test-group")._value.get() == gave_up + 1


def test_a_unique_key_race_is_transient() -> None:
    race = IntegrityError("INSERT", {}, Exception('duplicate key value violates "events_pkey"'))
    assert permanent_reason(race) is None
    assert permanent_reason(OSError("connection refused")) is None
