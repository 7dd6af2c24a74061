"""Versioned scene configs: read the current or any past version, append a new one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.scene import SceneConfig
from dozor.storage import ObjectStore
from registry import audit
from registry.audit import Actor, acting
from registry.auth import ANY_ROLE, require
from registry.deps import db, store
from registry.frames import frame_bytes, frame_row
from registry.models import SceneVersion
from registry.routes.cameras import EDITORS, NOT_FOUND, CameraId, get_or_404
from registry.scenes import add_scene, diff_scenes, scene_problems, validation_errors
from registry.schemas import (
    SCENE_BODY_EXAMPLES,
    SceneDiff,
    SceneOut,
    SceneSummary,
    SceneValidation,
)

router = APIRouter(prefix="/cameras/{camera_id}", tags=["scenes"])


def check_scene(scene: SceneConfig) -> None:
    """What the contract model cannot check alone; raises 422 with field paths."""
    problems = scene_problems(scene)
    if problems:
        raise RequestValidationError([{**p, "loc": ("body", *p["loc"])} for p in problems])


def scene_out(row: SceneVersion) -> SceneOut:
    return SceneOut(
        camera_id=row.camera_id,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        reference_frame=row.reference_frame,
        config=SceneConfig.model_validate(row.config),
    )


def _versions(session: Session, camera_id: str) -> Any:
    return select(SceneVersion).where(SceneVersion.camera_id == camera_id)


@router.get(
    "/scene",
    response_model=SceneOut,
    dependencies=[Depends(require(*ANY_ROLE))],
    responses={404: {"description": "No such camera, or it has no scene config yet."}},
)
def current_scene(camera_id: CameraId, session: Annotated[Session, Depends(db)]) -> SceneOut:
    """The scene config detectors use now; events record its version."""
    get_or_404(session, camera_id)
    row = session.scalar(
        _versions(session, camera_id).order_by(SceneVersion.version.desc()).limit(1)
    )
    if row is None:
        raise HTTPException(404, f"camera {camera_id} has no scene config")
    return scene_out(row)


@router.get(
    "/scenes",
    response_model=list[SceneSummary],
    dependencies=[Depends(require(*ANY_ROLE))],
    responses=NOT_FOUND,
)
def scene_history(
    camera_id: CameraId, session: Annotated[Session, Depends(db)]
) -> list[SceneSummary]:
    """Every version of the camera's scene, oldest first; none is ever rewritten."""
    get_or_404(session, camera_id)
    rows = session.scalars(_versions(session, camera_id).order_by(SceneVersion.version))
    return [
        SceneSummary(
            version=r.version,
            created_at=r.created_at,
            created_by=r.created_by,
            reference_frame=r.reference_frame,
        )
        for r in rows
    ]


@router.post(
    "/scenes/validate",
    response_model=SceneValidation,
    dependencies=[Depends(require(*EDITORS))],
    responses=NOT_FOUND,
)
def validate_scene(
    camera_id: CameraId,
    draft: Annotated[Any, Body(openapi_examples=SCENE_BODY_EXAMPLES)],
    session: Annotated[Session, Depends(db)],
) -> SceneValidation:
    """Check a draft scene without saving it: every problem, named by the geometry it is in.

    Answers 200 either way, so an editor can call it on every change while drawing."""
    get_or_404(session, camera_id)
    errors = validation_errors(draft)
    return SceneValidation.model_validate({"valid": not errors, "errors": errors})


@router.get(
    "/scenes/diff",
    response_model=SceneDiff,
    response_model_by_alias=True,
    dependencies=[Depends(require(*ANY_ROLE))],
    responses=NOT_FOUND,
)
def scene_diff(
    camera_id: CameraId,
    session: Annotated[Session, Depends(db)],
    old: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1)],
    new: Annotated[int, Query(alias="to", ge=1, le=2**31 - 1)],
) -> SceneDiff:
    """What changed from one version to another: geometry added, removed, changed (by id)."""
    get_or_404(session, camera_id)
    rows = {v: session.get(SceneVersion, (camera_id, v)) for v in (old, new)}
    for v, row in rows.items():
        if row is None:
            raise HTTPException(404, f"camera {camera_id} has no scene version {v}")
    before, after = (SceneConfig.model_validate(rows[v].config) for v in (old, new))  # type: ignore[union-attr]
    return SceneDiff.model_validate({"from": old, "to": new, **diff_scenes(before, after)})


@router.get(
    "/scenes/{version}",
    response_model=SceneOut,
    dependencies=[Depends(require(*ANY_ROLE))],
    responses=NOT_FOUND,
)
def scene_version(
    camera_id: CameraId,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: Annotated[Session, Depends(db)],
) -> SceneOut:
    """One version, e.g. the one an event was produced with."""
    get_or_404(session, camera_id)
    row = session.get(SceneVersion, (camera_id, version))
    if row is None:
        raise HTTPException(404, f"camera {camera_id} has no scene version {version}")
    return scene_out(row)


@router.post("/scenes", response_model=SceneOut, status_code=201, responses=NOT_FOUND)
def add_scene_version(
    camera_id: CameraId,
    scene: Annotated[SceneConfig, Body(openapi_examples=SCENE_BODY_EXAMPLES)],
    session: Annotated[Session, Depends(db)],
    actor: Annotated[Actor, Depends(acting(*EDITORS))],
    reference_frame: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9a-f]{64}$",
            description="Id of a frame from POST /cameras/{id}/frames the scene was drawn on.",
        ),
    ] = None,
) -> SceneOut:
    """Append a new version; earlier versions and the events made with them stay as they are."""
    get_or_404(session, camera_id)
    check_scene(scene)
    if reference_frame is not None:
        frame = frame_row(session, camera_id, reference_frame)
        problem = None
        if frame is None:
            problem = f"camera {camera_id} has no reference frame {reference_frame}"
        elif (frame.width, frame.height) != (scene.frame_width, scene.frame_height):
            problem = (
                f"reference frame is {frame.width}x{frame.height}, "
                f"the scene {scene.frame_width}x{scene.frame_height}"
            )
        if problem:
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("query", "reference_frame"), "msg": problem}]
            )
    version = add_scene(session, camera_id, scene, actor.name, reference_frame)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            409, f"another edit added scene version {version} of {camera_id} first; retry"
        ) from None
    row = session.get_one(SceneVersion, (camera_id, version))
    audit.record(
        session,
        actor,
        "add_scene",
        "scene",
        camera_id,
        None,
        {
            "version": version,
            "config": scene.model_dump(mode="json"),
            "reference_frame": reference_frame,
        },
    )
    session.commit()
    return scene_out(row)


@router.get(
    "/scenes/{version}/frame",
    dependencies=[Depends(require(*ANY_ROLE))],
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **NOT_FOUND},
)
def scene_frame(
    camera_id: CameraId,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: Annotated[Session, Depends(db)],
    objects: Annotated[ObjectStore, Depends(store)],
) -> Response:
    """The reference frame the version was drawn on (JPEG)."""
    row = session.get(SceneVersion, (camera_id, version))
    if row is None or row.reference_frame is None:
        raise HTTPException(404, f"scene version {version} of {camera_id} has no reference frame")
    frame = frame_row(session, camera_id, row.reference_frame)
    if frame is None:
        raise HTTPException(404, f"reference frame {row.reference_frame} is gone")
    return Response(frame_bytes(objects, frame), media_type="image/jpeg")
