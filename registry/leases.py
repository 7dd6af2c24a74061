"""Camera leases: how detector workers share a city's cameras without analysing one twice.

A worker claims cameras whose lease has expired, renews its leases well before they
expire and releases them on a graceful stop; a dead worker's leases simply run out and
other workers claim them. Every claim bumps the camera's epoch, the fencing token: a
write that names a stale epoch (a worker that lost its camera and does not know yet)
changes nothing. Claims are conditional updates, so two workers racing for one camera
cannot both win: on PostgreSQL the candidates are also locked with FOR UPDATE SKIP LOCKED
so concurrent claimers spread over different cameras instead of queueing on the same rows.
Expiry is judged by the database's clock, so workers' clocks need not agree.

Every claim is also written to the lease history (``lease_grants``), whose rows are never
removed or reassigned: renewals extend a grant, a release cuts it short. That answers "who
held camera X at time T", which the evidence consumer asks of every live event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from registry.models import Camera, CameraLease, LeaseGrant, SceneVersion

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Lease:
    camera_id: str
    worker_id: str
    epoch: int
    expires_at: datetime
    stream_lost_at: datetime | None = None


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def db_now(session: Session) -> datetime:
    """The database's clock on PostgreSQL (one clock for all workers); local UTC on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return _aware(session.scalar(select(func.now())))  # type: ignore[return-value]
    return datetime.now(UTC)


def _lease(row: CameraLease) -> Lease:
    return Lease(
        camera_id=row.camera_id,
        worker_id=row.worker_id or "",
        epoch=row.epoch,
        expires_at=_aware(row.expires_at),  # type: ignore[arg-type]
        stream_lost_at=_aware(row.stream_lost_at),
    )


def analysable_cameras():  # type: ignore[no-untyped-def]
    """Active cameras with a stream and a scene config: the ones a worker can analyse."""
    has_scene = exists().where(SceneVersion.camera_id == Camera.id)
    return select(Camera.id).where(
        Camera.status == "active", Camera.stream_main.is_not(None), has_scene
    )


def _ensure_rows(session: Session) -> None:
    missing = session.scalars(
        analysable_cameras().where(~exists().where(CameraLease.camera_id == Camera.id))
    ).all()
    if not missing:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(CameraLease)
        .values([{"camera_id": c, "epoch": 0, "expires_at": _NEVER} for c in missing])
        .on_conflict_do_nothing(index_elements=["camera_id"])
    )


def claim(session: Session, worker_id: str, limit: int, ttl_s: float) -> list[Lease]:
    """Take up to `limit` cameras whose lease has expired (or was never held)."""
    if limit <= 0:
        return []
    _ensure_rows(session)
    now = db_now(session)
    candidates = session.scalars(
        select(CameraLease.camera_id)
        .where(CameraLease.camera_id.in_(analysable_cameras()), CameraLease.expires_at <= now)
        .order_by(CameraLease.expires_at, CameraLease.camera_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for camera_id in candidates:
        won = session.execute(
            update(CameraLease)
            .where(CameraLease.camera_id == camera_id, CameraLease.expires_at <= now)
            .values(
                worker_id=worker_id,
                epoch=CameraLease.epoch + 1,
                expires_at=now + timedelta(seconds=ttl_s),
                renewed_at=now,
            )
        ).rowcount
        if won:
            lease = _lease(session.get_one(CameraLease, camera_id))
            session.add(
                LeaseGrant(
                    camera_id=camera_id,
                    worker_id=worker_id,
                    epoch=lease.epoch,
                    granted_at=now,
                    until=lease.expires_at,
                )
            )
            claimed.append(lease)
    return claimed


def _extend_grant(
    session: Session, camera_id: str, worker_id: str, epoch: int, until: datetime
) -> None:
    session.execute(
        update(LeaseGrant)
        .where(
            LeaseGrant.camera_id == camera_id,
            LeaseGrant.worker_id == worker_id,
            LeaseGrant.epoch == epoch,
        )
        .values(until=until)
    )


def renew(
    session: Session, worker_id: str, held: Iterable[tuple[str, int]], ttl_s: float
) -> set[str]:
    """Extend the leases still ours (same worker, same epoch); returns their camera ids."""
    now = db_now(session)
    kept = set()
    for camera_id, epoch in held:
        if session.execute(
            update(CameraLease)
            .where(
                CameraLease.camera_id == camera_id,
                CameraLease.worker_id == worker_id,
                CameraLease.epoch == epoch,
            )
            .values(expires_at=now + timedelta(seconds=ttl_s), renewed_at=now)
        ).rowcount:
            _extend_grant(session, camera_id, worker_id, epoch, now + timedelta(seconds=ttl_s))
            kept.add(camera_id)
    return kept


def release(session: Session, worker_id: str, camera_id: str, epoch: int) -> bool:
    """Give a camera up now, so that another worker can claim it without waiting."""
    now = db_now(session)
    released = session.execute(
        update(CameraLease)
        .where(
            CameraLease.camera_id == camera_id,
            CameraLease.worker_id == worker_id,
            CameraLease.epoch == epoch,
        )
        .values(expires_at=now)
    ).rowcount
    if released:
        _extend_grant(session, camera_id, worker_id, epoch, now)
    return bool(released)


def mark_stream(session: Session, camera_id: str, epoch: int, lost_at: datetime | None) -> bool:
    """Record that the stream was lost (or is back, with None); fenced by the epoch."""
    return bool(
        session.execute(
            update(CameraLease)
            .where(CameraLease.camera_id == camera_id, CameraLease.epoch == epoch)
            .values(stream_lost_at=lost_at)
        ).rowcount
    )


def holder(session: Session, camera_id: str) -> str | None:
    """The worker holding ``camera_id``'s lease now; None when nobody does."""
    row = session.get(CameraLease, camera_id)
    if row is None or not row.worker_id or _aware(row.expires_at) <= db_now(session):  # type: ignore[operator]
        return None
    return row.worker_id


def current(session: Session) -> list[Lease]:
    """Every camera's lease, held or not."""
    return [_lease(r) for r in session.scalars(select(CameraLease).order_by(CameraLease.camera_id))]


@dataclass(frozen=True)
class Grant:
    camera_id: str
    worker_id: str
    epoch: int
    granted_at: datetime
    until: datetime


def holders(session: Session, camera_id: str, at: datetime, slack_s: float = 0.0) -> list[Grant]:
    """Who held ``camera_id``'s lease at ``at`` (within ``slack_s`` either side: the clocks
    that dated the event and the lease differ), from the lease history."""
    slack = timedelta(seconds=slack_s)
    rows = session.scalars(
        select(LeaseGrant)
        .where(
            LeaseGrant.camera_id == camera_id,
            LeaseGrant.granted_at <= at + slack,
            LeaseGrant.until >= at - slack,
        )
        .order_by(LeaseGrant.granted_at)
    )
    return [
        Grant(
            r.camera_id,
            r.worker_id,
            r.epoch,
            _aware(r.granted_at),  # type: ignore[arg-type]
            _aware(r.until),  # type: ignore[arg-type]
        )
        for r in rows
    ]
