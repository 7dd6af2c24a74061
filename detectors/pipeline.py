"""One camera's path from frame to published event: detect, track, judge, store, publish."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from contract.events import (
    BBox,
    DetectionEvent,
    DetectorInfo,
    EventData,
    EvidenceRole,
    TrackPoint,
    category_of,
    event_id,
)
from contract.scene import SceneConfig
from detectors.backends.base import DetectorBackend
from detectors.evidence import EvidenceWriter
from detectors.frame_ring import FrameRing
from detectors.rules import Finding, FrameContext, rules_for
from detectors.signal_state import SignalMonitor
from detectors.sources import Frame
from detectors.tracks import Track, TrackBook
from dozor import __version__

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


@dataclass
class _Pending:
    finding: Finding
    track: Track | None
    ready_at: int  # frame index after which every evidence frame has been seen


class Pipeline:
    #: Seconds of recent frames kept for evidence chosen before the finding.
    pre_roll_s = 3.0
    #: Longest a rule may ask to wait for frames after its finding.
    max_post_roll_s = 3.0

    def __init__(
        self,
        camera: CameraContext,
        backend: DetectorBackend,
        evidence: EvidenceWriter,
        publish: Callable[[DetectionEvent], None],
        worker_id: str,
    ) -> None:
        self.camera = camera
        self.backend = backend
        self.evidence = evidence
        self.publish = publish
        self.tracks = TrackBook()
        self.ring = FrameRing(self.pre_roll_s + self.max_post_roll_s, camera.fps)
        self.signals = SignalMonitor(camera.scene.signals, camera.fps)
        self.rules = rules_for(camera.scene, camera.fps)
        self.pending: list[_Pending] = []
        self.detector_info = DetectorInfo(
            model_name=backend.model_name,
            model_sha256=backend.model_sha256,
            software_version=__version__,
            worker_id=worker_id,
        )
        self.detections = 0

    def process(self, frame: Frame) -> list[DetectionEvent]:
        """Analyse one frame; returns the events published while handling it."""
        detections = self.backend.track(frame.image)
        self.detections += len(detections)
        self.ring.add(frame, detections)
        self.tracks.update(frame.index, frame.offset_s, detections)
        states = self.signals.update(frame.image, frame.offset_s)
        ctx = FrameContext(
            frame.index,
            frame.offset_s,
            frame.image,
            self.tracks,
            states,
            dict(self.signals.since),
        )
        limit = frame.index + round(self.max_post_roll_s * self.camera.fps)
        for rule in self.rules:
            for finding in rule.update(ctx):
                track = self.tracks.tracks.get(finding.track_id) if finding.track_id else None
                wanted = max(finding.evidence_frames.values(), default=frame.index)
                self.pending.append(_Pending(finding, track, min(wanted, limit)))
        return self._publish_ready(frame.index)

    def flush(self) -> list[DetectionEvent]:
        """End of stream: publish what is pending with the frames there are."""
        return self._publish_ready(None)

    def _publish_ready(self, current: int | None) -> list[DetectionEvent]:
        ready = [p for p in self.pending if current is None or p.ready_at <= current]
        self.pending = [p for p in self.pending if p not in ready]
        events = []
        for item in ready:
            event = self._event(item)
            self.publish(event)
            events.append(event)
        return events

    def _event(self, item: _Pending) -> DetectionEvent:
        finding, track, cam = item.finding, item.track, self.camera
        eid = event_id(
            cam.camera_id,
            cam.source_id,
            cam.scene_version,
            self.detector_info.model_sha256,
            finding.type.value,
            finding.track_id,
            finding.frame_index,
        )
        chosen = finding.evidence_frames or {EvidenceRole.OVERVIEW.value: finding.frame_index}
        refs = self.evidence.capture(
            key_prefix=f"{cam.camera_id}/{cam.started_at:%Y/%m/%d}/{eid}",
            scene=cam.scene,
            caption=f"{cam.camera_id} {finding.type.value} {finding.gost_code or ''} "
            f"track {finding.track_id} t={finding.offset_s:.2f}s",
            track_id=finding.track_id,
            frames={EvidenceRole(role): self.ring.nearest(i) for role, i in chosen.items()},
            fallback_box=track.last.detection.bbox if track else None,
        )
        return DetectionEvent(
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
                object_class=track.label if track else None,
                confidence=finding.confidence,
                frame_index=finding.frame_index,
                offset_s=finding.offset_s,
                track=self._proof(track, finding.offset_s) if track else [],
                params=finding.params,
                measured=finding.measured,
                evidence=refs,
                detector=self.detector_info,
                source_uri=cam.source_uri,
            ),
        )

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
