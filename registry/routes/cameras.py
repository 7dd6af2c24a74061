"""Cameras and enforcement units: list, filter, GeoJSON, create, change, delete, health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.health import HealthState
from dozor.settings import Settings
from registry import audit, catalog, leases
from registry.audit import Actor, acting
from registry.auth import ANY_HUMAN, ANY_ROLE, Role, require
from registry.deps import db, reading
from registry.health import derive, health_rows, record_heartbeat
from registry.models import Camera, CameraHealth, EventRecord
from registry.paging import JSON, Limit, Offset, json_page, page_total
from registry.schemas import (
    CAMERA_ID_PATTERN,
    CameraCreate,
    CameraHealthOut,
    CameraKind,
    CameraOut,
    CameraStatus,
    CameraUpdate,
    Feature,
    FeatureCollection,
    HeartbeatIn,
    Page,
    PointGeometry,
)

router = APIRouter(prefix="/cameras", tags=["cameras"])

CameraId = Annotated[
    str, Path(pattern=CAMERA_ID_PATTERN, description="e.g. VLG-ENF-001", examples=["VLG-ENF-001"])
]
EDITORS = (Role.OPERATOR, Role.ADMIN)
NOT_FOUND = {404: {"description": "No camera with this id."}}


def _certification_guard(
    actor: Actor, before: dict[str, Any] | None, after: dict[str, Any]
) -> None:
    """Only administrators set an enforcement unit's certification (type approval,
    verification certificate and date, certified codes)."""
    changed = catalog.certification_changed(before, after)
    if changed and actor.role is not Role.ADMIN:
        raise HTTPException(403, f"only administrators may set {', '.join(changed)}")


async def settings_of(request: Request) -> Settings:
    # async: FastAPI would run a plain def in the thread pool, a hop per request for nothing.
    return request.app.state.settings


class CameraFilters(BaseModel):
    """Filters shared by the list and the GeoJSON export: a query-parameter model, parsed with
    the other parameters (as a class dependency it cost a thread-pool hop per request)."""

    kind: Annotated[CameraKind | None, Query()] = None
    district: Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00-\x1f]*$")] = None
    status: Annotated[CameraStatus | None, Query()] = None
    health: Annotated[HealthState | None, Query(description="Derived at request time.")] = None
    verification_lapsed: Annotated[
        bool | None, Query(description="Enforcement units past their verification date.")
    ] = None
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=r"^[^\x00-\x1f]*$",
            description="Case-insensitive text in id, name, address or district.",
            examples=["Ленина"],
        ),
    ] = None

    def statement(self, today: Any) -> Select[Any]:
        """The matching cameras' answer rows (catalog.ANSWER_ROWS), by id."""
        stmt = catalog.ANSWER_ROWS
        if self.kind:
            stmt = stmt.where(Camera.kind == self.kind.value)
        if self.district:
            stmt = stmt.where(Camera.district == self.district)
        if self.status:
            stmt = stmt.where(Camera.status == self.status.value)
        if self.verification_lapsed is not None:
            is_lapsed: ColumnElement[bool] = and_(
                Camera.kind == CameraKind.ENFORCEMENT_UNIT.value,
                Camera.verification_valid_until < today,
            )
            not_lapsed = or_(
                Camera.kind != CameraKind.ENFORCEMENT_UNIT.value,
                Camera.verification_valid_until.is_(None),
                Camera.verification_valid_until >= today,
            )
            stmt = stmt.where(is_lapsed if self.verification_lapsed else not_lapsed)
        if self.q:
            stmt = stmt.where(
                or_(
                    *(
                        col.icontains(self.q, autoescape=True)
                        for col in (Camera.id, Camera.name, Camera.address, Camera.district)
                    )
                )
            )
        return stmt.order_by(Camera.id)


def _select(
    session: Session,
    settings: Settings,
    filters: CameraFilters,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[bytes], int]:
    """Matching cameras as CameraOut JSON, and how many match in all."""
    now = datetime.now(UTC)
    stmt = filters.statement(now.date())
    if filters.health is None and limit is not None:
        rows = session.execute(stmt.limit(limit).offset(offset))
        outs = [out for _, out in catalog.answers_json(rows, settings, now)]
        total = page_total(
            len(outs),
            limit,
            offset,
            lambda: session.scalar(select(func.count()).select_from(stmt.subquery())) or 0,
        )
        return outs, total
    # Health is derived from the clock, not stored: filter after deriving it.
    answers = catalog.answers_json(session.execute(stmt), settings, now)
    outs = [out for health, out in answers if filters.health in (None, health)]
    page = outs[offset : offset + limit] if limit is not None else outs
    return page, len(outs)


@router.get("", response_model=Page[CameraOut], dependencies=[Depends(require(*ANY_ROLE))])
async def list_cameras(
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    filters: Annotated[CameraFilters, Query()],
    limit: Limit = 200,
    offset: Offset = 0,
) -> Response:
    """Cameras and enforcement units, by id, filtered; stream credentials never shown."""
    # Each camera's JSON is made once (catalog.answers_json), not for every request.
    items, total = await reading(session, _select, settings, filters, limit, offset)
    return json_page(items, total, limit, offset)


GEOJSON_PROPERTIES = (
    "id",
    "kind",
    "name",
    "status",
    "health",
    "district",
    "address",
    "heading_deg",
    "lanes",
    "vendor",
    "model",
    "verification_lapsed",
    "verification_valid_until",
    "type_approval_number",
    "verification_certificate",
    "certified_codes",
    "scene_version",
)


_CAMERAS = TypeAdapter(list[CameraOut])


def to_feature(cam: CameraOut) -> Feature:
    props = cam.model_dump(mode="json", include=set(GEOJSON_PROPERTIES))
    return Feature(
        id=cam.id, geometry=PointGeometry(coordinates=(cam.lon, cam.lat)), properties=props
    )


# Registered on the app (not under /cameras/) so that the path reads /cameras.geojson.
geojson_router = APIRouter(tags=["cameras"])


@geojson_router.get(
    "/cameras.geojson",
    response_model=FeatureCollection,
    dependencies=[Depends(require(*ANY_HUMAN))],
    responses={
        200: {
            "content": {
                "application/geo+json": {
                    "schema": {"$ref": "#/components/schemas/FeatureCollection"}
                }
            }
        }
    },
)
def cameras_geojson(
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    filters: Annotated[CameraFilters, Query()],
) -> Response:
    """All matching cameras as a GeoJSON FeatureCollection (points, [lon, lat])."""
    items, _ = _select(session, settings, filters)
    cams = _CAMERAS.validate_json(b"[" + b",".join(items) + b"]")
    body = FeatureCollection(features=[to_feature(c) for c in cams])
    return Response(body.model_dump_json(), media_type="application/geo+json")


def get_or_404(session: Session, camera_id: str) -> Camera:
    cam = session.get(Camera, camera_id)
    if cam is None:
        raise HTTPException(404, f"camera {camera_id} not found")
    return cam


def one_out(session: Session, settings: Settings, cam: Camera) -> CameraOut:
    health = health_rows(session, [cam.id]).get(cam.id)
    return catalog.camera_out(
        cam, catalog.scene_versions(session, [cam.id]).get(cam.id), health, settings
    )


def invalid_body(errors: list[Any]) -> RequestValidationError:
    return RequestValidationError(
        [{**e, "loc": ("body", *e["loc"])} for e in errors if isinstance(e, dict)]
    )


def _credentials_error(exc: catalog.CredentialsError) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", exc.field), "msg": str(exc), "input": None}]
    )


@router.post(
    "",
    response_model=CameraOut,
    status_code=201,
    responses={409: {"description": "A camera with this id exists."}},
)
def create_camera(
    body: CameraCreate,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    actor: Annotated[Actor, Depends(acting(*EDITORS))],
) -> CameraOut:
    """Add a camera or enforcement unit. Credentials in stream URLs are stored encrypted."""
    if session.get(Camera, body.id) is not None:
        raise HTTPException(409, f"camera {body.id} already exists")
    try:
        cam = catalog.new_camera(body, settings)
    except catalog.CredentialsError as exc:
        raise _credentials_error(exc) from None
    _certification_guard(actor, None, catalog.snapshot(cam, settings))
    session.add(cam)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise HTTPException(409, f"camera {body.id} already exists") from None
    audit.record(session, actor, "create", "camera", cam.id, None, catalog.snapshot(cam, settings))
    session.commit()
    return one_out(session, settings, cam)


@router.get(
    "/{camera_id}",
    response_model=CameraOut,
    dependencies=[Depends(require(*ANY_ROLE))],
    responses=NOT_FOUND,
)
async def get_camera(
    camera_id: CameraId,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
) -> Response:
    # One query: a list's answer row, for one id.
    return Response(await reading(session, _answer, settings, camera_id), media_type=JSON)


def _answer(session: Session, settings: Settings, camera_id: str) -> bytes:
    rows = session.execute(catalog.ANSWER_ROWS.where(Camera.id == camera_id))
    outs = catalog.answers_json(rows, settings, datetime.now(UTC))
    if not outs:
        raise HTTPException(404, f"camera {camera_id} not found")
    return outs[0][1]


@router.patch("/{camera_id}", response_model=CameraOut, responses=NOT_FOUND)
def update_camera(
    camera_id: CameraId,
    body: CameraUpdate,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    actor: Annotated[Actor, Depends(acting(*EDITORS))],
) -> CameraOut:
    """Change some fields; the whole camera must still be valid afterwards."""
    cam = get_or_404(session, camera_id)
    before = catalog.snapshot(cam, settings)
    try:
        merged = catalog.merge(cam, body.model_dump(exclude_unset=True), settings)
        catalog.apply(cam, merged, settings)
    except ValidationError as exc:
        raise invalid_body(exc.errors(include_url=False, include_context=False)) from None
    except catalog.CredentialsError as exc:
        raise _credentials_error(exc) from None
    after = catalog.snapshot(cam, settings)
    _certification_guard(actor, before, after)
    if after != before:
        audit.record(session, actor, "update", "camera", cam.id, before, after)
    session.commit()
    return one_out(session, settings, cam)


@router.delete(
    "/{camera_id}",
    status_code=204,
    responses={**NOT_FOUND, 409: {"description": "Events or other records refer to it."}},
)
def delete_camera(
    camera_id: CameraId,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    actor: Annotated[Actor, Depends(acting(Role.ADMIN))],
) -> Response:
    """Remove a camera entered by mistake. One with evidence is decommissioned instead."""
    cam = get_or_404(session, camera_id)
    events = session.scalar(
        select(func.count(EventRecord.id)).where(EventRecord.camera_id == camera_id)
    )
    if events:
        raise HTTPException(
            409, f"camera {camera_id} has {events} indexed events; set status decommissioned"
        )
    before = catalog.snapshot(cam, settings)
    session.delete(cam)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            409, f"camera {camera_id} is still referenced; set status decommissioned"
        ) from None
    audit.record(session, actor, "delete", "camera", camera_id, before, None)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/{camera_id}/health",
    response_model=CameraHealthOut,
    dependencies=[Depends(require(*ANY_ROLE))],
    responses=NOT_FOUND,
)
def camera_health(
    camera_id: CameraId,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
) -> CameraHealthOut:
    """Online, degraded or offline, derived from the latest heartbeat, with the reasons."""
    get_or_404(session, camera_id)
    row = health_rows(session, [camera_id]).get(camera_id)
    return health_out(camera_id, row, settings, datetime.now(UTC))


@router.post(
    "/{camera_id}/heartbeat",
    response_model=CameraHealthOut,
    status_code=202,
    responses={
        **NOT_FOUND,
        403: {"description": "The token's worker does not hold the camera's lease."},
    },
)
def post_heartbeat(
    camera_id: CameraId,
    heartbeat: Annotated[HeartbeatIn, Body()],
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    actor: Annotated[Actor, Depends(acting(Role.DETECTOR))],
) -> CameraHealthOut:
    """A detector's report on a camera it analyses; answers the state it now implies.

    Only from the worker holding the camera's lease, with a detector token issued in its
    name (``dozor registry token --role detector --name <worker id>``): another worker
    cannot make a camera it does not analyse look healthy."""
    if heartbeat.camera_id != camera_id:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", "camera_id"),
                    "msg": f"camera_id {heartbeat.camera_id!r} differs from the path's {camera_id}",
                    "input": heartbeat.camera_id,
                }
            ]
        )
    get_or_404(session, camera_id)
    if heartbeat.worker_id != actor.name:
        raise HTTPException(403, f"this token reports for worker {actor.name} only")
    if leases.holder(session, camera_id) != heartbeat.worker_id:
        raise HTTPException(403, f"worker {heartbeat.worker_id} does not hold {camera_id}'s lease")
    now = datetime.now(UTC)
    record_heartbeat(session, heartbeat, now)
    session.commit()
    return health_out(camera_id, health_rows(session, [camera_id])[camera_id], settings, now)


def health_out(
    camera_id: str, row: CameraHealth | None, settings: Settings, now: datetime
) -> CameraHealthOut:
    state, reasons = derive(row, settings, now)
    if row is None:
        return CameraHealthOut(camera_id=camera_id, state=state, reasons=reasons)
    return CameraHealthOut(
        camera_id=camera_id,
        state=state,
        reasons=reasons,
        worker_id=row.worker_id,
        time=row.time,
        received_at=row.received_at,
        fps_in=row.fps_in,
        fps_out=row.fps_out,
        inference_ms=row.inference_ms,
        queue_depth=row.queue_depth,
        last_frame_time=row.last_frame_time,
        errors=row.errors,
        last_error=row.last_error,
    )
