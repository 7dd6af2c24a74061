"""Lease claims, renewals, fencing and release on SQLite (the demo's database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from dozor.settings import Settings
from registry import leases
from registry.bootstrap import prepare_database
from registry.db import session_scope
from registry.models import Camera

TTL = 60.0


@pytest.fixture()
def db(tmp_path: Path) -> str:
    settings = Settings(state_dir=tmp_path)
    prepare_database(settings)
    with session_scope(settings.db_url) as s:
        # The seeded roster ships scenes for 6 cameras; give two of them no stream.
        s.execute(
            update(Camera)
            .where(Camera.id.in_(["VLG-CAM-003", "VLG-ENF-003"]))
            .values(stream_main=None)
        )
    return settings.db_url


def _claim(db: str, worker: str, n: int, ttl: float = TTL) -> list[leases.Lease]:
    with session_scope(db) as s:
        return leases.claim(s, worker, n, ttl)


def test_only_cameras_with_a_stream_and_a_scene_are_claimed(db: str) -> None:
    got = _claim(db, "w1", 100)
    assert sorted(lease.camera_id for lease in got) == [
        "VLG-CAM-001",
        "VLG-CAM-002",
        "VLG-ENF-001",
        "VLG-ENF-002",
    ]
    assert {lease.epoch for lease in got} == {1}


def test_two_workers_never_hold_one_camera(db: str) -> None:
    first = {lease.camera_id for lease in _claim(db, "w1", 3)}
    second = {lease.camera_id for lease in _claim(db, "w2", 3)}
    assert len(first) == 3 and len(second) == 1
    assert not first & second
    assert _claim(db, "w3", 3) == []


def test_expired_lease_moves_with_a_new_epoch_and_fences_the_old_holder(db: str) -> None:
    (old,) = _claim(db, "w1", 1, ttl=0)  # expires at once: as if w1 died
    assert len(_claim(db, "w0", 3)) == 3  # never-held cameras go first
    (new,) = _claim(db, "w2", 1)
    assert new.camera_id == old.camera_id and new.epoch == old.epoch + 1
    with session_scope(db) as s:
        assert leases.renew(s, "w1", [(old.camera_id, old.epoch)], TTL) == set()
        assert not leases.mark_stream(s, old.camera_id, old.epoch, None)
        assert not leases.release(s, "w1", old.camera_id, old.epoch)
        assert leases.renew(s, "w2", [(new.camera_id, new.epoch)], TTL) == {new.camera_id}


def test_release_frees_the_camera_at_once(db: str) -> None:
    (lease,) = _claim(db, "w1", 1)
    assert _claim(db, "w2", 4)  # the others
    assert _claim(db, "w2", 1) == []
    with session_scope(db) as s:
        assert leases.release(s, "w1", lease.camera_id, lease.epoch)
    (again,) = _claim(db, "w2", 1)
    assert again.camera_id == lease.camera_id and again.epoch == lease.epoch + 1


def test_stream_loss_is_inherited_by_the_next_holder(db: str) -> None:
    (lease,) = _claim(db, "w1", 1, ttl=0)
    assert len(_claim(db, "w0", 3)) == 3
    with session_scope(db) as s:
        lost_at = leases.db_now(s)
        assert leases.mark_stream(s, lease.camera_id, lease.epoch, lost_at)
    (taken,) = _claim(db, "w2", 1)
    assert taken.stream_lost_at == lost_at


def test_no_capacity_claims_nothing(db: str) -> None:
    assert _claim(db, "w1", 0) == []


def test_lease_history_says_who_held_a_camera_when(db: str) -> None:
    (first,) = _claim(db, "w1", 1, ttl=0)  # w1 dies at once
    camera = first.camera_id
    with session_scope(db) as s:
        (w1,) = leases.holders(s, camera, first.expires_at)
    assert (w1.worker_id, w1.epoch) == ("w1", first.epoch)
    taken = {lease.camera_id: lease for lease in _claim(db, "w2", 4)}
    second = taken[camera]
    with session_scope(db) as s:
        assert leases.renew(s, "w2", [(camera, second.epoch)], TTL) == {camera}
        later = leases.db_now(s) + timedelta(seconds=TTL / 2)
        (held,) = leases.holders(s, camera, later)
        assert (held.worker_id, held.epoch) == ("w2", second.epoch)
        # The old grant is still there, still w1's: the history is never rewritten.
        assert [g.worker_id for g in leases.holders(s, camera, first.expires_at)] == ["w1"]
        assert leases.release(s, "w2", camera, second.epoch)
        assert leases.holders(s, camera, leases.db_now(s) + timedelta(seconds=5)) == []
