"""Track histories: what each tracked object did over the last seconds."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from detectors.backends.base import Detection


@dataclass(frozen=True)
class Sighting:
    frame_index: int
    offset_s: float
    detection: Detection


@dataclass
class Track:
    track_id: int
    label: str
    history: deque[Sighting] = field(default_factory=lambda: deque(maxlen=600))

    @property
    def last(self) -> Sighting:
        return self.history[-1]

    @property
    def max_confidence(self) -> float:
        return max(s.detection.confidence for s in self.history)


class TrackBook:
    """Tracks by id; a track unseen for ``forget_s`` is dropped."""

    def __init__(self, forget_s: float = 10.0) -> None:
        self.forget_s = forget_s
        self.tracks: dict[int, Track] = {}

    def update(self, frame_index: int, offset_s: float, detections: list[Detection]) -> None:
        for det in detections:
            if det.track_id is None:
                continue
            track = self.tracks.get(det.track_id)
            if track is None:
                track = self.tracks[det.track_id] = Track(det.track_id, det.label)
            track.history.append(Sighting(frame_index, offset_s, det))
        stale = [
            tid for tid, t in self.tracks.items() if offset_s - t.last.offset_s > self.forget_s
        ]
        for tid in stale:
            del self.tracks[tid]

    def seen_now(self, frame_index: int) -> list[Track]:
        return [t for t in self.tracks.values() if t.last.frame_index == frame_index]
