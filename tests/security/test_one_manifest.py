"""Two evidence consumers given the same event sign one manifest, not two.

A rebalance or a redelivery racing the original hands one event to two consumers. Were both
to find no manifest and sign, object lock would keep two manifest versions and verification
would fail for ever. Real SeaweedFS and PostgreSQL (the session stack).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from types import SimpleNamespace

import pytest

from consumers.evidence import EvidenceConsumer
from contract.events import DetectionEvent
from contract.manifest import Artifact, manifest_key
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.signing import load_detector_signer, sign_event
from tests.factories import stored_event

pytestmark = pytest.mark.integration


class RacingConsumer(EvidenceConsumer):
    """Waits (a bounded time) at verification for its twin, so both are inside the
    check-then-sign window together unless something serialises them."""

    def __init__(self, settings: Settings, gate: threading.Barrier) -> None:
        super().__init__(settings)
        self.gate = gate

    def verify(self, event: DetectionEvent) -> list[Artifact]:
        # A broken barrier: the twin is held elsewhere, as a serialised signer would be.
        with contextlib.suppress(threading.BrokenBarrierError):
            self.gate.wait()
        return super().verify(event)


def test_two_consumers_racing_on_one_event_sign_one_manifest(stack_env: Settings) -> None:
    s = stack_env
    store = ObjectStore(s)
    store.ensure()
    event = sign_event(
        stored_event(store, "VLG-CAM-012", 0, run=uuid.uuid4().hex), load_detector_signer(s)
    )
    record = SimpleNamespace(value=event.model_dump_json().encode())
    gate = threading.Barrier(2, timeout=5)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            outcomes.append(RacingConsumer(s, gate).handle(record))  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    twins = [threading.Thread(target=consume) for _ in range(2)]
    for t in twins:
        t.start()
    for t in twins:
        t.join(120)
    assert not errors, errors
    assert sorted(outcomes) == ["duplicate", "indexed"]
    versions = store.versions(s.s3_bucket, manifest_key(event.subject, event.id))
    assert len(versions) == 1, f"{len(versions)} manifest versions for one event"
