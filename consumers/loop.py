"""The loop every consumer shares: poll, handle, commit after the side effect, DLQ poison.

At-least-once delivery with idempotent handlers gives exactly-once in effect: an offset is
committed only after its handler succeeded, so a crash replays at most the message in hand,
and the handler dedupes it by event id. A message that can never succeed (bad schema,
tampered evidence) goes to the dead-letter topic with its reason instead of blocking its
partition; anything else (S3 or the database down) is retried from the same offset.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata
from prometheus_client import Counter

from contract import topics
from dozor import bus
from dozor.settings import Settings

log = logging.getLogger(__name__)

HANDLED = Counter("dozor_consumer_handled_total", "Messages handled", ["group", "outcome"])


class PoisonMessage(Exception):
    """The message can never be handled; it goes to the dead-letter topic with this reason."""


class Handler(Protocol):
    group_id: str

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
        topic_names: tuple[str, ...] = (topics.EVENTS,),
        *,
        consumer_factory: Callable[..., KafkaConsumer] = bus.consumer,
        dlq_producer: KafkaProducer | None = None,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.topic_names = topic_names
        self.consumer_factory = consumer_factory
        self.dlq = dlq_producer
        self.max_backoff_s = max_backoff_s
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
        ).get(timeout=30)
        self.stats.dead_lettered += 1
        HANDLED.labels(self.handler.group_id, "dead_lettered").inc()
        log.warning(
            "dead-lettered: %s",
            reason,
            extra={"topic": record.topic, "partition": record.partition, "offset": record.offset},
        )

    def run(self, stop: threading.Event, idle_exit_s: float | None = None) -> LoopStats:
        """Consume until ``stop`` is set, or until idle for ``idle_exit_s`` after a first poll."""
        consumer = self.consumer_factory(self.settings, self.handler.group_id, *self.topic_names)
        backoff = 0.0
        last_activity = time.monotonic()
        try:
            while not stop.is_set():
                batch = consumer.poll(timeout_ms=500)
                if not batch:
                    idle = time.monotonic() - last_activity
                    if idle_exit_s is not None and consumer.assignment() and idle > idle_exit_s:
                        break
                    continue
                last_activity = time.monotonic()
                for tp, records in batch.items():
                    for record in records:
                        if stop.is_set():
                            return self.stats
                        try:
                            outcome = self.handler.handle(record)
                        except PoisonMessage as exc:
                            self._dead_letter(record, str(exc))
                        except Exception as exc:
                            # Transient: rewind to this message and try again later.
                            backoff = min(self.max_backoff_s, max(0.5, backoff * 2))
                            self.stats.retries += 1
                            HANDLED.labels(self.handler.group_id, "retry").inc()
                            log.warning(
                                "handling failed (%s: %s); retrying in %.1fs",
                                type(exc).__name__,
                                exc,
                                backoff,
                                extra={"partition": tp.partition, "offset": record.offset},
                            )
                            consumer.seek(tp, record.offset)
                            stop.wait(backoff)
                            break
                        else:
                            self.stats.handled += 1
                            HANDLED.labels(self.handler.group_id, outcome).inc()
                        backoff = 0.0
                        self._commit(consumer, tp, record.offset + 1)
        finally:
            consumer.close()
            if self.dlq is not None:
                self.dlq.close(10)
        return self.stats

    @staticmethod
    def _commit(consumer: KafkaConsumer, tp: TopicPartition, next_offset: int) -> None:
        consumer.commit({tp: OffsetAndMetadata(next_offset, "", -1)})
