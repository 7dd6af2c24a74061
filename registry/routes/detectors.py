"""Detector workers' signing keys: administrators register, list and revoke them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from sqlalchemy.orm import Session

from contract.ids import WORKER_ID_MAX
from registry import detector_keys
from registry.audit import Actor, acting
from registry.auth import Role, require
from registry.deps import db
from registry.schemas import DetectorKeyIn, DetectorKeyOut

router = APIRouter(tags=["detectors"])

WorkerPath = Annotated[
    str, Path(min_length=1, max_length=WORKER_ID_MAX, pattern=r"^[^\x00-\x1f\x7f]+$")
]
KeyIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


@router.post(
    "/detectors/{worker_id}/keys",
    response_model=DetectorKeyOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The key is revoked or registered to another worker."}},
)
def register_key(
    worker_id: WorkerPath,
    body: DetectorKeyIn,
    session: Annotated[Session, Depends(db)],
    actor: Annotated[Actor, Depends(acting(Role.ADMIN))],
) -> DetectorKeyOut:
    """Register a worker's Ed25519 public key; its events are accepted from now on.
    Registering the same key again for the same worker and scope changes nothing."""
    try:
        row, _ = detector_keys.register(session, actor, worker_id, body.public_key_pem, body.scope)
    except detector_keys.KeyRejected as exc:
        code = 422 if str(exc).startswith("not a PEM") else 409
        raise HTTPException(code, str(exc)) from None
    session.commit()
    return DetectorKeyOut.of(row)


@router.get(
    "/detectors/keys",
    response_model=list[DetectorKeyOut],
    dependencies=[Depends(require(Role.ADMIN))],
)
def list_keys(
    session: Annotated[Session, Depends(db)],
    worker_id: Annotated[str | None, Query(max_length=WORKER_ID_MAX)] = None,
) -> list[DetectorKeyOut]:
    """Every registered key, revoked ones included (the history stays)."""
    return [DetectorKeyOut.of(r) for r in detector_keys.listed(session, worker_id)]


@router.post("/detectors/keys/{key_id}/revoke", response_model=DetectorKeyOut)
def revoke_key(
    key_id: KeyIdPath,
    session: Annotated[Session, Depends(db)],
    actor: Annotated[Actor, Depends(acting(Role.ADMIN))],
) -> DetectorKeyOut:
    """Revoke a key: events signed with it are dead-lettered from now on. Idempotent."""
    row = detector_keys.revoke(session, actor, key_id)
    if row is None:
        raise HTTPException(404, f"no detector key {key_id}")
    session.commit()
    return DetectorKeyOut.of(row)
