"""Preview a draft scene on a stored recording before saving it: the events it would raise,
each drawn on its frame. Nothing is stored in the registry, S3 or Kafka."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from contract.scene import SceneConfig
from dozor.settings import Settings
from registry.auth import require
from registry.deps import db
from registry.preview import PreviewBusy, PreviewJob, Previews
from registry.routes.cameras import EDITORS, NOT_FOUND, CameraId, get_or_404, settings_of
from registry.routes.recordings import recording_file
from registry.scenes import scene_problems
from registry.schemas import SCENE_BODY_EXAMPLES

router = APIRouter(tags=["preview"])
_SCENE = SCENE_BODY_EXAMPLES["stop line, crosswalk, signal, calibration"]["value"]
_JOB_EXAMPLE = {
    "job_id": "3f1c9a0e7b2d4c5e8f6a1b0c9d8e7f6a",
    "camera_id": "VLG-ENF-001",
    "recording": "redlight_cam_platte_chelton.mp4",
    "state": "done",
    "elapsed_s": 38.2,
    "error": None,
    "events": [
        {
            "index": 0,
            "type": "red_light",
            "time_s": 7.46,
            "track_id": 2,
            "frame_index": 179,
            "confidence": 0.92,
            "gost_code": "C12",
            "measured": {"red_for_s": 7.208, "object_class": "car"},
            "image": "/preview/3f1c9a0e7b2d4c5e8f6a1b0c9d8e7f6a/events/0.jpg",
        }
    ],
}


class PreviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"scene": _SCENE, "recording": "redlight_cam_platte_chelton.mp4", "start_s": 0}
            ]
        },
    )

    scene: SceneConfig
    recording: str = Field(min_length=1, max_length=255)
    start_s: float = Field(0.0, ge=0, le=86400, description="Report events from this time on.")
    end_s: float | None = Field(None, gt=0, le=86400, description="... up to this time.")


class PreviewEvent(BaseModel):
    index: int
    type: str
    time_s: float
    track_id: int | None
    frame_index: int
    confidence: float | None
    gost_code: str | None
    measured: dict[str, Any]
    image: str


class PreviewOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_JOB_EXAMPLE]})

    job_id: str
    camera_id: str
    recording: str
    state: Literal["running", "done", "failed"]
    elapsed_s: float
    error: str | None
    events: list[PreviewEvent]


def previews(request: Request) -> Previews:
    state = request.app.state
    if getattr(state, "previews", None) is None:
        state.previews = Previews(state.settings)
    return state.previews


def job_out(job: PreviewJob) -> PreviewOut:
    elapsed = job.elapsed_s if job.state != "running" else time.monotonic() - job.started
    return PreviewOut(
        job_id=job.id,
        camera_id=job.camera_id,
        recording=job.recording,
        state=job.state,  # type: ignore[arg-type]
        elapsed_s=round(elapsed, 1),
        error=job.error,
        events=[PreviewEvent(**e) for e in job.events],
    )


@router.post(
    "/cameras/{camera_id}/scenes/preview",
    response_model=PreviewOut,
    status_code=202,
    dependencies=[Depends(require(*EDITORS))],
    responses={**NOT_FOUND, 429: {"description": "A preview is already running."}},
)
def start_preview(
    camera_id: CameraId,
    body: PreviewIn,
    session: Annotated[Session, Depends(db)],
    settings: Annotated[Settings, Depends(settings_of)],
    jobs: Annotated[Previews, Depends(previews)],
) -> PreviewOut:
    """Run a recording against a draft scene in the background; poll GET /preview/{job_id}."""
    get_or_404(session, camera_id)
    problems = scene_problems(body.scene)
    if problems:
        raise RequestValidationError([{**p, "loc": ("body", "scene", *p["loc"])} for p in problems])
    clip = recording_file(settings, body.recording)
    from detectors.stills import describe

    info = describe(clip)
    if (info.width, info.height) != (body.scene.frame_width, body.scene.frame_height):
        raise HTTPException(
            422,
            f"{clip.name} is {info.width}x{info.height}, the scene "
            f"{body.scene.frame_width}x{body.scene.frame_height}",
        )
    try:
        job = jobs.start(camera_id, body.scene, clip, body.start_s, body.end_s)
    except PreviewBusy as exc:
        raise HTTPException(429, str(exc)) from None
    return job_out(job)


def _job(jobs: Previews, job_id: str) -> PreviewJob:
    job = jobs.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no preview {job_id}")
    return job


JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")]


@router.get(
    "/preview/{job_id}",
    response_model=PreviewOut,
    dependencies=[Depends(require(*EDITORS))],
)
def preview_state(job_id: JobId, jobs: Annotated[Previews, Depends(previews)]) -> PreviewOut:
    """A preview's state; when done, the events the draft scene would raise."""
    return job_out(_job(jobs, job_id))


@router.get(
    "/preview/{job_id}/events/{index}.jpg",
    dependencies=[Depends(require(*EDITORS))],
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def preview_image(
    job_id: JobId,
    index: Annotated[int, PathParam(ge=0, le=10_000)],
    jobs: Annotated[Previews, Depends(previews)],
) -> FileResponse:
    """The event's frame with the draft scene drawn on it."""
    job = _job(jobs, job_id)
    if index >= len(job.events):
        raise HTTPException(404, f"preview {job_id} has no event {index}")
    return FileResponse(job.image(index), media_type="image/jpeg")
