"""The loop every consumer shares: poll, handle, commit after the side effect, DLQ poison.

At-least-once delivery with idempotent handlers gives exactly-once in effect: an offset is
committed only after its handler succeeded, so a crash replays at most the message in hand,
and the handler dedupes it by event id. A message that can never succeed (bad schema,
tampered evidence, a value its database column cannot hold, a programming error) goes to
the dead-letter topic at once with its reason instead of blocking its partition; anything else
(S3 or the database down) is retried from the same offset, a bounded number of times, and then
dead-lettered too, so that one message can never stall its partition. ``dozor dlq replay``
re-drives dead letters to their topic once the fault is fixed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata
from prometheus_client import Counter, Gauge
from sqlalchemy.exc import DataError, IntegrityError

from contract import topics
from dozor import bus
from dozor.settings import Settings

log = logging.getLogger(__name__)

HANDLED = Counter("dozor_consumer_handled_total", "Messages handled", ["group", "outcome"])
# Alert on these: a message being retried (a server is down), and messages given up on.
RETRYING = Gauge(
    "dozor_consumer_retrying", "Tries so far of the message a consumer is stuck on", ["group"]
)
GAVE_UP = Counter(
    "dozor_consumer_retries_exhausted_total",
    "Messages dead-lettered after failing transiently consumer_max_retries times",
    ["group"],
)

# Errors that the same message raises every time: retrying cannot cure them. pydantic's
# ValidationError and UnicodeDecodeError are ValueErrors; the rest are programming errors,
# which a fix and `dozor dlq replay` cure.
_PERMANENT = (ValueError, TypeError, LookupError, AttributeError, DataError)


class PoisonMessage(Exception):
    """The message can never be handled; it goes to the dead-letter topic with this reason."""


def permanent_reason(exc: Exception) -> str | None:
    """Why ``exc`` will recur on every try of the same message; None when it may be transient."""
    if isinstance(exc, PoisonMessage):
        return str(exc)
    if isinstance(exc, IntegrityError):
        # A unique key taken by a concurrent consumer resolves on the next try (the handler
        # then finds the row); any other constraint is the message's own bad data.
        text = str(exc.orig).lower()
        if "unique" in text or "duplicate key" in text:
            return None
    elif not isinstance(exc, _PERMANENT):
        return None
    detail = str(getattr(exc, "orig", None) or exc).splitlines()
    return f"{type(exc).__name__}: {detail[0] if detail else ''}"[:500]


class Handler(Protocol):
    group_id: str
    topic_names: tuple[str, ...]

    def handle(self, record: ConsumerRecord) -> str:
        """Do the side effect; return an outcome label (e.g. 'indexed', 'duplicate')."""
        ...


@dataclass
class LoopStats:
    handled: int = 0
    dead_lettered: int = 0
    retries: int = 0


class ConsumerLoop:
    def __init__(
        self,
        settings: Settings,
        handler: Handler,
        topic_names: tuple[str, ...] | None = None,
        *,
        consumer_factory: Callable[..., KafkaConsumer] = bus.consumer,
        dlq_producer: bus.Producer | None = None,
        max_backoff_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.topic_names = topic_names or handler.topic_names
        self.consumer_factory = consumer_factory
        self.dlq = dlq_producer
        self.max_backoff_s = max_backoff_s or settings.consumer_backoff_max_s
        self.stats = LoopStats()

    def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        if self.dlq is None:
            self.dlq = bus.producer(self.settings)
        self.dlq.send(
            topics.EVENTS_DLQ,
            key=record.key,
            value=record.value,
            headers=[
                ("dlq_reason", reason.encode()[:1000]),
                ("dlq_group", self.handler.group_id.encode()),
                ("origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ],
        )
        self.stats.dead_lettered += 1
        HANDLED.labels(self.handler.group_id, "dead_lettered").inc()
        log.warning(
            "dead-lettered: %s",
            reason,
            extra={"topic": record.topic, "partition": record.partition, "offset": record.offset},
        )

    def run(self, stop: threading.Event, idle_exit_s: float | None = None) -> LoopStats:
        """Consume until ``stop`` is set, or until idle for ``idle_exit_s`` once assigned."""
        consumer = self.consumer_factory(self.settings, self.handler.group_id, *self.topic_names)
        # Failed tries per message in hand (topic, partition, offset).
        tries: dict[tuple[str, int, int], int] = {}
        last_activity = time.monotonic()
        assigned_at: float | None = None
        try:
            while not stop.is_set():
                batch = consumer.poll(timeout_ms=500)
                if not batch:
                    if idle_exit_s is None or not consumer.assignment():
                        continue
                    # Idle is counted from the assignment too: joining the group may take
                    # longer than the idle time on a busy machine.
                    assigned_at = assigned_at or time.monotonic()
                    if time.monotonic() - max(last_activity, assigned_at) > idle_exit_s:
                        break
                    continue
                last_activity = time.monotonic()
                for tp, records in batch.items():
                    for record in records:
                        if stop.is_set():
                            return self.stats
                        at = (record.topic, record.partition, record.offset)
                        try:
                            outcome = self.handler.handle(record)
                        except Exception as exc:
                            failed = tries.get(at, 0)
                            reason = permanent_reason(exc)
                            if reason is None and failed >= self.settings.consumer_max_retries:
                                GAVE_UP.labels(self.handler.group_id).inc()
                                reason = f"gave up after {failed + 1} tries: {exc!r}"[:500]
                            if reason is None:
                                tries[at] = failed + 1
                                self._retry_later(consumer, tp, record, exc, failed + 1, stop)
                                break
                            self._dead_letter(record, reason)
                        else:
                            self.stats.handled += 1
                            HANDLED.labels(self.handler.group_id, outcome).inc()
                        tries.pop(at, None)
                        RETRYING.labels(self.handler.group_id).set(max(tries.values(), default=0))
                        self._commit(consumer, tp, record.offset + 1)
        finally:
            consumer.close()
            if self.dlq is not None:
                self.dlq.close(10)
        return self.stats

    def _retry_later(
        self,
        consumer: KafkaConsumer,
        tp: TopicPartition,
        record: ConsumerRecord,
        exc: Exception,
        tries: int,
        stop: threading.Event,
    ) -> None:
        """Rewind to ``record`` and wait (doubling, capped) before the next try; a stop
        request ends the wait at once."""
        backoff = min(self.max_backoff_s, 0.5 * 2 ** (tries - 1))
        self.stats.retries += 1
        HANDLED.labels(self.handler.group_id, "retry").inc()
        RETRYING.labels(self.handler.group_id).set(tries)
        log.warning(
            "handling failed (%s: %s); try %d of %d in %.1fs",
            type(exc).__name__,
            exc,
            tries + 1,
            self.settings.consumer_max_retries + 1,
            backoff,
            extra={"partition": tp.partition, "offset": record.offset},
        )
        consumer.seek(tp, record.offset)
        stop.wait(backoff)

    @staticmethod
    def _commit(consumer: KafkaConsumer, tp: TopicPartition, next_offset: int) -> None:
        consumer.commit({tp: OffsetAndMetadata(next_offset, "", -1)})
