"""Batch replay of a recorded video through the same pipeline live cameras use."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from contract.events import DetectionEvent
from detectors.backends import Boxes, DetectorBackend, backend_from_settings
from detectors.boundary import RegistryLink
from detectors.errors import DetectorInputError
from detectors.pipeline import CameraContext, Pipeline
from detectors.publisher import EventPublisher
from detectors.sources import FileSource, Frame
from detectors.stills import reference_image
from detectors.tracking import CameraTracker
from dozor import bus
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.capture import EvidenceWriter
from evidence.signing import load_detector_signer

log = logging.getLogger(__name__)

#: Frames of a recording detected in one call: the backend overlaps their inference (an
#: OpenVINO async queue uses every core), while tracking still goes frame by frame.
DETECT_AHEAD = 4


def detected(
    frames: Iterable[Frame], detector: DetectorBackend, ahead: int = DETECT_AHEAD
) -> Iterator[tuple[Frame, Boxes]]:
    """Each frame of a recording with its boxes, detected ``ahead`` frames at a time."""
    it = iter(frames)
    while group := list(islice(it, ahead)):
        yield from zip(group, detector.detect([f.image for f in group]), strict=True)


@dataclass(frozen=True)
class ReplaySummary:
    camera_id: str
    frames: int
    seconds: float
    detections: int
    events: int
    event_ids: tuple[str, ...]
    #: The published events themselves, for the closing table.
    published: tuple[DetectionEvent, ...] = ()

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def load_camera(link: RegistryLink, camera_id: str, source: FileSource) -> CameraContext:
    try:
        version, scene = link.scene(camera_id)
    except LookupError as exc:
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
        source_id=source.source_id(),
        started_at=source.started_at,
        fps=source.fps,
        reference=reference_image(
            link.reference_frame(camera_id, version), scene.frame_width, scene.frame_height
        ),
    )


def replay(
    settings: Settings,
    video: Path,
    camera_id: str,
    *,
    link: RegistryLink,
    progress: bool = True,
    every_frame: bool = False,
) -> ReplaySummary:
    """Replay one file as camera ``camera_id``, at the live analysis rate unless
    ``every_frame``."""
    # Everything that can be wrong with the input is checked before anything is written.
    source = FileSource(video, analysis_fps=None if every_frame else settings.analysis_fps)
    camera = load_camera(link, camera_id, source)
    detector = backend_from_settings(settings)
    tracker = CameraTracker(detector, source.fps)
    publisher = EventPublisher(bus.producer(settings), load_detector_signer(settings))
    pipeline = Pipeline(
        camera,
        tracker,
        EvidenceWriter(ObjectStore(settings)),
        publisher.publish,
        settings.worker_id,
    )
    published: list[DetectionEvent] = []
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
            for frame, boxes in detected(source.frames(), detector):
                published += pipeline.process(frame, boxes)
                frames += 1
                bar.update(task, advance=1, events=len(published))
            published += pipeline.flush()
    finally:
        publisher.close()
    summary = ReplaySummary(
        camera_id=camera_id,
        frames=frames,
        seconds=time.perf_counter() - start,
        detections=pipeline.detections,
        events=len(published),
        event_ids=tuple(e.id for e in published),
        published=tuple(published),
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
