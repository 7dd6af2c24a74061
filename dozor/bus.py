"""Kafka plumbing shared by producers and consumers: clients, topics, serialisation."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.producer.future import RecordMetadata

from contract import topics
from dozor.settings import Settings

log = logging.getLogger(__name__)


def security(settings: Settings) -> dict[str, object]:
    """What every client passes to authenticate to the brokers and check who they are."""
    options: dict[str, object] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol.startswith("SASL"):
        assert settings.kafka_password is not None  # Settings refuses SASL without one
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_username,
            sasl_plain_password=settings.kafka_password.get_secret_value(),
        )
    if settings.kafka_security_protocol.endswith("SSL"):
        options.update(
            ssl_check_hostname=True,
            ssl_cafile=settings.kafka_ssl_cafile and str(settings.kafka_ssl_cafile),
            ssl_certfile=settings.kafka_ssl_certfile and str(settings.kafka_ssl_certfile),
            ssl_keyfile=settings.kafka_ssl_keyfile and str(settings.kafka_ssl_keyfile),
        )
    return options


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> None:
    """Create every contract topic with its final partition count and the configured
    replication (idempotent); part of `dozor setup`, never of a service's start-up."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=settings.kafka_bootstrap,
                client_id="dozor-admin",
                **security(settings),
            )
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        existing = set(admin.list_topics())
        partitions = {**topics.PARTITIONS, **settings.kafka_partitions}
        new = [
            NewTopic(name, num_partitions=n, replication_factor=settings.kafka_replication_factor)
            for name, n in partitions.items()
            if name not in existing
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new)
            log.info("created topics %s", [t.name for t in new])
    finally:
        admin.close()


class Producer:
    """A KafkaProducer that is replaced after a failed send.

    kafka-python's idempotent producer stays failed for good once a produce request ends in
    an error it does not expect (seen when a broker's storage reset a connection and the
    broker answered UNKNOWN_SERVER_ERROR): every later send is aborted at once, so a
    consumer or worker holding it would retry in vain until its messages were dead-lettered.
    After any failed send the instance is closed and the next send starts a fresh one; the
    caller retries the message as before, and readers dedupe by event id."""

    def __init__(self, make: Callable[[], KafkaProducer]) -> None:
        self._make = make
        self._producer: KafkaProducer | None = None

    def _current(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self._make()
        return self._producer

    def _drop(self, failed: KafkaProducer) -> None:
        with contextlib.suppress(Exception):
            failed.close(0)
        if self._producer is failed:
            self._producer = None
            log.warning("Kafka producer failed a send; the next send starts a fresh one")

    def send(
        self,
        topic: str,
        *,
        key: bytes | None = None,
        value: bytes,
        headers: list[tuple[str, bytes]] | None = None,
        timeout_s: float = 30.0,
    ) -> RecordMetadata:
        """Send and wait for the acknowledgement (acks=all)."""
        current = self._current()
        try:
            return current.send(topic, key=key, value=value, headers=headers).get(timeout=timeout_s)
        except KafkaError:
            self._drop(current)
            raise

    def close(self, timeout_s: float = 10.0) -> None:
        if self._producer is not None:
            self._producer.flush(timeout_s)
            self._producer.close(timeout_s)
            self._producer = None


def producer(settings: Settings) -> Producer:
    # Idempotent, acks=all producer: retries cannot duplicate or reorder a camera's events.
    return Producer(
        lambda: KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            retries=10,
            linger_ms=5,
            client_id=f"dozor-{settings.worker_id}",
            **security(settings),
        )
    )


def consumer(settings: Settings, group_id: str, *topic_names: str) -> KafkaConsumer:
    return KafkaConsumer(
        *topic_names,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_interval_ms=300_000,
        max_poll_records=50,
        **security(settings),
    )


def latest_reader(settings: Settings, topic: str) -> KafkaConsumer:
    """Every partition of ``topic`` from now on, outside any group: each reader needs all
    of it (e.g. every worker needs the signal states of the cameras it happens to hold)."""
    reader = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="latest",
        **security(settings),
    )
    partitions = [TopicPartition(topic, p) for p in range(topics.PARTITIONS[topic])]
    reader.assign(partitions)
    reader.seek_to_end()
    # seek_to_end() is lazy; resolving the positions now pins "from now on" to this call
    # rather than to the first poll.
    for tp in partitions:
        reader.position(tp)
    return reader


__all__ = [
    "KafkaError",
    "Producer",
    "consumer",
    "ensure_topics",
    "latest_reader",
    "producer",
    "security",
]
