"""Detector keys on SQLite: enrolment is audited, revocation sticks, rotation replaces the
key file, and a production worker never generates its own key."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from dozor.production import ProductionRefusal
from dozor.settings import Settings
from evidence.signing import load_detector_signer
from registry.audit import Actor
from registry.auth import Role
from registry.bootstrap import prepare_database
from registry.db import session_scope
from registry.detector_keys import KeyScope, enroll, listed, revoke
from registry.models import AuditEntry

ADMIN = Actor("ops-admin", Role.ADMIN)


def test_enrol_revoke_and_rotate(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, worker_id="w-7")
    prepare_database(settings)
    with session_scope(settings.db_url) as s:
        first, path = enroll(s, ADMIN, settings, "w-7", KeyScope.LIVE)
        first_id = first.key_id
    assert path == tmp_path / "detector-keys" / "w-7.pem"
    assert path.stat().st_mode & 0o077 == 0
    # The worker signs with exactly the key that was registered for it.
    assert load_detector_signer(settings).key_id == first_id
    with session_scope(settings.db_url) as s:
        assert enroll(s, ADMIN, settings, "w-7", KeyScope.LIVE)[0].key_id == first_id
        revoke(s, ADMIN, first_id)
        rotated, _ = enroll(s, ADMIN, settings, "w-7", KeyScope.LIVE)
        rotated_id = rotated.key_id
    assert rotated_id != first_id and load_detector_signer(settings).key_id == rotated_id
    with session_scope(settings.db_url) as s:
        states = {k.key_id: k.revoked_at is not None for k in listed(s, "w-7")}
        actions = s.execute(
            select(AuditEntry.action, AuditEntry.entity_id).where(
                AuditEntry.entity == "detector_key"
            )
        ).all()
    assert states == {first_id: True, rotated_id: False}
    assert sorted(actions) == sorted(
        [("register", first_id), ("revoke", first_id), ("register", rotated_id)]
    )


def test_a_production_worker_never_generates_its_key(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, env="production", s3_secret_key="a-real-secret")
    with pytest.raises(ProductionRefusal, match="DOZOR_DETECTOR_KEY_FILE"):
        load_detector_signer(settings)
    assert not (tmp_path / "detector-keys").exists()
