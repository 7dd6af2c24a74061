"""Reference frames: stills of a camera's view, stored in S3 by content, that scenes are drawn on.

A frame is kept as JPEG under ``reference/<camera>/<sha256>.jpg`` with the evidence bucket's
retention, and a row naming it; a scene version records the frame it was drawn on.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from dozor.settings import Settings
from dozor.storage import ObjectStore, sha256_hex
from registry.models import ReferenceFrame, SceneVersion

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class NotAnImageError(ValueError):
    pass


def as_jpeg(data: bytes) -> tuple[bytes, int, int]:
    """Uploaded bytes re-encoded as JPEG, with the image's width and height."""
    from detectors.scene_draw import decode, encode  # OpenCV: the detector extra

    image = decode(data)
    if image is None:
        raise NotAnImageError("not an image (JPEG or PNG expected)")
    return encode(image, ".jpg"), image.shape[1], image.shape[0]


def store_frame(
    session: Session,
    objects: ObjectStore,
    camera_id: str,
    jpeg: bytes,
    size: tuple[int, int],
    source: str,
    detail: str | None,
    author: str | None,
) -> ReferenceFrame:
    """Keep ``jpeg`` as a reference frame of the camera (the same bytes twice: one frame)."""
    digest = sha256_hex(jpeg)
    row = frame_row(session, camera_id, digest)
    if row is not None:
        return row
    stored = objects.put(f"reference/{camera_id}/{digest}.jpg", jpeg, "image/jpeg")
    row = ReferenceFrame(
        camera_id=camera_id,
        id=digest,
        bucket=stored.bucket,
        key=stored.key,
        version_id=stored.version_id,
        width=size[0],
        height=size[1],
        source=source,
        detail=detail,
        created_by=author,
    )
    session.add(row)
    return row


def frame_row(session: Session, camera_id: str, frame_id: str) -> ReferenceFrame | None:
    return session.get(ReferenceFrame, (camera_id, frame_id))


def frames_of(session: Session, camera_id: str) -> list[ReferenceFrame]:
    return list(
        session.scalars(
            select(ReferenceFrame)
            .where(ReferenceFrame.camera_id == camera_id)
            .order_by(ReferenceFrame.created_at.desc())
        )
    )


def frame_bytes(objects: ObjectStore, row: ReferenceFrame) -> bytes:
    return objects.get(row.bucket, row.key, row.version_id)


def stored_frame(
    session: Session, settings: Settings, camera_id: str, version: int
) -> bytes | None:
    """The JPEG a scene version was drawn on, or None (none kept, or S3 cannot give it: a
    reference helps motion checks, and its absence must not stop a camera's analysis)."""
    scene = session.get(SceneVersion, (camera_id, version))
    if scene is None or scene.reference_frame is None:
        return None
    row = frame_row(session, camera_id, scene.reference_frame)
    if row is None:
        return None
    try:
        return frame_bytes(ObjectStore(settings), row)
    except Exception as exc:  # S3 or network failures of every kind
        log.warning("reference frame of %s v%d unavailable: %s", camera_id, version, exc)
        return None
