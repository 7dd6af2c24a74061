"""Cases on real servers: who gets one, the topic, the API, and exactly-once through faults.

Every test runs on one isolated stack of its own (SeaweedFS + Tansu on free ports, the
session's PostgreSQL database), so stopping its S3 cannot disturb other tests, and delivers
to a real HTTP receiver process (tests/receiver.py) that journals every request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import select

from consumers.enforcement import EnforcementConsumer
from consumers.evidence import EvidenceConsumer
from consumers.loop import ConsumerLoop
from contract import topics
from contract.cases import case_id_for
from contract.events import (
    Category,
    DetectionEvent,
    EventType,
)
from contract.manifest import canonical_json, manifest_key
from contract.signed import SignedEvent
from dozor import bus
from dozor.settings import Settings
from dozor.storage import ObjectStore
from dozor_cli.bootstrap import set_up
from dozor_cli.stack import Stack
from registry.app import create_app
from registry.auth import Role, issue_token
from registry.case_book import DatabaseCaseBook
from registry.db import session_scope
from registry.models import CaseRecord, EventRecord, EventReview
from tests.conftest import stack_settings, temp_pg_database
from tests.factories import publish as publish_events
from tests.factories import stored_event
from tests.integration.conftest import Replayed
from tests.receiver import Receiver

pytestmark = pytest.mark.integration

# Inside every seeded unit's verification period, after VLG-ENF-012's (2026-04-17).
WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def iso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A stack and database of this module's own: its cameras' events stay out of others'."""
    with temp_pg_database() as db_url:
        yield from _iso_stack(tmp_path_factory, db_url)


def _iso_stack(tmp_path_factory: pytest.TempPathFactory, db_url: str) -> Iterator[Settings]:
    settings = stack_settings(
        tmp_path_factory.mktemp("enforcement"),
        db_url,
        delivery_attempts=3,
        delivery_backoff_s=0.05,
        delivery_backoff_max_s=0.2,
    )
    stack = Stack(settings)
    stack.up()
    try:
        set_up(settings)
        yield settings
    finally:
        stack.down()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    rx = Receiver(tmp_path / "journal.jsonl")
    try:
        yield rx
    finally:
        rx.kill()


def violation(
    settings: Settings,
    camera: str,
    n: int,
    *,
    type_: EventType = EventType.RED_LIGHT,
    gost: str | None = "C12",
    plate: str | None = None,
) -> DetectionEvent:
    measured: dict[str, float | str] = {"red_for_s": 1.5}
    if plate:
        measured["plate"] = plate
    return stored_event(
        ObjectStore(settings),
        camera,
        n,
        run=uuid.uuid4(),
        type_=type_,
        gost=gost,
        measured=measured,
        time=WHEN,
    )


def publish(settings: Settings, events: list[DetectionEvent]) -> list[str]:
    publish_events(settings, events)
    return [case_id_for(ev.id) for ev in events]


@contextmanager
def consuming(
    settings: Settings, endpoint: str | None
) -> Iterator[tuple[ConsumerLoop, ConsumerLoop]]:
    """The evidence and enforcement consumers in threads, under groups of their own: the
    enforcement consumer reads what the evidence consumer signed."""
    settings = settings.model_copy(update={"enforcement_endpoint": endpoint})
    tag = uuid.uuid4().hex[:8]
    signer = EvidenceConsumer(settings)
    signer.group_id = f"evidence-test-{tag}"
    handler = EnforcementConsumer(
        settings, cases=DatabaseCaseBook(settings), group_id=f"enforcement-test-{tag}"
    )
    loops = [ConsumerLoop(settings, h, max_backoff_s=1.0) for h in (signer, handler)]
    stop = threading.Event()
    threads = [threading.Thread(target=lp.run, args=(stop,), daemon=True) for lp in loops]
    for t in threads:
        t.start()
    try:
        yield loops[0], loops[1]
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        signer.close()
        handler.close()
    assert not any(t.is_alive() for t in threads)


def wait_for(what: str, ready: Callable[[], bool], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def rows(settings: Settings, case_ids: list[str]) -> dict[str, CaseRecord]:
    with session_scope(settings.db_url) as session:
        found = session.scalars(select(CaseRecord).where(CaseRecord.id.in_(case_ids))).all()
    return {r.id: r for r in found}


def held(settings: Settings, event_id: str) -> bool:
    with session_scope(settings.db_url) as session:
        review = session.get(EventReview, event_id)
        return review is not None and review.held is not None


def confirm(settings: Settings, event_id: str) -> None:
    with session_scope(settings.db_url) as session:
        token = issue_token(session, Role.OPERATOR, "test reviewer")
    answer = TestClient(create_app(settings)).post(
        f"/review/{event_id}",
        json={"decision": "confirm", "reason": "seen on the photos"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text


def delivered(settings: Settings, case_ids: list[str]) -> Callable[[], bool]:
    def check() -> bool:
        got = rows(settings, case_ids)
        return len(got) == len(case_ids) and all(r.delivered_at for r in got.values())

    return check


def accepted_exactly_once(rx: Receiver, case_ids: list[str]) -> None:
    mine = [k for k in rx.accepted() if k in set(case_ids)]
    assert sorted(mine) == sorted(case_ids)


def read_topic(
    settings: Settings, topic: str
) -> list[tuple[bytes | None, bytes, dict[str, bytes]]]:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    try:
        parts = [TopicPartition(topic, p) for p in range(topics.PARTITIONS[topic])]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        return [(m.key, m.value, dict(m.headers)) for m in consumer]
    finally:
        consumer.close()


def test_cases_only_for_certified_verified_units_the_rest_recorded_with_reason(
    iso: Settings, receiver: Receiver
) -> None:
    receiver.start()
    good = violation(iso, "VLG-ENF-001", 1, plate="А123ВС134")
    events = [
        good,
        violation(iso, "VLG-ENF-002", 2),  # certified for C1 only
        violation(iso, "VLG-ENF-012", 3),  # verification expired 2026-04-17
        violation(iso, "VLG-CAM-010", 4),  # a street camera
        violation(iso, "VLG-ENF-001", 5, type_=EventType.STOPPED_VEHICLE),  # an incident
    ]
    ids = publish(iso, events)
    violations = ids[:4]
    with consuming(iso, receiver.url):
        wait_for("cases", lambda: len(rows(iso, ids[:3])) == 3 and bool(receiver.accepted()))
        wait_for("delivery", delivered(iso, ids[:1]))
        # A street camera's violation waits for an operator; once confirmed it is a case.
        wait_for("held for review", lambda: held(iso, events[3].id))
        assert ids[3] not in rows(iso, violations)
        confirm(iso, events[3].id)
        wait_for("confirmed case", lambda: len(rows(iso, violations)) == 4)

    accepted_exactly_once(receiver, ids[:1])
    assert [r["key"] for r in receiver.records() if r["key"] in ids] == ids[:1]
    got = rows(iso, ids)
    assert set(got) == set(violations), "an incident is not a case"
    reasons = {cid: got[cid].reason for cid in violations}
    assert got[ids[0]].enforceable and reasons[ids[0]] is None
    assert "not certified for C12 (certified: C1)" in str(reasons[ids[1]])
    assert "expired on 2026-04-17" in str(reasons[ids[2]])
    assert "street_camera" in str(reasons[ids[3]])
    assert not any(got[cid].enforceable or got[cid].delivered_at for cid in violations[1:])

    # The topic carries every case, refused ones flagged, keyed by camera.
    published = {
        h["case_id"].decode(): (k, v, h) for k, v, h in read_topic(iso, topics.ENFORCEMENT_CASES)
    }
    assert set(violations) <= set(published)
    key, value, headers = published[ids[0]]
    assert key == b"VLG-ENF-001" and headers["enforceable"] == b"true"
    assert json.loads(value)["plate"] == "А123ВС134"
    assert published[ids[1]][2]["enforceable"] == b"false"

    # What the cases were built from: each event signed, with its manifest's version.
    signed = [
        SignedEvent.model_validate_json(v) for _, v, _ in read_topic(iso, topics.EVENTS_SIGNED)
    ]
    mine = {m.event.id: m for m in signed if m.event.id in {e.id for e in events}}
    assert set(mine) == {e.id for e in events}
    ref = mine[good.id].manifest
    assert ref.key == manifest_key(good.subject, good.id) and ref.version_id
    assert ObjectStore(iso).fetch(ref.bucket, ref.key, ref.version_id).data

    # The API: cases for evidence readers only, fresh links that fetch the verified bytes.
    app = create_app(iso)
    with session_scope(iso.db_url) as session:
        tokens = {role: issue_token(session, role, f"test {role}") for role in Role}
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {tokens[Role.ENFORCEMENT]}"}
    listed = client.get("/cases", params={"camera_id": "VLG-ENF-012"}, headers=auth).json()
    assert ids[2] in {c["id"] for c in listed["items"]}
    refused = client.get("/cases", params={"enforceable": False, "limit": 500}, headers=auth)
    assert set(violations[1:]) <= {c["id"] for c in refused.json()["items"]}
    case = client.get(f"/cases/{ids[0]}", headers=auth).json()
    assert case["event_id"] == good.id and case["plate"] == "А123ВС134"
    assert case["unit"]["verification_certificate"].startswith("С-ДЦФ/")
    assert case["location"]["lat"] and case["manifest"]["signature_algorithm"] == "Ed25519"
    # What a downstream system does: fetch the manifest, check it with the published key.
    published_key = client.get("/evidence/public-key", headers=auth).json()
    stored = httpx.get(case["manifest"]["url"]).content
    assert hashlib.sha256(stored).hexdigest() == case["manifest"]["sha256"]
    envelope = json.loads(stored)
    assert envelope["signature"]["key_id"] == published_key["key_id"] == case["manifest"]["key_id"]
    public = load_pem_public_key(published_key["public_key_pem"].encode())
    assert isinstance(public, Ed25519PublicKey)
    public.verify(  # raises InvalidSignature on any change
        base64.b64decode(envelope["signature"]["value"]), canonical_json(envelope["manifest"])
    )
    assert envelope["manifest"]["artifacts"][0]["sha256"] == case["evidence"][0]["sha256"]
    evidence = case["evidence"][0]
    body = httpx.get(evidence["url"]).content
    assert hashlib.sha256(body).hexdigest() == evidence["sha256"] == good.data.evidence[0].sha256
    tampered = evidence["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered).status_code == 403
    assert client.get(f"/cases/{ids[0]}").status_code == 401
    viewer = {"Authorization": f"Bearer {tokens[Role.VIEWER]}"}
    assert client.get(f"/cases/{ids[0]}", headers=viewer).status_code == 403
    assert client.get("/cases", headers=viewer).status_code == 403
    assert client.get("/cases/nope", headers=auth).status_code == 404


def test_receiver_answering_500_then_200_gets_each_case_once(
    iso: Settings, receiver: Receiver
) -> None:
    receiver.start(status=500)
    ids = publish(iso, [violation(iso, "VLG-ENF-001", i) for i in range(4)])
    with consuming(iso, receiver.url):
        wait_for("two rounds of 500s", lambda: len(receiver.records()) >= 2 * iso.delivery_attempts)
        assert not any(r.delivered_at for r in rows(iso, ids).values())
        receiver.set_status(201)
        wait_for("delivery", delivered(iso, ids))
    accepted_exactly_once(receiver, ids)
    refused = [r for r in receiver.records() if r["key"] == ids[0] and r["status"] == 500]
    assert len(refused) >= 2 * iso.delivery_attempts
    assert rows(iso, ids)[ids[0]].attempts == len(refused) + 1

    # The crash window: the receiver acknowledged, our record of it was lost. The replay
    # POSTs the same Idempotency-Key, the receiver says 409, and it is recorded, not doubled.
    with session_scope(iso.db_url) as session:
        lost = session.get(CaseRecord, ids[1])
        assert lost is not None
        lost.delivered_at = None
    with consuming(iso, receiver.url):
        wait_for("re-delivery", delivered(iso, ids))
    assert [r["status"] for r in receiver.records() if r["key"] == ids[1]] == [201, 409]
    accepted_exactly_once(receiver, ids)


def test_receiver_killed_and_restarted_gets_each_case_once(
    iso: Settings, receiver: Receiver
) -> None:
    receiver.start()
    first = publish(iso, [violation(iso, "VLG-ENF-008", i) for i in range(2)])
    with consuming(iso, receiver.url):
        wait_for("first delivery", delivered(iso, first))
        receiver.kill()
        later = publish(iso, [violation(iso, "VLG-ENF-008", i) for i in range(2, 5)])
        wait_for(
            "a failed round against the dead receiver",
            lambda: (
                "ConnectError" in str(rows(iso, later[:1]).get(later[0], CaseRecord()).last_error)
            ),
        )
        receiver.start()
        wait_for("delivery after restart", delivered(iso, later))
    accepted_exactly_once(receiver, first + later)


def test_s3_stopped_while_building_nothing_is_lost(iso: Settings, receiver: Receiver) -> None:
    receiver.start()
    ids = publish(iso, [violation(iso, "VLG-ENF-011", i) for i in range(3)])
    stack = Stack(iso)
    stack.stop("s3")
    try:
        with consuming(iso, receiver.url) as (signing, _):
            wait_for("retries while S3 is down", lambda: signing.stats.retries >= 2)
            assert not rows(iso, ids), "no case is built from evidence it could not verify"
            stack.start("s3")
            wait_for("cases after S3 returned", delivered(iso, ids))
    finally:
        stack.start("s3")
    accepted_exactly_once(receiver, ids)
    assert all(rows(iso, ids)[cid].payload["evidence"][0]["url"] for cid in ids)


def test_poison_goes_to_the_dlq_with_its_reason_and_the_partition_moves_on(
    iso: Settings, receiver: Receiver
) -> None:
    receiver.start()
    camera = "VLG-ENF-016"
    tampered = violation(iso, camera, 1)
    ObjectStore(iso).put(tampered.data.evidence[0].key, b"not the evidence", "image/jpeg")
    good = violation(iso, camera, 2)
    producer = bus.producer(iso)
    marker = uuid.uuid4().hex.encode()
    try:
        for raw in (b"{not json " + marker, b'{"id": "' + marker + b'", "type": "red_light"}'):
            producer.send(topics.EVENTS, key=topics.key_for(camera), value=raw)
    finally:
        producer.close(10)
    ids = publish(iso, [tampered, good])
    with consuming(iso, receiver.url) as (signing, _):
        wait_for("the good case", delivered(iso, ids[1:]))
        # Poison never reaches the enforcement consumer: the evidence consumer refuses it.
        group = signing.handler.group_id.encode()
    accepted_exactly_once(receiver, ids[1:])
    assert not rows(iso, ids[:1]), "tampered evidence makes no case"
    dead = [
        (value, headers)
        for _, value, headers in read_topic(iso, topics.EVENTS_DLQ)
        if headers.get("dlq_group") == group
    ]
    reasons = {
        value: headers["dlq_reason"].decode()
        for value, headers in dead
        if marker in value or tampered.id.encode() in value
    }
    assert len(reasons) == 3
    assert sum("not a valid detection event" in r for r in reasons.values()) == 2
    # The event names the version the detector wrote: the overwrite beside it is found (or,
    # on a store without versions, the changed bytes).
    assert any(
        tampered.id in r and ("second version" in r or "SHA-256" in r) for r in reasons.values()
    )


def test_real_red_light_clip_gives_enforceable_cases_delivered_once(
    replayed: Replayed, receiver: Receiver
) -> None:
    """The replayed clip (VLG-ENF-001, certified for C12, verified) on the session stack."""
    receiver.start()
    settings = replayed.settings
    with session_scope(settings.db_url) as session:
        violations = session.scalars(
            select(EventRecord.id).where(
                EventRecord.id.in_(replayed.summary.event_ids),
                EventRecord.category == Category.VIOLATION.value,
            )
        ).all()
    assert violations, "the red-light clip has violations"
    ids = [case_id_for(eid) for eid in violations]
    with consuming(settings, receiver.url):
        wait_for("cases of the real clip", delivered(settings, ids), timeout_s=240)
    accepted_exactly_once(receiver, ids)
    for row in rows(settings, ids).values():
        assert row.enforceable and row.payload["gost_code"] == "C12", row.reason
        assert row.payload["evidence"] and row.payload["manifest"]["key_id"]
