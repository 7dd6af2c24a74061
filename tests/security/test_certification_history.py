"""A violation is judged by the certificate on record at its own time, not today's.

A unit whose verification lapsed, then was renewed: an event from the lapse, signed after
the renewal (a dead letter re-driven, an archive replayed), must still say the unit was not
verified. Real SeaweedFS and PostgreSQL (the session stack); the history itself on SQLite too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from consumers.evidence import EvidenceConsumer
from contract.manifest import SignedManifest, manifest_key
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.signing import load_detector_signer, sign_event
from registry.bootstrap import prepare_database
from registry.certification import certification_at
from registry.db import session_scope
from registry.models import Camera, CertificationRecord
from tests.factories import stored_event

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()
LAPSED = {
    "type_approval_number": "RU.C.28.002.A N 70001",
    "verification_certificate": "C-OLD-1",
    "verification_valid_until": TODAY - timedelta(days=1),
    "certified_codes": ["C12"],
}
RENEWED = {
    **LAPSED,
    "verification_certificate": "C-NEW-2",
    "verification_valid_until": date(2099, 1, 1),
}


def _unit(camera_id: str) -> Camera:
    return Camera(
        id=camera_id, kind="enforcement_unit", name=camera_id, lat=48.7, lon=44.5, **LAPSED
    )


def _renew(db_url: str, camera_id: str) -> None:
    with session_scope(db_url) as session:
        cam = session.get(Camera, camera_id)
        for name, value in RENEWED.items():
            setattr(cam, name, value)


def test_an_event_from_a_lapse_signed_after_renewal_stays_unverified(stack_env: Settings) -> None:
    s = stack_env
    store = ObjectStore(s)
    store.ensure()
    run = uuid.uuid4().hex
    camera = f"SEC-C{run[:8].upper()}"
    with session_scope(s.db_url) as session:
        session.add(_unit(camera))
    signer = load_detector_signer(s)
    during_lapse = sign_event(stored_event(store, camera, 1, run=run), signer)
    _renew(s.db_url, camera)
    after_renewal = sign_event(stored_event(store, camera, 2, run=run), signer)

    consumer = EvidenceConsumer(s)
    certificates = {}
    for event in (during_lapse, after_renewal):
        record = SimpleNamespace(value=event.model_dump_json().encode())
        assert consumer.handle(record) == "indexed"  # type: ignore[arg-type]
        signed = SignedManifest.model_validate_json(
            store.get(s.s3_bucket, manifest_key(camera, event.id))
        )
        certificates[event.id] = signed.manifest.certificate
    lapse, renewed = certificates[during_lapse.id], certificates[after_renewal.id]
    assert (lapse.certificate, lapse.valid_at_event) == ("C-OLD-1", False)
    assert (renewed.certificate, renewed.valid_at_event) == ("C-NEW-2", True)
    with session_scope(s.db_url) as session:
        rows = session.scalars(
            select(CertificationRecord).where(CertificationRecord.camera_id == camera)
        ).all()
    assert [r.verification_certificate for r in rows] == ["C-OLD-1", "C-NEW-2"]


def test_the_history_is_kept_and_read_on_sqlite_too(tmp_path: Path) -> None:
    s = Settings(state_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'registry.db'}")
    prepare_database(s)
    with session_scope(s.db_url) as session:
        session.add(_unit("SQL-CERT-1"))
    lapse = datetime.now(UTC)
    _renew(s.db_url, "SQL-CERT-1")
    with session_scope(s.db_url) as session:
        cam = session.get(Camera, "SQL-CERT-1")
        name = "verification_certificate"
        assert getattr(certification_at(session, cam, lapse), name) == "C-OLD-1"
        assert getattr(certification_at(session, cam, datetime.now(UTC)), name) == "C-NEW-2"
        # Older than anything on record: the first certificate the registry knows.
        long_ago = lapse - timedelta(days=3650)
        assert getattr(certification_at(session, cam, long_ago), name) == "C-OLD-1"
        cam.name = "renamed, certificates untouched"
    with session_scope(s.db_url) as session:
        history = select(CertificationRecord).where(CertificationRecord.camera_id == "SQL-CERT-1")
        assert len(session.scalars(history).all()) == 2
