"""Batch replay of a recorded video through the same pipeline live cameras use."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
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
        # The stated start is part of what every event claims (its time): the recording
        # replayed with another start is another set of events, not a forgery of the first.
        source_id=f"{source.source_id()}@{source.started_at.isoformat()}",
        started_at=source.started_at,
        fps=source.fps,
        reference=reference_image(
            link.reference_frame(camera_id, version), scene.frame_width, scene.frame_height
        ),
    )


#: ``on_frame(done, total, events)``: frames analysed so far, of how many (None: unknown),
#: and the events published meanwhile.
FrameCallback = Callable[[int, int | None, int], None]


class FileReplay:
    """One recording, checked and ready: the video opens, the camera and its scene exist and
    the model is loaded; nothing is written before :meth:`run`."""

    def __init__(
        self,
        settings: Settings,
        video: Path,
        camera_id: str,
        *,
        link: RegistryLink,
        every_frame: bool = False,
        started_at: datetime | None = None,
    ) -> None:
        self.settings = settings
        self.source = FileSource(
            video,
            analysis_fps=None if every_frame else settings.analysis_fps,
            started_at=started_at,
        )
        self.camera = load_camera(link, camera_id, self.source)
        self.detector = backend_from_settings(settings)

    def run(self, on_frame: FrameCallback | None = None) -> ReplaySummary:
        """Detect, judge, store evidence and publish, frame by frame, to the end of the file."""
        settings, camera = self.settings, self.camera
        tracker = CameraTracker(self.detector, self.source.fps)
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
        try:
            for frame, boxes in detected(self.source.frames(), self.detector):
                published += pipeline.process(frame, boxes)
                frames += 1
                if on_frame is not None:
                    on_frame(frames, self.source.frame_count, len(published))
            published += pipeline.flush()
        finally:
            publisher.close()
        summary = ReplaySummary(
            camera_id=camera.camera_id,
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
            extra={"camera_id": camera.camera_id},
        )
        return summary


def replay(
    settings: Settings,
    video: Path,
    camera_id: str,
    *,
    link: RegistryLink,
    progress: bool = True,
    every_frame: bool = False,
    started_at: datetime | None = None,
) -> ReplaySummary:
    """Replay one file as camera ``camera_id``, at the live analysis rate unless
    ``every_frame``; event times count from ``started_at`` (default: the file's mtime)."""
    # Everything that can be wrong with the input is checked before anything is written.
    job = FileReplay(
        settings, video, camera_id, link=link, every_frame=every_frame, started_at=started_at
    )
    columns = (
        TextColumn(f"[bold]{camera_id}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[events]} events"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task("replay", total=job.source.frame_count, events=0)
        return job.run(lambda done, total, events: bar.update(task, completed=done, events=events))
