"""Cameras and enforcement units."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dozor.redact import redact
from registry.auth import ANY_ROLE, require
from registry.deps import db
from registry.models import Camera, SceneVersion
from registry.schemas import CameraOut, Page

router = APIRouter(prefix="/cameras", tags=["cameras"])


def camera_out(cam: Camera, scene_version: int | None) -> CameraOut:
    out = CameraOut.model_validate(cam)
    return out.model_copy(
        update={
            "stream_main": redact(cam.stream_main) if cam.stream_main else None,
            "stream_sub": redact(cam.stream_sub) if cam.stream_sub else None,
            "scene_version": scene_version,
        }
    )


def _scene_versions(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(SceneVersion.camera_id, func.max(SceneVersion.version)).group_by(
            SceneVersion.camera_id
        )
    )
    return {cid: v for cid, v in rows}


@router.get("", response_model=Page[CameraOut], dependencies=[Depends(require(*ANY_ROLE))])
def list_cameras(
    session: Annotated[Session, Depends(db)],
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[CameraOut]:
    stmt = select(Camera)
    if kind:
        stmt = stmt.where(Camera.kind == kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    cams = session.scalars(stmt.order_by(Camera.id).limit(limit).offset(offset)).all()
    versions = _scene_versions(session)
    return Page(
        items=[camera_out(c, versions.get(c.id)) for c in cams],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{camera_id}", response_model=CameraOut, dependencies=[Depends(require(*ANY_ROLE))])
def get_camera(camera_id: str, session: Annotated[Session, Depends(db)]) -> CameraOut:
    cam = session.get(Camera, camera_id)
    if cam is None:
        raise HTTPException(404, f"camera {camera_id} not found")
    return camera_out(cam, _scene_versions(session).get(camera_id))
