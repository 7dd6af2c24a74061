"""Administration: the audit log and bulk import."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from dozor.settings import Settings
from registry.audit import Actor, acting, query_audit
from registry.auth import Role, require
from registry.deps import db
from registry.importer import ImportRejected, import_rows, parse_csv, parse_geojson
from registry.paging import Limit, Offset
from registry.routes.cameras import settings_of
from registry.schemas import AuditOut, ImportFailed, ImportReport, Page

router = APIRouter(tags=["admin"])

Ident = Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00-\x1f]*$")]
CSV_EXAMPLE = (
    "id,kind,name,district,lat,lon,heading_deg,lanes,status,stream_main\n"
    "VLG-CAM-095,street_camera,пр. Ленина — ул. Пушкина,Tsentralny,48.7102,44.5153,90,4,"
    "active,rtsp://10.41.3.99:554/Streaming/Channels/101\n"
)
GEOJSON_EXAMPLE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "VLG-CAM-095",
            "geometry": {"type": "Point", "coordinates": [44.5153, 48.7102]},
            "properties": {"kind": "street_camera", "name": "пр. Ленина — ул. Пушкина"},
        }
    ],
}


@router.get("/audit", response_model=Page[AuditOut], dependencies=[Depends(require(Role.ADMIN))])
def audit_log(
    session: Annotated[Session, Depends(db)],
    entity: Annotated[str | None, Query(pattern=r"^(camera|scene|detector_key)$")] = None,
    entity_id: Ident = None,
    actor: Ident = None,
    action: Ident = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuditOut]:
    """Every change, newest first: who, when, what, and the entity before and after."""
    rows, total = query_audit(
        session,
        entity=entity,
        entity_id=entity_id,
        actor=actor,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[AuditOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/cameras/import",
    response_model=ImportReport,
    responses={
        413: {"description": "Larger than DOZOR_API_MAX_UPLOAD_BYTES."},
        415: {"description": "Neither CSV nor GeoJSON."},
        422: {"model": ImportFailed, "description": "Bad rows, each with its line; no change."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
                "application/geo+json": {"schema": {"type": "object"}, "example": GEOJSON_EXAMPLE},
            },
        }
    },
)
async def import_cameras(
    request: Request,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    actor: Annotated[Actor, Depends(acting(Role.ADMIN))],
) -> ImportReport | JSONResponse:
    """Create or update cameras from CSV (header row of field names) or a GeoJSON
    FeatureCollection. All or nothing: one bad row rejects the file, listing every bad row."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("text/csv", "application/geo+json", "application/json"):
        raise HTTPException(415, "send text/csv or application/geo+json")
    # Its size was bounded before it was read (registry/limits.py, api_max_upload_bytes).
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"body is not UTF-8 (byte {exc.start})") from None
    parse = parse_csv if kind == "text/csv" else parse_geojson
    try:
        # The database work is blocking: keep it off the event loop.
        report = await run_in_threadpool(lambda: import_rows(session, settings, actor, parse(text)))
    except ImportRejected as exc:
        session.rollback()
        body = ImportFailed(
            detail=f"import rejected: {len(exc.problems)} problems, nothing was changed",
            errors=exc.problems,
        )
        return JSONResponse(body.model_dump(), status_code=422)
    await run_in_threadpool(session.commit)
    return report
