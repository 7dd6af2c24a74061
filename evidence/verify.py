"""Re-check an event's evidence end to end: manifest, signature, every object, the index.

One implementation behind ``dozor evidence verify EVENT_ID`` and ``GET /events/{id}/verify``.
Every object is re-read at the version the manifest names and re-hashed; any other version
of a key (an overwrite, a delete marker) is a finding too, because object lock lets nobody
change a version in place, only add versions beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from minio.error import S3Error
from pydantic import BaseModel, ConfigDict, ValidationError

from contract.events import DetectionEvent, EvidenceRef
from contract.manifest import SignedManifest, canonical_json, manifest_key
from dozor.storage import MISSING_CODES, ObjectStore, sha256_hex
from evidence.signing import Verifier


class EventNotFound(LookupError):
    pass


class IndexedEvent(Protocol):
    """The index row verification reads; the caller looks it up, so evidence needs no ORM."""

    camera_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class EventBody:
    """An event as it was signed, taken from a message rather than from the index."""

    camera_id: str
    payload: dict[str, Any]

    @classmethod
    def of(cls, event: DetectionEvent) -> EventBody:
        return cls(event.subject, event.model_dump(mode="json"))


class VerificationReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_id": "ead4a970-59f2-5228-a2bb-17dde1e5bc93",
                    "camera_id": "VLG-ENF-001",
                    "manifest": "manifests/VLG-ENF-001/ead4a970-59f2-5228-a2bb-17dde1e5bc93.json",
                    "key_id": "4352dea2051e8a5c0b1f6e7d9c3a2b4f5e6d7c8b9a0f1e2d3c4b5a6978695a4b",
                    "ok": False,
                    "checked": ["overview.jpg", "crop.jpg", "clip.mp4"],
                    "problems": [
                        "evidence/VLG-ENF-001/.../clip.mp4: SHA-256 9f2c… differs from the "
                        "signed 61ab…"
                    ],
                }
            ]
        }
    )

    event_id: str
    camera_id: str
    manifest: str
    key_id: str | None
    ok: bool
    checked: list[str]
    problems: list[str]


def _other_versions(
    store: ObjectStore, bucket: str, key: str, signed: str | None, sha256: str
) -> list[str]:
    problems = []
    for v in store.versions(bucket, key):
        if v.is_delete_marker:
            problems.append(f"{bucket}/{key} was deleted (delete marker {v.version_id})")
        elif v.version_id != signed and sha256_hex(store.get(bucket, key, v.version_id)) != sha256:
            # A byte-identical version (two workers storing the same frame) changes nothing.
            problems.append(
                f"{bucket}/{key} has a second version {v.version_id}: written over after signing"
            )
    return problems


def check_object(
    store: ObjectStore, ref: EvidenceRef, version_id: str | None = None
) -> tuple[str | None, list[str]]:
    """Re-read one evidence object (at ``version_id``, else the newest) and re-hash it.

    The one hash checker: the evidence consumer before signing, and every verification of a
    signed manifest after. Returns the version read and the problems (none: it is intact).
    """
    at = "" if version_id is None else f" version {version_id}"
    name = f"{ref.role.value} {ref.bucket}/{ref.key}"
    try:
        fetched = store.fetch(ref.bucket, ref.key, version_id)
    except S3Error as exc:
        if exc.code in MISSING_CODES:
            return None, [f"{name}{at} is missing ({exc.code})"]
        raise
    problems = []
    digest, size = sha256_hex(fetched.data), len(fetched.data)
    if digest != ref.sha256 or size != ref.size:
        problems.append(
            f"{name} has SHA-256 {digest} ({size} bytes), the signed reference says "
            f"{ref.sha256} ({ref.size} bytes)"
        )
    problems += _other_versions(store, ref.bucket, ref.key, fetched.version_id, ref.sha256)
    return fetched.version_id, problems


def parse_signed(data: bytes, verifier: Verifier) -> tuple[SignedManifest | None, list[str]]:
    """The envelope and what is wrong with its signature (nothing: it is authentic)."""
    try:
        raw = json.loads(data)
        signed = SignedManifest.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        return None, [f"manifest is not a valid signed manifest: {str(exc).splitlines()[0]}"]
    if signed.signature.key_id != verifier.key_id:
        return signed, [
            f"manifest was signed by key {signed.signature.key_id}, "
            f"not by the published key {verifier.key_id}"
        ]
    # The signed bytes are re-derived from the parsed JSON as stored, not from the model,
    # so a field the model would normalise cannot hide a change.
    if not verifier.verify(signed.signature.value, canonical_json(raw["manifest"])):
        return signed, ["manifest signature is invalid: the manifest changed after signing"]
    return signed, []


def verify_event(
    row: IndexedEvent | None, store: ObjectStore, verifier: Verifier, event_id: str
) -> VerificationReport:
    if row is None:
        raise EventNotFound(f"event {event_id} is not in the index")
    bucket, key = store.bucket, manifest_key(row.camera_id, event_id)
    report = VerificationReport(
        event_id=event_id,
        camera_id=row.camera_id,
        manifest=f"{bucket}/{key}",
        key_id=None,
        ok=False,
        checked=[],
        problems=[],
    )
    try:
        fetched = store.fetch(bucket, key)
    except S3Error as exc:
        if exc.code not in MISSING_CODES:
            raise
        report.problems.append(f"manifest {bucket}/{key} is missing ({exc.code})")
        return report
    report.problems += _other_versions(
        store, bucket, key, fetched.version_id, sha256_hex(fetched.data)
    )
    signed, problems = parse_signed(fetched.data, verifier)
    report.problems += problems
    if signed is None:
        return report
    manifest = signed.manifest
    report.key_id = signed.signature.key_id
    report.checked.append(f"manifest {bucket}/{key}")
    if manifest.event_id != event_id:
        report.problems.append(f"manifest is for event {manifest.event_id}, not {event_id}")
    if sha256_hex(canonical_json(row.payload)) != manifest.event_sha256:
        report.problems.append("the indexed event differs from the signed event")
    for art in manifest.artifacts:
        _, found = check_object(store, art, art.version_id)
        report.problems += found
        if not found:
            report.checked.append(f"{art.role.value} {art.bucket}/{art.key}")
    report.ok = not report.problems
    return report
