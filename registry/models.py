"""SQLAlchemy models of the registry and the event index."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(64), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    lanes: Mapped[int | None] = mapped_column(Integer)
    vendor: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32), default="active", index=True)
    # Stream URLs may carry credentials: the API never returns them unredacted.
    stream_main: Mapped[str | None] = mapped_column(String(1000))
    stream_sub: Mapped[str | None] = mapped_column(String(1000))
    # Fernet token of {"main": "user:pass", ...}; see registry/crypto.py. Never returned.
    stream_credentials: Mapped[str | None] = mapped_column(Text)
    type_approval_number: Mapped[str | None] = mapped_column(String(64))
    verification_certificate: Mapped[str | None] = mapped_column(String(128))
    verification_valid_until: Mapped[date | None] = mapped_column(Date)
    certified_codes: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class SceneVersion(Base):
    """Scene configs are append-only: an edit adds a version, history stays as it was."""

    __tablename__ = "scene_versions"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
    # The frame the scene was drawn on (reference_frames.id), kept so that later motion and
    # tamper checks can compare the live view against what the operator saw.
    reference_frame: Mapped[str | None] = mapped_column(String(64))


class EventRecord(Base):
    """The event index: one row per detection event, written by the evidence consumer."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_camera_time", "camera_id", "time"),
        Index("ix_events_type_time", "type", "time"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(16))
    gost_code: Mapped[str | None] = mapped_column(String(8))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scene_version: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    # Only the hash is kept: a leaked database does not leak usable tokens.
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Refused after this time; None: never expires (tokens issued before expiry existed).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CameraHealth(Base):
    """The latest heartbeat a detector reported for a camera (older ones are not kept)."""

    __tablename__ = "camera_health"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    worker_id: Mapped[str] = mapped_column(String(100))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    fps_in: Mapped[float] = mapped_column(Float)
    fps_out: Mapped[float] = mapped_column(Float)
    inference_ms: Mapped[float | None] = mapped_column(Float)
    queue_depth: Mapped[int] = mapped_column(Integer)
    last_frame_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    errors: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))


class AuditEntry(Base):
    """One change to the registry: who, when, what, with the entity before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CaseRecord(Base):
    """One enforcement case per violation event: built once, published, delivered once."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_camera_created", "camera_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    camera_id: Mapped[str] = mapped_column(String(32))
    enforceable: Mapped[bool] = mapped_column(Boolean, index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class CameraLease(Base):
    """Which detector worker analyses a camera, until when, under which fencing epoch."""

    __tablename__ = "camera_leases"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    worker_id: Mapped[str | None] = mapped_column(String(100))
    # Bumped on every claim: a worker whose epoch is stale lost the camera and must not publish.
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    renewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set while the stream is lost, so that a takeover neither repeats nor misses the incident.
    stream_lost_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReferenceFrame(Base):
    """A still of a camera's view (JPEG in S3, content-addressed) a scene is drawn on."""

    __tablename__ = "reference_frames"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the JPEG
    bucket: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(300))
    version_id: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # upload, recording or live
    detail: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))


class EventReview(Base):
    """An operator's verdict on a violation or incident; a street camera's violation waits
    here (``held``) until confirmed before it becomes a case."""

    __tablename__ = "event_reviews"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The signed event the enforcement consumer held back, re-sent once it is confirmed.
    held: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LeaseGrant(Base):
    """One claim of a camera's lease, kept for good: who held camera X at time T.

    A row is added on every claim and never removed or handed to another worker; renewals
    extend ``until`` and a release cuts it short, so the row always says until when its
    worker may have published for the camera. The evidence consumer judges every live
    event against these rows.
    """

    __tablename__ = "lease_grants"
    __table_args__ = (Index("ix_lease_grants_camera_from", "camera_id", "granted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(32))
    worker_id: Mapped[str] = mapped_column(String(100))
    epoch: Mapped[int] = mapped_column(Integer)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DetectorKey(Base):
    """A detector worker's Ed25519 public key, registered by an administrator.

    Events are accepted only when signed by an unrevoked key of the worker they name. A
    ``live`` key's events must also fall in a lease the worker held; a ``replay`` key (for
    replays of recordings, whose event times are the recording's) is trusted for any
    camera, so it is enrolled only for the hosts that replay.
    """

    __tablename__ = "detector_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the raw key
    worker_id: Mapped[str] = mapped_column(String(100), index=True)
    scope: Mapped[str] = mapped_column(String(16))  # live or replay
    public_key: Mapped[str] = mapped_column(Text)  # PEM
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(100))


class CertificationRecord(Base):
    """An enforcement unit's certification as it stood from ``recorded_at`` on; append-only.

    Every change of a camera's certification fields adds a row (registry/certification.py),
    so a violation is judged by the certificate on record at its own time, not today's."""

    __tablename__ = "certification_history"
    __table_args__ = (Index("ix_certification_history_camera_at", "camera_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(32))
    type_approval_number: Mapped[str | None] = mapped_column(String(64))
    verification_certificate: Mapped[str | None] = mapped_column(String(128))
    verification_valid_until: Mapped[date | None] = mapped_column(Date)
    certified_codes: Mapped[list[str] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
