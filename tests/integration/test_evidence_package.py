"""Signed evidence packages on the real stack: the replayed clip's events, then tampering.

Tampering is done on copies of a replayed event (own keys, own id) so the session's shared
replay stays intact for the other tests.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import av
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from minio.deleteobjects import DeleteObject
from sqlalchemy import select

from consumers.evidence import EvidenceConsumer
from contract.events import DetectionEvent, EvidenceRole
from contract.manifest import SignedManifest, manifest_key
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.signing import load_detector_signer, load_signer, sign_event
from evidence.verify import VerificationReport, verify_event
from registry.app import create_app
from registry.auth import Role, issue_token
from registry.db import session_scope
from registry.models import EventRecord
from tests.conftest import settings_env
from tests.integration.conftest import Replayed

pytestmark = pytest.mark.integration


COPIES_CAMERA = "VLG-ENF-005"


def _events(replayed: Replayed) -> list[DetectionEvent]:
    with session_scope(replayed.settings.db_url) as session:
        rows = session.scalars(
            select(EventRecord).where(EventRecord.id.in_(replayed.summary.event_ids))
        )
        return [DetectionEvent.model_validate(r.payload) for r in rows]


def _verify(settings: Settings, event_id: str) -> VerificationReport:
    with session_scope(settings.db_url) as session:
        return verify_event(
            session.get(EventRecord, event_id),
            ObjectStore(settings),
            load_signer(settings).verifier,
            event_id,
        )


def test_every_replayed_event_has_a_signed_package_that_verifies(
    replayed: Replayed, record_property: Callable[[str, object], None]
) -> None:
    store = ObjectStore(replayed.settings)
    events = _events(replayed)
    assert events
    plates = []
    for event in events:
        refs = {ref.role: ref for ref in event.data.evidence}
        assert {EvidenceRole.OVERVIEW, EvidenceRole.CROP, EvidenceRole.CLIP} <= set(refs)
        report = _verify(replayed.settings, event.id)
        assert report.ok, report.problems
        assert len(report.checked) == 1 + len(event.data.evidence)
        clip = store.get(refs[EvidenceRole.CLIP].bucket, refs[EvidenceRole.CLIP].key)
        assert clip.index(b"moov") < clip.index(b"mdat")
        with av.open(io.BytesIO(clip)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
            assert sum(1 for _ in container.decode(stream)) >= 24  # at least a second
        if EvidenceRole.PLATE in refs:
            assert event.data.measured["plate_raw"]
        plates.append(event.data.measured.get("plate"))
        sizes = {ref.role.value: ref.size for ref in event.data.evidence}
        print(f"{event.id}: bytes by artifact {sizes}, total {sum(sizes.values())}")
        record_property(f"sizes_{event.id}", sizes)
    print(f"plates read: {plates}")
    record_property("plates", plates)


def test_evidence_and_manifests_are_retained_under_object_lock(replayed: Replayed) -> None:
    s = replayed.settings
    store = ObjectStore(s)
    event = _events(replayed)[0]
    keys = [manifest_key(event.subject, event.id), *(ref.key for ref in event.data.evidence)]
    expected = datetime.now(UTC) + timedelta(days=s.evidence_retention_days)
    for key in keys:
        meta = store.client.stat_object(s.s3_bucket, key).metadata
        assert meta["x-amz-object-lock-mode"] == s.evidence_retention_mode
        until = datetime.fromisoformat(meta["x-amz-object-lock-retain-until-date"])
        assert abs(until - expected) < timedelta(days=1)
    assert store.client.get_bucket_versioning(s.s3_bucket).status == "Enabled"


@pytest.fixture
def package(replayed: Replayed, request: pytest.FixtureRequest) -> DetectionEvent:
    """A fresh copy of a replayed event under its own id and keys, packaged by the consumer.

    It is filed under another enforcement unit, so the replayed camera's index stays exactly
    what its replay published (other tests count it)."""
    s = replayed.settings
    store = ObjectStore(s)
    original = _events(replayed)[0].model_copy(update={"subject": COPIES_CAMERA})
    new_id = f"{original.id}-{request.node.name[-20:]}"
    refs = []
    for ref in original.data.evidence:
        stored = store.put(
            f"{original.subject}/copies/{new_id}/{ref.key.rsplit('/', 1)[1]}",
            store.get(ref.bucket, ref.key),
            ref.content_type,
        )
        refs.append(ref.model_copy(update={"key": stored.key, "version_id": stored.version_id}))
    # A copy is a new event: the stack's replay detector signs it, as it signed the original.
    event = sign_event(
        original.model_copy(
            update={"id": new_id, "data": original.data.model_copy(update={"evidence": refs})}
        ),
        load_detector_signer(s),
    )
    record = SimpleNamespace(value=event.model_dump_json().encode())
    consumer = EvidenceConsumer(s)
    assert consumer.handle(record) == "indexed"  # type: ignore[arg-type]
    assert consumer.handle(record) == "duplicate"  # type: ignore[arg-type]
    # The redelivery checked the stored manifest instead of writing a second version.
    assert len(store.versions(s.s3_bucket, manifest_key(event.subject, event.id))) == 1
    return event


def _flip_one_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_one_flipped_byte_in_an_object_fails_verify_naming_it(
    replayed: Replayed, package: DetectionEvent
) -> None:
    s = replayed.settings
    store = ObjectStore(s)
    assert _verify(s, package.id).ok
    clip = next(r for r in package.data.evidence if r.role is EvidenceRole.CLIP)
    # Object lock keeps the signed version; a changed copy can only land beside it.
    store.put(clip.key, _flip_one_byte(store.get(clip.bucket, clip.key), 1000), "video/mp4")
    report = _verify(s, package.id)
    assert not report.ok
    assert len(report.problems) == 1
    assert f"{clip.bucket}/{clip.key} has a second version" in report.problems[0]
    assert "written over after signing" in report.problems[0]

    proc = subprocess.run(
        [sys.executable, "-m", "dozor_cli.cli", "evidence", "verify", package.id],
        env=settings_env(s),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert f"FAIL: {report.problems[0]}" in proc.stderr
    assert "verification FAILED" in proc.stderr and "Traceback" not in proc.stderr


def test_a_deleted_object_version_fails_verify(replayed: Replayed, package: DetectionEvent) -> None:
    s = replayed.settings
    store = ObjectStore(s)
    signed = SignedManifest.model_validate_json(
        store.get(s.s3_bucket, manifest_key(package.subject, package.id))
    )
    crop = next(a for a in signed.manifest.artifacts if a.role is EvidenceRole.CROP)
    # Plain deletes are refused under retention; only a governance bypass removes a version.
    errors = list(
        store.client.remove_objects(
            s.s3_bucket, [DeleteObject(crop.key, crop.version_id)], bypass_governance_mode=True
        )
    )
    assert errors == []
    assert _verify(s, package.id).problems == [
        f"crop {crop.bucket}/{crop.key} version {crop.version_id} is missing (NoSuchVersion)"
    ]


def test_a_rewritten_manifest_fails_its_signature(
    replayed: Replayed, package: DetectionEvent
) -> None:
    s = replayed.settings
    store = ObjectStore(s)
    key = manifest_key(package.subject, package.id)
    data = store.get(s.s3_bucket, key)
    at = data.index(b'"lat": ') + len(b'"lat": ') + 1
    store.put(key, _flip_one_byte(data, at), "application/json")
    problems = _verify(s, package.id).problems
    assert "manifest signature is invalid: the manifest changed after signing" in problems
    assert any(f"{s.s3_bucket}/{key} has a second version" in p for p in problems)


def test_a_manifest_checked_with_another_key_fails(
    replayed: Replayed, package: DetectionEvent, tmp_path_factory: pytest.TempPathFactory
) -> None:
    s = replayed.settings
    other = load_signer(Settings(state_dir=tmp_path_factory.mktemp("other-key"))).verifier
    with session_scope(s.db_url) as session:
        report = verify_event(
            session.get(EventRecord, package.id), ObjectStore(s), other, package.id
        )
    assert not report.ok
    assert report.problems == [
        f"manifest was signed by key {load_signer(s).key_id}, not by the published key "
        f"{other.key_id}"
    ]


def _auth(settings: Settings, role: Role) -> dict[str, str]:
    with session_scope(settings.db_url) as session:
        return {"Authorization": f"Bearer {issue_token(session, role, f'test {role}')}"}


def test_api_verifies_for_evidence_readers_and_publishes_the_key(replayed: Replayed) -> None:
    s = replayed.settings
    client = TestClient(create_app(s))
    event_id = replayed.summary.event_ids[0]
    for role in (Role.OPERATOR, Role.ADMIN, Role.ENFORCEMENT):
        body = client.get(f"/events/{event_id}/verify", headers=_auth(s, role)).json()
        assert body["ok"] is True and body["problems"] == []
    assert (
        client.get(f"/events/{event_id}/verify", headers=_auth(s, Role.VIEWER)).status_code == 403
    )
    assert client.get(f"/events/{event_id}/verify").status_code == 401
    missing = client.get("/events/no-such-event/verify", headers=_auth(s, Role.OPERATOR))
    assert missing.status_code == 404

    published = client.get("/evidence/public-key", headers=_auth(s, Role.VIEWER)).json()
    signer = load_signer(s)
    assert published["algorithm"] == "Ed25519" and published["key_id"] == signer.key_id
    key = serialization.load_pem_public_key(published["public_key_pem"].encode())
    assert key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == signer.verifier.public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert "PRIVATE" not in published["public_key_pem"]
