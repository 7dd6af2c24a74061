"""Stills to draw a scene on: server recordings, uploads and live grabs, kept as reference
frames; plus what the editor shows beside the drawing (hints) and the page's settings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dozor.settings import Settings
from dozor.storage import ObjectStore
from registry.audit import Actor, acting
from registry.auth import ANY_HUMAN, ANY_ROLE, require
from registry.crypto import stream_urls
from registry.deps import db, store
from registry.frames import (
    MAX_UPLOAD_BYTES,
    NotAnImageError,
    as_jpeg,
    frame_bytes,
    frame_row,
    frames_of,
    store_frame,
)
from registry.models import ReferenceFrame
from registry.routes.cameras import EDITORS, NOT_FOUND, CameraId, get_or_404, settings_of
from registry.scene_hints import HINTS

router = APIRouter(tags=["commissioning"])
JPEG = {200: {"content": {"image/jpeg": {}}}}
_SHA = "9f2c1e0d5b7a4c3e8f6d2a1b0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
_FRAME_EXAMPLE = {
    "frame_id": _SHA,
    "camera_id": "VLG-ENF-001",
    "width": 640,
    "height": 352,
    "source": "recording",
    "detail": "redlight_cam_platte_chelton.mp4@3.50s",
    "url": f"/cameras/VLG-ENF-001/frames/{_SHA}",
    "created_at": "2026-11-20T16:42:07Z",
    "created_by": "operator-desk",
}


class RecordingOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "redlight_cam_platte_chelton.mp4",
                    "size": 1843200,
                    "duration_s": 12.0,
                    "fps": 25.0,
                    "width": 640,
                    "height": 352,
                }
            ]
        }
    )

    name: str
    size: int
    duration_s: float | None
    fps: float | None
    width: int | None
    height: int | None


class FrameOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_FRAME_EXAMPLE]})

    frame_id: str
    camera_id: str
    width: int
    height: int
    source: Literal["upload", "recording", "live"]
    detail: str | None
    url: str
    created_at: Any
    created_by: str | None


class FrameRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"source": "recording", "name": "redlight_cam_platte_chelton.mp4", "t": 3.5},
                {"source": "live"},
            ]
        },
    )

    source: Literal["recording", "live"]
    name: str | None = Field(None, max_length=255, description="Recording file name.")
    t: float = Field(0.0, ge=0, le=86400, description="Seconds into the recording.")


class UiConfig(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "time_zone": "Europe/Volgograd",
                    "map_tile_url": None,
                    "map_attribution": None,
                    "default_language": "ru",
                }
            ]
        }
    )

    time_zone: str
    map_tile_url: str | None
    map_attribution: str | None
    default_language: Literal["ru", "en"] = "ru"


def recordings_dir(settings: Settings) -> Path:
    return settings.recordings_dir or settings.media_dir


def frame_out(row: ReferenceFrame) -> FrameOut:
    return FrameOut(
        frame_id=row.id,
        camera_id=row.camera_id,
        width=row.width,
        height=row.height,
        source=row.source,  # type: ignore[arg-type]
        detail=row.detail,
        url=f"/cameras/{row.camera_id}/frames/{row.id}",
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _stills() -> Any:
    """detectors.stills, which needs OpenCV (the detector extra); 501 where it is missing."""
    try:
        from detectors import stills
    except ImportError:
        raise HTTPException(501, "video decoding needs the detector extra (OpenCV)") from None
    return stills


def recording_file(settings: Settings, name: str) -> Path:
    stills = _stills()
    try:
        return stills.recording_path(recordings_dir(settings), name)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    except FileNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None


def recording_frame(settings: Settings, name: str, t: float) -> Any:
    from detectors.errors import DetectorInputError

    path = recording_file(settings, name)
    try:
        return _stills().frame_at(path, t)
    except DetectorInputError as exc:
        raise HTTPException(422, str(exc)) from None


def _jpeg(image: Any) -> bytes:
    from detectors.scene_draw import encode

    return encode(image, ".jpg")


@router.get(
    "/recordings",
    response_model=list[RecordingOut],
    dependencies=[Depends(require(*ANY_HUMAN))],
)
def list_recordings(settings: Annotated[Settings, Depends(settings_of)]) -> list[RecordingOut]:
    """Video files on the server (DOZOR_RECORDINGS_DIR, else DOZOR_MEDIA_DIR)."""
    stills = _stills()
    return [RecordingOut(**vars(r)) for r in stills.recordings(recordings_dir(settings))]


@router.get(
    "/recordings/{name}/frame",
    dependencies=[Depends(require(*ANY_HUMAN))],
    response_class=Response,
    responses={**JPEG, 400: {"description": "Not a plain file name."}},
)
def recording_still(
    name: str,
    settings: Annotated[Settings, Depends(settings_of)],
    t: Annotated[float, Query(ge=0, le=86400)] = 0.0,
) -> Response:
    """The frame at ``t`` seconds of a recording, as JPEG."""
    return Response(_jpeg(recording_frame(settings, name, t)), media_type="image/jpeg")


# A stream that gave no frame is not asked again for a while: a wall of dead cameras must
# not hold a request thread each for the whole timeout on every refresh.
_RETRY_DEAD_S = 30.0
_dead: dict[str, tuple[float, str]] = {}
STREAM_FAILED = 424  # Failed Dependency: the camera, not the registry, failed the request


def _live_frame(session: Session, settings: Settings, camera_id: str) -> Any:
    from detectors.errors import DetectorInputError

    url = stream_urls(session, settings, camera_id).get("main")
    if not url:
        raise HTTPException(404, f"camera {camera_id} has no stream")
    failed = _dead.get(camera_id)
    if failed is not None and time.monotonic() - failed[0] < _RETRY_DEAD_S:
        raise HTTPException(
            STREAM_FAILED, f"{failed[1]} (tried {time.monotonic() - failed[0]:.0f}s ago)"
        )
    try:
        image = _stills().grab_live(url, settings.live_grab_timeout_s)
    except DetectorInputError as exc:
        _dead[camera_id] = (time.monotonic(), str(exc))  # the message is redacted
        raise HTTPException(STREAM_FAILED, str(exc)) from None
    _dead.pop(camera_id, None)
    return image


@router.post(
    "/cameras/{camera_id}/frames",
    response_model=FrameOut,
    status_code=201,
    responses={**NOT_FOUND, STREAM_FAILED: {"description": "The live stream gave no frame."}},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": FrameRequest.model_json_schema(),
                    "examples": {
                        "recording": {
                            "value": FrameRequest.model_config["json_schema_extra"]["examples"][0]
                        },  # type: ignore[index]
                        "live": {"value": {"source": "live"}},
                    },
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            }
        }
    },
)
async def new_frame(
    camera_id: CameraId,
    request: Request,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    objects: Annotated[ObjectStore, Depends(store)],
    actor: Annotated[Actor, Depends(acting(*EDITORS))],
) -> FrameOut:
    """Keep a reference frame for the camera: an uploaded image (multipart field ``file``),
    a recording's frame, or one grabbed from the live stream now."""
    get_or_404(session, camera_id)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
            raise HTTPException(422, "multipart field 'file' with an image is required")
        data = await upload.read(MAX_UPLOAD_BYTES + 1)  # type: ignore[union-attr]
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"image over {MAX_UPLOAD_BYTES} bytes")
        try:
            jpeg, w, h = as_jpeg(data)
        except NotAnImageError as exc:
            raise HTTPException(422, str(exc)) from None
        source, detail = "upload", getattr(upload, "filename", None)
    else:
        try:
            body = FrameRequest.model_validate_json(await request.body())
        except ValueError as exc:
            raise HTTPException(422, f"expected {{source: recording|live, ...}}: {exc}") from None
        if body.source == "recording":
            if not body.name:
                raise HTTPException(422, "a recording frame needs the recording's name")
            image = recording_frame(settings, body.name, body.t)
            detail = f"{body.name}@{body.t:.2f}s"
        else:
            image = _live_frame(session, settings, camera_id)
            detail = "live"
        jpeg, w, h = _jpeg(image), image.shape[1], image.shape[0]
        source = body.source
    row = store_frame(session, objects, camera_id, jpeg, (w, h), source, detail, actor.name)
    session.commit()
    return frame_out(row)


@router.get(
    "/cameras/{camera_id}/frames",
    response_model=list[FrameOut],
    dependencies=[Depends(require(*ANY_ROLE))],
    responses=NOT_FOUND,
)
def list_frames(camera_id: CameraId, session: Annotated[Session, Depends(db)]) -> list[FrameOut]:
    """The camera's reference frames, newest first."""
    get_or_404(session, camera_id)
    return [frame_out(r) for r in frames_of(session, camera_id)]


@router.get(
    "/cameras/{camera_id}/frames/{frame_id}",
    dependencies=[Depends(require(*ANY_ROLE))],
    response_class=Response,
    responses={**JPEG, **NOT_FOUND},
)
def get_frame(
    camera_id: CameraId,
    frame_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$")],
    session: Annotated[Session, Depends(db)],
    objects: Annotated[ObjectStore, Depends(store)],
) -> Response:
    row = frame_row(session, camera_id, frame_id)
    if row is None:
        raise HTTPException(404, f"camera {camera_id} has no frame {frame_id}")
    return Response(frame_bytes(objects, row), media_type="image/jpeg")


# Live grabs are slow (seconds) and a wall shows many cameras: keep each for a while.
_SNAPSHOT_TTL_S = 30.0
_snapshots: dict[str, tuple[float, bytes]] = {}


@router.get(
    "/cameras/{camera_id}/snapshot",
    dependencies=[Depends(require(*ANY_HUMAN))],
    response_class=Response,
    responses={
        **JPEG,
        **NOT_FOUND,
        STREAM_FAILED: {"description": "The live stream gave no frame."},
    },
)
def snapshot(
    camera_id: CameraId,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
) -> Response:
    """The camera's view now (grabbed from its stream at most every 30 s)."""
    get_or_404(session, camera_id)
    cached = _snapshots.get(camera_id)
    if cached is None or time.monotonic() - cached[0] > _SNAPSHOT_TTL_S:
        cached = (time.monotonic(), _jpeg(_live_frame(session, settings, camera_id)))
        _snapshots[camera_id] = cached
    return Response(cached[1], media_type="image/jpeg", headers={"Cache-Control": "max-age=30"})


@router.get(
    "/scene-hints",
    dependencies=[Depends(require(*ANY_HUMAN))],
    responses={200: {"content": {"application/json": {"example": HINTS}}}},
)
def scene_hints() -> dict[str, Any]:
    """What each geometry means to the rules, in Russian and English, for the editor."""
    return HINTS


@router.get("/ui-config", response_model=UiConfig)
def ui_config(settings: Annotated[Settings, Depends(settings_of)]) -> UiConfig:
    """The page's settings: time zone and map tiles (none: no map requests). No secrets,
    so it is readable before signing in."""
    return UiConfig(
        time_zone=settings.ui_time_zone,
        map_tile_url=settings.map_tile_url,
        map_attribution=settings.map_attribution,
    )
