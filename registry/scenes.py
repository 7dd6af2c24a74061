"""Versioned scene configs: read the current one, append a new one."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contract.scene import SceneConfig
from registry.models import SceneVersion


class NoSceneError(LookupError):
    pass


def current_scene(session: Session, camera_id: str) -> tuple[int, SceneConfig]:
    row = session.scalar(
        select(SceneVersion)
        .where(SceneVersion.camera_id == camera_id)
        .order_by(SceneVersion.version.desc())
        .limit(1)
    )
    if row is None:
        raise NoSceneError(f"camera {camera_id} has no scene config")
    return row.version, SceneConfig.model_validate(row.config)


def add_scene(session: Session, camera_id: str, scene: SceneConfig, author: str) -> int:
    latest = session.scalar(
        select(func.max(SceneVersion.version)).where(SceneVersion.camera_id == camera_id)
    )
    version = (latest or 0) + 1
    session.add(
        SceneVersion(
            camera_id=camera_id,
            version=version,
            config=scene.model_dump(mode="json"),
            created_by=author,
        )
    )
    return version
