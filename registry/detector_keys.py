"""Detector workers' public keys: registered and revoked by administrators, never deleted.

The evidence consumer accepts an event only when it is signed by an unrevoked key of the
worker it names (consumers/evidence.py). Every change is audited like any other.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dozor.keyfile import ensure_key_file
from dozor.settings import Settings
from evidence.signing import detector_key_path, load_private_key, new_private_pem, parse_public_pem
from registry.audit import Actor, record
from registry.models import DetectorKey, utcnow


class KeyScope(StrEnum):
    # Events must fall in a lease the worker held (registry.leases.holders).
    LIVE = "live"
    # Replays of recordings: event times are the recording's, so no lease can cover them;
    # enrolled only for the hosts that replay, and revoked when they are done.
    REPLAY = "replay"


class KeyRejected(ValueError):
    """Not an Ed25519 public key, or one already registered otherwise."""


def snapshot(row: DetectorKey) -> dict[str, Any]:
    return {
        "key_id": row.key_id,
        "worker_id": row.worker_id,
        "scope": row.scope,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


def register(
    session: Session, actor: Actor, worker_id: str, public_pem: str, scope: KeyScope
) -> tuple[DetectorKey, bool]:
    """Register ``worker_id``'s key; (the row, whether it is new). Registering the same key
    for the same worker and scope again changes nothing; any other reuse is refused."""
    try:
        verifier = parse_public_pem(public_pem.encode())
    except ValueError as exc:
        raise KeyRejected(f"not a PEM Ed25519 public key: {exc}") from None
    existing = session.get(DetectorKey, verifier.key_id)
    if existing is not None:
        if existing.revoked_at is not None:
            raise KeyRejected(f"key {existing.key_id} was revoked; enrol a new one")
        if (existing.worker_id, existing.scope) != (worker_id, scope.value):
            raise KeyRejected(
                f"key {existing.key_id} is registered to {existing.worker_id} ({existing.scope})"
            )
        return existing, False
    row = DetectorKey(
        key_id=verifier.key_id,
        worker_id=worker_id,
        scope=scope.value,
        public_key=verifier.public_pem(),
        created_at=utcnow(),
        created_by=actor.name,
    )
    session.add(row)
    record(session, actor, "register", "detector_key", row.key_id, None, snapshot(row))
    return row, True


def revoke(session: Session, actor: Actor, key_id: str) -> DetectorKey | None:
    """Revoke a key (idempotent); None when no such key. Its events are refused from now on."""
    row = session.get(DetectorKey, key_id)
    if row is None or row.revoked_at is not None:
        return row
    before = snapshot(row)
    row.revoked_at, row.revoked_by = utcnow(), actor.name
    record(session, actor, "revoke", "detector_key", key_id, before, snapshot(row))
    return row


def listed(session: Session, worker_id: str | None = None) -> list[DetectorKey]:
    stmt = select(DetectorKey).order_by(DetectorKey.worker_id, DetectorKey.created_at)
    if worker_id is not None:
        stmt = stmt.where(DetectorKey.worker_id == worker_id)
    return list(session.scalars(stmt))


def enroll(
    session: Session, actor: Actor, settings: Settings, worker_id: str, scope: KeyScope
) -> tuple[DetectorKey, Path]:
    """Issue ``worker_id`` a key pair (the private key to DOZOR_DETECTOR_KEY_FILE, else the
    worker's file in the state directory; an existing one is kept unless it was revoked) and
    register its public half. What an administrator runs per worker (`dozor detector
    enroll`), and again to rotate after revoking its key."""
    path = detector_key_path(settings, worker_id)
    signer = load_private_key(ensure_key_file(path, new_private_pem), "DOZOR_DETECTOR_KEY_FILE")
    held = session.get(DetectorKey, signer.key_id)
    if held is not None and held.revoked_at is not None:
        # Enrolling again after a revocation is the rotation: the dead key makes way.
        path.unlink()
        signer = load_private_key(ensure_key_file(path, new_private_pem), "DOZOR_DETECTOR_KEY_FILE")
    row, _ = register(session, actor, worker_id, signer.verifier.public_pem(), scope)
    return row, path
