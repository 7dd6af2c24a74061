"""Only real detectors make evidence: a forged event on the bus is dead-lettered, not signed.

Real Tansu, SeaweedFS and PostgreSQL (the session stack). Every forgery below is one an
attacker with write access to ``dozor.events`` could send; each must reach the DLQ with its
reason, at once, and leave no manifest behind, while the genuine events beside them are
signed and indexed.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import topics
from contract.events import DetectionEvent
from contract.manifest import manifest_key
from dozor import bus
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.signing import Signer, load_detector_signer, sign_event
from registry import leases
from registry.audit import Actor
from registry.auth import Role
from registry.db import session_scope
from registry.detector_keys import KeyScope, enroll, register, revoke
from registry.models import EventRecord
from tests.factories import stored_event
from tests.security.test_poison import _consume, _dead_letters

pytestmark = pytest.mark.integration

ADMIN = Actor("security test", Role.ADMIN)


def _send(settings: Settings, events: list[DetectionEvent]) -> None:
    """Straight onto the bus, as a forger would: no publisher, signatures as given."""
    bus.ensure_topics(settings)
    producer = bus.producer(settings)
    try:
        for e in events:
            producer.send(
                topics.EVENTS, key=topics.key_for(e.subject), value=e.model_dump_json().encode()
            )
    finally:
        producer.close(10)


def _as_worker(event: DetectionEvent, worker: str) -> DetectionEvent:
    detector = event.data.detector.model_copy(update={"worker_id": worker})
    return event.model_copy(update={"data": event.data.model_copy(update={"detector": detector})})


def _with(event: DetectionEvent, **ref_changes: object) -> DetectionEvent:
    ref = event.data.evidence[0].model_copy(update=ref_changes)
    return event.model_copy(update={"data": event.data.model_copy(update={"evidence": [ref]})})


def _worker_settings(settings: Settings, worker: str, scope: KeyScope) -> Settings:
    """A worker enrolled as an administrator would (`dozor detector enroll`)."""
    enrolled = settings.model_copy(update={"worker_id": worker})
    with session_scope(settings.db_url) as session:
        enroll(session, ADMIN, enrolled, worker, scope)
    return enrolled


def _reason(settings: Settings, event: DetectionEvent) -> str:
    """Why ``event`` was dead-lettered ('' if it was not)."""
    return _dead_letters(settings, event.id).get(event.id, "")


def _consume_until_settled(settings: Settings, events: list[DetectionEvent]) -> int:
    """Run the evidence consumer until every event is indexed or dead-lettered (a consumer
    that joins its group late may go idle first); the retries it made."""
    retries, deadline = 0, time.monotonic() + 180
    while time.monotonic() < deadline:
        retries += _consume(settings).retries
        if all(_signed_and_indexed(settings, e) or _reason(settings, e) for e in events):
            return retries
    raise AssertionError("the consumer did not settle every event within 180 s")


def _signed_and_indexed(settings: Settings, event: DetectionEvent) -> bool:
    with session_scope(settings.db_url) as session:
        indexed = session.get(EventRecord, event.id) is not None
    return indexed or ObjectStore(settings).exists(
        settings.s3_bucket, manifest_key(event.subject, event.id)
    )


def test_forged_events_are_dead_lettered_and_never_signed(stack_env: Settings) -> None:
    s = stack_env
    store = ObjectStore(s)
    run = uuid.uuid4().hex
    camera = "VLG-CAM-012"
    replay_key = load_detector_signer(s)  # the stack's worker, enrolled by set_up (replay)
    stranger = Signer(Ed25519PrivateKey.generate())
    other = _worker_settings(s, f"w-other-{run[:6]}", KeyScope.REPLAY)
    retired = _worker_settings(s, f"w-retired-{run[:6]}", KeyScope.REPLAY)
    with session_scope(s.db_url) as session:
        revoke(session, ADMIN, load_detector_signer(retired).key_id)

    def event(n: int, cam: str = camera) -> DetectionEvent:
        return stored_event(store, cam, n, run=run)

    def tampered(e: DetectionEvent) -> DetectionEvent:
        signed = sign_event(e, replay_key)
        return signed.model_copy(
            update={"data": signed.data.model_copy(update={"gost_code": "C1"})}
        )

    elsewhere = event(7, "VLG-CAM-013")  # another camera's evidence, claimed for ours
    forged: dict[str, tuple[DetectionEvent, str]] = {
        "unsigned": (event(1), "not signed"),
        "unknown key": (sign_event(event(2), stranger), "not a registered detector key"),
        "another worker's key": (
            sign_event(event(3), load_detector_signer(other)),
            "belongs to",
        ),
        "revoked key": (
            sign_event(_as_worker(event(4), retired.worker_id), load_detector_signer(retired)),
            "revoked",
        ),
        "changed after signing": (tampered(event(5)), "does not verify"),
        "another camera's prefix": (
            sign_event(elsewhere.model_copy(update={"subject": camera}), replay_key),
            "is not under",
        ),
        "another bucket": (
            sign_event(_with(event(8), bucket="not-evidence"), replay_key),
            "bucket",
        ),
        "another event's prefix": (
            sign_event(_with(event(9), key=event(10).data.evidence[0].key), replay_key),
            "is not under",
        ),
    }
    genuine = sign_event(event(0), replay_key)
    sent = [e for e, _ in forged.values()] + [genuine]
    _send(s, sent)

    assert _consume_until_settled(s, sent) == 0, "a forgery is dead-lettered at once"
    for name, (e, why) in forged.items():
        assert why in _reason(s, e), f"{name}: {_reason(s, e)}"
        assert not _signed_and_indexed(s, e), f"{name} was signed"
    assert _signed_and_indexed(s, genuine), "the genuine event behind the forgeries"


def _claim(settings: Settings, worker: str, camera: str) -> leases.Lease:
    """Take ``camera``'s lease for ``worker`` as a worker does (the others it got go back)."""
    with session_scope(settings.db_url) as session:
        for lease in leases.claim(session, worker, 100, ttl_s=120):
            if lease.camera_id == camera:
                return lease
            leases.release(session, worker, lease.camera_id, lease.epoch)
    raise AssertionError(f"{camera}'s lease is held by another worker")


def test_live_key_counts_only_while_its_worker_held_the_lease(stack_env: Settings) -> None:
    s = stack_env
    store = ObjectStore(s)
    run = uuid.uuid4().hex
    camera = "VLG-ENF-002"
    holder = _worker_settings(s, f"w-live-{run[:6]}", KeyScope.LIVE)
    bystander = _worker_settings(s, f"w-idle-{run[:6]}", KeyScope.LIVE)
    lease = _claim(s, holder.worker_id, camera)
    try:
        at = datetime.now(UTC)

        def live(n: int, worker: Settings, time: datetime = at) -> DetectionEvent:
            e = stored_event(store, camera, n, run=run, worker_id=worker.worker_id, time=time)
            return sign_event(e, load_detector_signer(worker))

        held = live(0, holder)
        not_held = live(1, bystander)  # enrolled, signed, but not the lease holder
        before = live(2, holder, datetime(2020, 1, 1, tzinfo=UTC))  # the lease came later
        _send(s, [held, not_held, before])
        _consume_until_settled(s, [held, not_held, before])
    finally:
        with session_scope(s.db_url) as session:
            leases.release(session, holder.worker_id, camera, lease.epoch)

    assert _signed_and_indexed(s, held), _reason(s, held)
    for e in (not_held, before):
        assert "did not hold" in _reason(s, e), _reason(s, e)
        assert not _signed_and_indexed(s, e)


def test_a_key_is_registered_once_and_revocation_is_kept(stack_env: Settings) -> None:
    key = Signer(Ed25519PrivateKey.generate()).verifier.public_pem()
    worker = f"w-{uuid.uuid4().hex[:8]}"
    with session_scope(stack_env.db_url) as session:
        row, new = register(session, ADMIN, worker, key, KeyScope.LIVE)
        assert new and row.worker_id == worker
        assert register(session, ADMIN, worker, key, KeyScope.LIVE)[1] is False
        with pytest.raises(ValueError, match="registered to"):
            register(session, ADMIN, "w-thief", key, KeyScope.LIVE)
        revoke(session, ADMIN, row.key_id)
        with pytest.raises(ValueError, match="revoked"):
            register(session, ADMIN, worker, key, KeyScope.LIVE)
