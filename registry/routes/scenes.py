"""Versioned scene configs: read the current or any past version, append a new one."""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Depends, HTTPException, Path
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.scene import Calibration, SceneConfig, Zone
from registry import audit
from registry.audit import Actor, acting
from registry.auth import ANY_ROLE, require
from registry.deps import db
from registry.models import SceneVersion
from registry.routes.cameras import EDITORS, NOT_FOUND, CameraId, get_or_404
from registry.scenes import add_scene
from registry.schemas import SCENE_BODY_EXAMPLES, SceneOut, SceneSummary

router = APIRouter(prefix="/cameras/{camera_id}", tags=["scenes"])


def _problem(loc: tuple[Any, ...], msg: str) -> dict[str, Any]:
    return {"type": "value_error", "loc": ("body", *loc), "msg": msg, "input": None}


def _non_finite(value: Any, loc: tuple[Any, ...]) -> list[dict[str, Any]]:
    if isinstance(value, float):
        return [] if math.isfinite(value) else [_problem(loc, "must be a finite number")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, (*loc, k))]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _non_finite(v, (*loc, i))]
    return []


def _segments_cross(a: Any, b: Any, c: Any, d: Any) -> bool:
    def orient(p: Any, q: Any, r: Any) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    return orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0


def polygon_problem(zone: Zone) -> str | None:
    """Why a zone's polygon cannot be used (zero area, edges crossing), or None."""
    pts = zone.polygon
    n = len(pts)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # adjacent through the closing edge
            if _segments_cross(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]):
                return f"polygon edges {i} and {j} cross each other"
    area = sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n))
    if abs(area) < 1e-6:
        return "polygon has no area"
    return None


def calibration_problem(cal: Calibration) -> str | None:
    """Why no homography can be fitted to the point pairs, or None."""
    rows = []
    for (x, y), (u, v) in zip(cal.image_points, cal.ground_points, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    # A homography has 8 degrees of freedom: fewer independent constraints leave it undefined,
    # as when three of four points lie on one line.
    if np.linalg.matrix_rank(np.array(rows, dtype=float), tol=1e-6) < 8:
        return "point pairs do not determine a homography (points collinear or repeated)"
    return None


def check_scene(scene: SceneConfig) -> None:
    """What the contract model cannot check alone; raises 422 with field paths."""
    problems = _non_finite(scene.model_dump(mode="python"), ())
    for i, zone in enumerate(scene.zones):
        msg = polygon_problem(zone)
        if msg:
            problems.append(_problem(("zones", i, "polygon"), f"zones[{zone.id}]: {msg}"))
    if scene.calibration is not None and not problems:
        msg = calibration_problem(scene.calibration)
        if msg:
            problems.append(_problem(("calibration",), msg))
    if problems:
        raise RequestValidationError(problems)


def scene_out(row: SceneVersion) -> SceneOut:
    return SceneOut(
        camera_id=row.camera_id,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
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
        SceneSummary(version=r.version, created_at=r.created_at, created_by=r.created_by)
        for r in rows
    ]


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
) -> SceneOut:
    """Append a new version; earlier versions and the events made with them stay as they are."""
    get_or_404(session, camera_id)
    check_scene(scene)
    version = add_scene(session, camera_id, scene, author=actor.name)
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
        {"version": version, "config": scene.model_dump(mode="json")},
    )
    session.commit()
    return scene_out(row)
