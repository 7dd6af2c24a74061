"""Who may make evidence: the checks an event passes before the evidence consumer signs it.

The bus has no say in what is true: anyone who can write to ``dozor.events`` could name
any plate, camera and object. So an event is admitted only when

1. it is signed (``keyid``, ``signature``) by a registered, unrevoked detector key of the
   worker the event names (``data.detector.worker_id``), and the signature verifies over
   the event's canonical bytes;
2. for a ``live`` key, that worker held the camera's lease at the event's time, by the lease
   history (``registry.leases.holders``, with DOZOR_LEASE_CLOCK_SKEW_S of slack). Replays of
   recordings date events by the recording, which no lease covers: they are signed with a
   ``replay`` key, which an administrator enrols only for the hosts that replay;
3. every evidence object is in the evidence bucket, under ``<camera>/`` with the event's id
   as a folder of its key (where detectors write it), so no event can adopt another
   camera's or another event's pictures.

Anything else is dead-lettered at once with its reason: no retry can make it true.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from consumers.loop import PoisonMessage
from contract.events import DetectionEvent
from evidence.signing import parse_public_pem
from registry.detector_keys import KeyScope
from registry.leases import holders
from registry.models import DetectorKey


def check_signature(session: Session, event: DetectionEvent) -> DetectorKey:
    """The registered key that signed ``event``; PoisonMessage when there is none."""
    worker = event.data.detector.worker_id
    if event.keyid is None or event.signature is None:
        raise PoisonMessage(f"event {event.id}: not signed by a detector key")
    key = session.get(DetectorKey, event.keyid)
    if key is None:
        raise PoisonMessage(f"event {event.id}: key {event.keyid} is not a registered detector key")
    if key.revoked_at is not None:
        raise PoisonMessage(f"event {event.id}: key {key.key_id} was revoked at {key.revoked_at}")
    if key.worker_id != worker:
        raise PoisonMessage(
            f"event {event.id}: key {key.key_id} belongs to {key.worker_id}, not to {worker}"
        )
    if not parse_public_pem(key.public_key.encode()).verify(event.signature, event.signed_bytes()):
        raise PoisonMessage(f"event {event.id}: signature does not verify with key {key.key_id}")
    return key


def check_lease(session: Session, event: DetectionEvent, key: DetectorKey, skew_s: float) -> None:
    if key.scope == KeyScope.REPLAY:
        return
    worker = event.data.detector.worker_id
    if not any(g.worker_id == worker for g in holders(session, event.subject, event.time, skew_s)):
        raise PoisonMessage(
            f"event {event.id}: {worker} did not hold {event.subject}'s lease at {event.time}"
        )


def check_evidence_place(event: DetectionEvent, bucket: str) -> None:
    for ref in event.data.evidence:
        folders = ref.key.split("/")[:-1]
        if ref.bucket != bucket:
            raise PoisonMessage(
                f"event {event.id}: {ref.role.value} is in bucket {ref.bucket}, not {bucket}"
            )
        if not folders or folders[0] != event.subject or event.id not in folders[1:]:
            raise PoisonMessage(
                f"event {event.id}: {ref.role.value} {ref.key} is not under "
                f"{event.subject}/.../{event.id}/"
            )


def admit(session: Session, event: DetectionEvent, bucket: str, skew_s: float) -> None:
    """Raise PoisonMessage unless ``event`` may become evidence (see the module's doc)."""
    key = check_signature(session, event)
    check_lease(session, event, key, skew_s)
    check_evidence_place(event, bucket)
