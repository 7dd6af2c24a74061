"""Poison on the real bus and PostgreSQL: dead-lettered in one pass, re-driven after a fix."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from consumers.dlq import headers_of, replay_dead_letters
from consumers.evidence import EvidenceConsumer
from consumers.loop import ConsumerLoop, LoopStats
from contract import topics
from dozor import bus
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.signing import load_detector_signer, sign_event
from registry.db import session_scope
from registry.models import Camera, EventRecord
from tests.factories import publish, stored_event

pytestmark = pytest.mark.integration

CAMERA = "VLG-CAM-011"


def _consume(settings: Settings, deadline_s: float = 120) -> LoopStats:
    """The evidence consumer until idle; stopped at the deadline if a message stalls it."""
    loop = ConsumerLoop(settings, EvidenceConsumer(settings))
    stop = threading.Event()
    timer = threading.Timer(deadline_s, stop.set)
    timer.start()
    try:
        stats = loop.run(stop, idle_exit_s=4)
    finally:
        timer.cancel()
    assert not stop.is_set(), f"a message stalled the consumer: {stats}"
    return stats


def _dead_letters(settings: Settings, marker: str) -> dict[str, str]:
    """Event id -> reason of every dead letter whose body contains ``marker``."""
    reader = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    tp = TopicPartition(topics.EVENTS_DLQ, 0)
    reader.assign([tp])
    reader.seek_to_beginning(tp)
    end = reader.end_offsets([tp])[tp]
    found: dict[str, str] = {}
    deadline = time.monotonic() + 60
    try:
        while reader.position(tp) < end and time.monotonic() < deadline:
            for records in reader.poll(timeout_ms=500).values():
                for r in records:
                    if marker.encode() in r.value:
                        found[json.loads(r.value)["id"]] = headers_of(r)["dlq_reason"]
    finally:
        reader.close()
    return found


def _send_raw(settings: Settings, bodies: list[dict[str, Any]]) -> None:
    bus.ensure_topics(settings)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    try:
        for body in bodies:
            producer.send(topics.EVENTS, key=CAMERA.encode(), value=json.dumps(body).encode())
        producer.flush(30)
    finally:
        producer.close(10)


def test_poison_ids_and_codes_are_dead_lettered_in_one_pass(stack_env: Settings) -> None:
    store = ObjectStore(stack_env)
    store.ensure()
    marker = uuid.uuid4().hex
    made = stored_event(store, CAMERA, 0, run=marker)
    good = made.model_copy(
        update={"data": made.data.model_copy(update={"source_uri": f"file:///{marker}"})}
    )
    # Signed by the stack's enrolled worker, so that only the poison is refused.
    base = json.loads(sign_event(good, load_detector_signer(stack_env)).model_dump_json())
    poison = {
        "../../x": {"id": "../../x"},
        "x" * 100: {"id": "x" * 100},  # longer than events.id, String(64)
        "ctrl\u0001": {"id": "ctrl\u0001"},
        "gost": {"id": "gost", "data": {**base["data"], "gost_code": "C123456789"}},
        "slash": {
            "id": "slash",
            "data": {
                **base["data"],
                "evidence": [
                    {**base["data"]["evidence"][0], "key": "../other-camera/overview.jpg"}
                ],
            },
        },
        "bucket": {
            "id": "bucket",
            "data": {
                **base["data"],
                "evidence": [{**base["data"]["evidence"][0], "bucket": "../etc"}],
            },
        },
    }
    _send_raw(stack_env, [{**base, **change} for change in poison.values()] + [base])

    stats = _consume(stack_env)

    assert stats.retries == 0, "poison is never retried"
    reasons = _dead_letters(stack_env, marker)
    assert set(reasons) == set(poison), reasons
    assert all("not a valid detection event" in r for r in reasons.values()), reasons
    with session_scope(stack_env.db_url) as session:
        assert session.get(EventRecord, good.id) is not None, "the good event behind them"


def test_dead_letters_are_replayed_after_the_fault_is_fixed(stack_env: Settings) -> None:
    store = ObjectStore(stack_env)
    store.ensure()
    run = uuid.uuid4().hex
    camera = f"SEC-{run[:8].upper()}"
    event = stored_event(store, camera, 0, run=run)
    publish(stack_env, [event])
    _consume(stack_env)
    assert "unknown camera" in _dead_letters(stack_env, event.id)[event.id]

    # The fix: the camera is registered. The dead letter goes back to dozor.events.
    with session_scope(stack_env.db_url) as session:
        session.add(Camera(id=camera, kind="street_camera", name=camera, lat=48.7, lon=44.5))
    replayed = replay_dead_letters(stack_env, group=EvidenceConsumer.group_id)
    assert replayed.by_topic.get(topics.EVENTS, 0) >= 1
    _consume(stack_env)
    with session_scope(stack_env.db_url) as session:
        assert session.get(EventRecord, event.id) is not None
