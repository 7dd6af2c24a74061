"""Re-driving dead letters: after the fault that put them there is fixed, each goes back to
the topic it came from, with its key, for its consumer to handle again.

The dead-letter topic is read by its own consumer group, so each dead letter is replayed
once however often the command runs; one that fails again comes back to the DLQ with its
new reason. Offsets are committed after the resend, so a crash replays at most one twice
(consumers dedupe by event id).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata

from contract import topics
from dozor import bus
from dozor.settings import Settings

log = logging.getLogger(__name__)

REPLAY_GROUP = "dozor-dlq-replay"


@dataclass
class ReplayStats:
    replayed: int = 0
    skipped: int = 0
    # Topic -> dead letters sent back to it.
    by_topic: dict[str, int] = field(default_factory=dict)


def headers_of(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in record.headers or []}


def replay_dead_letters(
    settings: Settings,
    *,
    group: str | None = None,
    idle_s: float = 3.0,
    stop: threading.Event | None = None,
    consumer_factory: Callable[..., KafkaConsumer] = bus.consumer,
) -> ReplayStats:
    """Send every dead letter not yet replayed back to its origin topic (only those of
    consumer ``group`` when given); returns when the DLQ has been idle for ``idle_s``."""
    stop = stop or threading.Event()
    stats = ReplayStats()
    consumer = consumer_factory(settings, REPLAY_GROUP, topics.EVENTS_DLQ)
    producer = bus.producer(settings)
    last = time.monotonic()
    try:
        while not stop.is_set():
            batch = consumer.poll(timeout_ms=500)
            if not batch:
                if consumer.assignment() and time.monotonic() - last > idle_s:
                    break
                continue
            last = time.monotonic()
            for tp, records in batch.items():
                for record in records:
                    _resend(producer, record, group, stats)
                    consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
    finally:
        producer.close(10)
        consumer.close()
    return stats


def _resend(
    producer: bus.Producer, record: ConsumerRecord, group: str | None, stats: ReplayStats
) -> None:
    headers = headers_of(record)
    origin = headers.get("origin", "").rsplit("/", 2)[0]
    if origin not in topics.PARTITIONS or (group and headers.get("dlq_group") != group):
        stats.skipped += 1
        return
    producer.send(
        origin,
        key=record.key,
        value=record.value,
        headers=[("dlq_replayed_from", headers.get("origin", "").encode())],
    )
    stats.replayed += 1
    stats.by_topic[origin] = stats.by_topic.get(origin, 0) + 1
    log.info("replayed to %s: %s", origin, headers.get("dlq_reason", ""))
