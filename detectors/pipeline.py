"""One camera's path from frame to published event: detect, track, judge, store, publish."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from contract.events import (
    BBox,
    DetectionEvent,
    DetectorInfo,
    EventData,
    EvidenceRef,
    EvidenceRole,
    TrackPoint,
    category_of,
    event_id,
)
from contract.scene import SceneConfig
from detectors.backends.base import Boxes, Tracker
from detectors.frame_ring import BufferedFrame, FrameRing
from detectors.judge import Judge
from detectors.outbox import Outbox
from detectors.rules import Finding
from detectors.sources import Frame
from detectors.tracks import Track
from dozor import __version__
from dozor.backoff import backoff_cap
from evidence.capture import EvidenceWriter, Rendering

log = logging.getLogger(__name__)

#: How much of the track around the finding an event carries as proof.
TRACK_PROOF_S = 3.0


@dataclass(frozen=True)
class CameraContext:
    camera_id: str
    scene_version: int
    scene: SceneConfig
    source_uri: str  # credentials already redacted
    source_id: str  # identifies the recording or stream session, for deterministic ids
    started_at: datetime
    fps: float
    #: The scene version's reference frame (BGR), when one was kept with it.
    reference: np.ndarray | None = None


@dataclass
class _Pending:
    finding: Finding
    track: Track | None
    ready_at: int  # frame index after which every evidence frame has been seen
    # Taken from the ring once ready, so a retry after a failed publish still has the
    # frames the rule chose even when the ring has moved on.
    frames: dict[EvidenceRole, BufferedFrame] | None = None
    window: list[BufferedFrame] | None = None
    # Once rendered, the frames are let go: the event (all but its evidence references)
    # and the encoded evidence are all a retry needs.
    draft: DetectionEvent | None = None
    rendering: Rendering | None = None
    failures: int = 0
    next_try_s: float = 0.0  # stream time before which a failed finding is not retried


def finding_id(camera: CameraContext, model_sha256: str, finding: Finding) -> str:
    """The event id of a finding: the same clip, scene version and model give the same id."""
    return event_id(
        camera.camera_id,
        camera.source_id,
        camera.scene_version,
        model_sha256,
        finding.type.value,
        finding.track_id,
        finding.frame_index,
    )


def with_evidence(draft: DetectionEvent, refs: list[EvidenceRef]) -> DetectionEvent:
    return draft.model_copy(update={"data": draft.data.model_copy(update={"evidence": refs})})


class Pipeline:
    #: Seconds of recent frames kept for evidence chosen before the finding.
    pre_roll_s = 3.0
    #: Longest a rule may ask to wait for frames after its finding.
    max_post_roll_s = 3.0
    #: Longest wait between two tries of a finding whose evidence or event failed.
    max_retry_backoff_s = 30.0

    def __init__(
        self,
        camera: CameraContext,
        tracker: Tracker,
        evidence: EvidenceWriter,
        publish: Callable[[DetectionEvent], None],
        worker_id: str,
        max_failed: int = 16,
        outbox: Outbox | None = None,
    ) -> None:
        self.camera = camera
        self.tracker = tracker
        self.evidence = evidence
        self.publish = publish
        self.judge = Judge(camera.scene, camera.fps, camera.reference)
        self.tracks = self.judge.tracks
        self.ring = FrameRing(self.pre_roll_s + self.max_post_roll_s, camera.fps)
        self.pending: list[_Pending] = []
        self.detector_info = DetectorInfo(
            model_name=tracker.model_name,
            model_sha256=tracker.model_sha256,
            software_version=__version__,
            worker_id=worker_id,
        )
        self.detections = 0
        self.max_failed = max_failed
        self.outbox = outbox
        #: Frames not judged while failed findings were at ``max_failed``.
        self.paused_frames = 0

    def process(self, frame: Frame, boxes: Boxes) -> list[DetectionEvent]:
        """Analyse one frame from the boxes the detector found in it (the caller detects,
        usually for many cameras in one batch); returns the events published meanwhile."""
        if self.paused:
            # Each failed finding holds seconds of frames: while S3 or Kafka stays down, judge
            # nothing new, so memory stays bounded and what was found is kept; the frames
            # skipped meanwhile are counted, like a stream's dropped frames.
            self.paused_frames += 1
            return self._publish_ready(frame)
        detections = self.tracker.update(boxes, frame.image)
        self.detections += len(detections)
        self.ring.add(frame, detections)
        limit = frame.index + round(self.max_post_roll_s * self.camera.fps)
        for finding in self.judge.step(frame.index, frame.offset_s, frame.image, detections):
            track = self.tracks.tracks.get(finding.track_id) if finding.track_id else None
            # Wait for the rule's frames and the end of the clip after the finding.
            clip_end = finding.frame_index + round(self.evidence.clip_post_s * self.camera.fps)
            wanted = max([*finding.evidence_frames.values(), clip_end])
            self.pending.append(_Pending(finding, track, min(wanted, limit)))
        return self._publish_ready(frame)

    @property
    def paused(self) -> bool:
        """Too many findings failed to publish: analysis waits until they are out."""
        return sum(1 for item in self.pending if item.failures) >= self.max_failed

    def flush(self) -> list[DetectionEvent]:
        """End of stream: publish what is pending with the frames there are."""
        return self._publish_ready(None)

    def _publish_ready(self, current: Frame | None) -> list[DetectionEvent]:
        """Store evidence and publish what is ready, oldest first.

        A finding leaves ``pending`` only once its event is published: when S3 or Kafka
        fails, the exception goes to the caller and the finding is tried again with the
        next frame (same id, same evidence), so an outage delays events but loses none.
        Its evidence is rendered once and, for live cameras, kept in the outbox until the
        event is out, so even a worker killed meanwhile loses none (detectors/outbox.py).
        Retries back off exponentially in stream time: storing on every frame would stall
        the camera's analysis while S3 is down.
        """
        events = []
        now = current.offset_s if current is not None else None
        for item in self.pending[:]:
            if current is not None and (item.ready_at > current.index or item.next_try_s > now):
                continue
            if item.rendering is None and (item.frames is None or item.window is None):
                item.frames, item.window = self._evidence_frames(item.finding)
            try:
                if item.draft is None or item.rendering is None:
                    item.draft, item.rendering = self._render(item)
                    item.frames = item.window = None
                    if self.outbox is not None:
                        self.outbox.put(item.draft, item.rendering)
                event = with_evidence(item.draft, self.evidence.put(item.rendering))
                self.publish(event)
            except Exception:
                item.failures += 1
                backoff = backoff_cap(item.failures - 1, 0.5, self.max_retry_backoff_s)
                item.next_try_s = (now or 0.0) + backoff
                raise
            self.pending.remove(item)
            if self.outbox is not None:
                self.outbox.remove(event)
            events.append(event)
        return events

    def _evidence_frames(
        self, finding: Finding
    ) -> tuple[dict[EvidenceRole, BufferedFrame], list[BufferedFrame]]:
        chosen = finding.evidence_frames or {EvidenceRole.OVERVIEW.value: finding.frame_index}
        fps = self.camera.fps
        window = self.ring.window(
            finding.frame_index - round(self.evidence.clip_pre_s * fps),
            finding.frame_index + round(self.evidence.clip_post_s * fps),
        )
        return {EvidenceRole(role): self.ring.nearest(i) for role, i in chosen.items()}, window

    def _render(self, item: _Pending) -> tuple[DetectionEvent, Rendering]:
        """The event without its evidence references, and its evidence encoded."""
        finding, track, cam = item.finding, item.track, self.camera
        assert item.frames is not None and item.window is not None
        eid = finding_id(cam, self.detector_info.model_sha256, finding)
        rendering = self.evidence.render(
            key_prefix=f"{cam.camera_id}/{cam.started_at:%Y/%m/%d}/{eid}",
            scene=cam.scene,
            caption=f"{cam.camera_id} {finding.type.value} {finding.gost_code or ''} "
            f"track {finding.track_id} t={finding.offset_s:.2f}s",
            track_id=finding.track_id,
            frames=item.frames,
            event_type=finding.type,
            window=item.window,
            fps=cam.fps,
            fallback_box=track.last.detection.bbox if track else None,
        )
        draft = DetectionEvent(
            id=eid,
            source=f"dozor://detector/{self.detector_info.worker_id}",
            type=finding.type,
            time=cam.started_at + timedelta(seconds=finding.offset_s),
            subject=cam.camera_id,
            data=EventData(
                category=category_of(finding.type),
                gost_code=finding.gost_code,
                scene_version=cam.scene_version,
                track_id=finding.track_id,
                object_class=track.object_class if track else None,
                confidence=finding.confidence,
                frame_index=finding.frame_index,
                offset_s=finding.offset_s,
                track=self._proof(track, finding.offset_s) if track else [],
                params=finding.params,
                measured={**finding.measured, **rendering.measured},
                detector=self.detector_info,
                source_uri=cam.source_uri,
            ),
        )
        return draft, rendering

    @staticmethod
    def _proof(track: Track, at_s: float) -> list[TrackPoint]:
        return [
            TrackPoint(
                frame_index=s.frame_index,
                offset_s=round(s.offset_s, 4),
                bbox=BBox(
                    x1=round(s.detection.bbox[0], 1),
                    y1=round(s.detection.bbox[1], 1),
                    x2=round(s.detection.bbox[2], 1),
                    y2=round(s.detection.bbox[3], 1),
                ),
            )
            for s in track.history
            if at_s - TRACK_PROOF_S <= s.offset_s <= at_s + TRACK_PROOF_S
        ]
