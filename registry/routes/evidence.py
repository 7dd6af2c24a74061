"""Evidence integrity: re-verify an event's signed manifest; publish the verifying key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from dozor.errors import UserError
from dozor.storage import ObjectStore
from evidence.signing import ALGORITHM, Verifier, load_verifier
from evidence.verify import EventNotFound, VerificationReport, verify_event
from registry.auth import ANY_ROLE, EVIDENCE_READERS, Role, require
from registry.deps import db, store
from registry.models import EventRecord

router = APIRouter(tags=["evidence"])


class PublicKey(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "algorithm": "Ed25519",
                    "key_id": "4352dea2051e8a5c0b1f6e7d9c3a2b4f5e6d7c8b9a0f1e2d3c4b5a6978695a4b",
                    "public_key_pem": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA...\n"
                    "-----END PUBLIC KEY-----\n",
                }
            ]
        }
    )

    algorithm: str
    key_id: str
    public_key_pem: str


def verifier(request: Request) -> Verifier:
    state = request.app.state
    if getattr(state, "verifier", None) is None:
        try:
            state.verifier = load_verifier(state.settings)
        except UserError as exc:
            # The API only loads a public key; until one is provisioned it cannot verify.
            raise HTTPException(503, str(exc)) from None
    return state.verifier


@router.get("/events/{event_id}/verify", response_model=VerificationReport)
def verify(
    event_id: str,
    _role: Annotated[Role, Depends(require(*EVIDENCE_READERS))],
    session: Annotated[Session, Depends(db)],
    objects: Annotated[ObjectStore, Depends(store)],
    key: Annotated[Verifier, Depends(verifier)],
) -> VerificationReport:
    """Re-read every object at its signed version, re-hash it and check the signature."""
    try:
        return verify_event(session.get(EventRecord, event_id), objects, key, event_id)
    except EventNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/evidence/public-key", response_model=PublicKey)
def public_key(
    _role: Annotated[Role, Depends(require(*ANY_ROLE))],
    key: Annotated[Verifier, Depends(verifier)],
) -> PublicKey:
    """The Ed25519 key that verifies evidence manifests; key_id is its SHA-256 fingerprint."""
    return PublicKey(algorithm=ALGORITHM, key_id=key.key_id, public_key_pem=key.public_pem())
