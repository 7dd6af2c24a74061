"""Batch replay of a recorded video through the same pipeline live cameras use."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from detectors.backends import UltralyticsBackend
from detectors.errors import DetectorInputError
from detectors.evidence import EvidenceWriter
from detectors.pipeline import CameraContext, Pipeline
from detectors.publisher import EventPublisher
from detectors.sources import FileSource
from detectors.tracking import CameraTracker
from dozor import bus
from dozor.settings import Settings
from dozor.storage import ObjectStore
from registry.db import session_scope
from registry.models import Camera
from registry.scenes import NoSceneError, current_scene

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplaySummary:
    camera_id: str
    frames: int
    seconds: float
    detections: int
    events: int
    event_ids: tuple[str, ...]

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def load_camera(settings: Settings, camera_id: str, source: FileSource) -> CameraContext:
    with session_scope(settings.db_url) as session:
        if session.get(Camera, camera_id) is None:
            raise DetectorInputError(f"unknown camera id: {camera_id}")
        try:
            version, scene = current_scene(session, camera_id)
        except NoSceneError as exc:
            raise DetectorInputError(str(exc)) from exc
    if (scene.frame_width, scene.frame_height) != (source.width, source.height):
        raise DetectorInputError(
            f"camera {camera_id}'s scene is drawn for {scene.frame_width}x{scene.frame_height} "
            f"but the video is {source.width}x{source.height}"
        )
    return CameraContext(
        camera_id=camera_id,
        scene_version=version,
        scene=scene,
        source_uri=source.uri,
        source_id=source.content_hash(),
        started_at=source.started_at,
        fps=source.fps,
    )


def replay(
    settings: Settings, video: Path, camera_id: str, *, progress: bool = True
) -> ReplaySummary:
    # Everything that can be wrong with the input is checked before anything is written.
    source = FileSource(video)
    camera = load_camera(settings, camera_id, source)
    backend = CameraTracker(UltralyticsBackend.from_settings(settings), source.fps)
    store = ObjectStore(settings)
    store.ensure()
    bus.ensure_topics(settings)
    publisher = EventPublisher(bus.producer(settings))
    pipeline = Pipeline(
        camera, backend, EvidenceWriter(store), publisher.publish, settings.worker_id
    )
    event_ids: list[str] = []
    frames = 0
    start = time.perf_counter()
    columns = (
        TextColumn(f"[bold]{camera_id}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[events]} events"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, disable=not progress, transient=False) as bar:
            task = bar.add_task("replay", total=source.frame_count, events=0)
            for frame in source.frames():
                event_ids += [e.id for e in pipeline.process(frame)]
                frames += 1
                bar.update(task, advance=1, events=len(event_ids))
            event_ids += [e.id for e in pipeline.flush()]
    finally:
        publisher.close()
    summary = ReplaySummary(
        camera_id=camera_id,
        frames=frames,
        seconds=time.perf_counter() - start,
        detections=pipeline.detections,
        events=len(event_ids),
        event_ids=tuple(event_ids),
    )
    log.info(
        "replay done: %d frames, %.1f fps, %d detections, %d events",
        summary.frames,
        summary.fps,
        summary.detections,
        summary.events,
        extra={"camera_id": camera_id},
    )
    return summary
