"""Track histories: what each tracked object did over the last seconds, and what it is.

A detector's class for one object flickers from frame to frame (a cyclist seen as
"person" in most frames and "bicycle" in a few; a car briefly called "truck"), and the
tracker passes that flicker on. A track's class is therefore a vote over its whole life,
weighted by the detector's confidence, not its latest frame. A person whose box overlaps
a bicycle or motorcycle track that moves with it is that vehicle's rider: never a
pedestrian, a cyclist (or motorcyclist) for the rules."""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field

from detectors.backends.base import Detection

TWO_WHEELERS = frozenset({"bicycle", "motorcycle"})


@dataclass(frozen=True)
class Sighting:
    frame_index: int
    offset_s: float
    detection: Detection


@dataclass
class Track:
    track_id: int
    history: deque[Sighting] = field(default_factory=lambda: deque(maxlen=600))
    #: Confidence-weighted class votes over the track's whole life.
    votes: dict[str, float] = field(default_factory=dict)
    #: Sightings per class over the track's whole life.
    seen_as: Counter[str] = field(default_factory=Counter)
    #: For a person: the two-wheeler class they ride, once seen riding; None on foot.
    rides: str | None = None
    #: The two-wheeler track they were last seen riding with.
    ridden_track: int | None = None
    #: Frames seen moving together with each two-wheeler track, until riding is settled.
    together: Counter[int] = field(default_factory=Counter)

    @property
    def last(self) -> Sighting:
        return self.history[-1]

    @property
    def label(self) -> str:
        """The class most of the track's life (by confidence) says it is."""
        return max(self.votes, key=self.votes.__getitem__)

    @property
    def object_class(self) -> str:
        """What events call it: a rider is a cyclist or motorcyclist, not a person."""
        return {"bicycle": "cyclist", "motorcycle": "motorcyclist"}.get(
            self.rides or "", self.label
        )

    @property
    def max_confidence(self) -> float:
        return max(s.detection.confidence for s in self.history)

    @property
    def on_foot(self) -> bool:
        return self.label == "person" and self.rides is None

    @property
    def cyclist(self) -> bool:
        """A bicycle, or the person riding one."""
        return self.label == "bicycle" or self.rides == "bicycle"

    def add(self, sighting: Sighting) -> None:
        self.history.append(sighting)
        label = sighting.detection.label
        self.votes[label] = self.votes.get(label, 0.0) + sighting.detection.confidence
        self.seen_as[label] += 1


class TrackBook:
    """Tracks by id; a track unseen for ``forget_s`` is dropped."""

    #: Frames a person must move together with a two-wheeler to be its rider; also how many
    #: of their own sightings as a two-wheeler make a person track a rider.
    ride_frames = 3
    #: Moving together: over ``ride_window_s`` both move (at least ride_min_speed box
    #: heights a second), the same way (within ride_max_angle_deg) and at a like speed
    #: (within a factor of ride_speed_ratio). Direction and a loose speed ratio, not a
    #: tight velocity match: a person's box bottom jumps with each stride.
    ride_window_s = 0.5
    ride_min_speed = 0.2
    ride_max_angle_deg = 45.0
    ride_speed_ratio = 2.0

    def __init__(self, forget_s: float = 10.0) -> None:
        self.forget_s = forget_s
        self.tracks: dict[int, Track] = {}

    def update(self, frame_index: int, offset_s: float, detections: list[Detection]) -> None:
        for det in detections:
            if det.track_id is None:
                continue
            track = self.tracks.setdefault(det.track_id, Track(det.track_id))
            track.add(Sighting(frame_index, offset_s, det))
        self._find_riders(frame_index)
        stale = [
            tid for tid, t in self.tracks.items() if offset_s - t.last.offset_s > self.forget_s
        ]
        for tid in stale:
            del self.tracks[tid]

    def seen_now(self, frame_index: int) -> list[Track]:
        return [t for t in self.tracks.values() if t.last.frame_index == frame_index]

    def _find_riders(self, frame_index: int) -> None:
        seen = self.seen_now(frame_index)
        wheels = [t for t in seen if t.label in TWO_WHEELERS]
        for person in (t for t in seen if t.label == "person"):
            if person.rides is None:
                # The detector itself saw this box as a two-wheeler more than by chance.
                own = max((person.seen_as[k], k) for k in TWO_WHEELERS)
                if own[0] >= self.ride_frames:
                    person.rides = own[1]
            for wheel in wheels:
                if not self._together(person, wheel):
                    continue
                person.ridden_track = wheel.track_id
                person.together[wheel.track_id] += 1
                if person.together[wheel.track_id] >= self.ride_frames:
                    person.rides = person.rides or wheel.label

    def _together(self, person: Track, wheel: Track) -> bool:
        """The person's ground point lies over the two-wheeler's box (a rider's feet are at
        or a little below its top half) and both move the same way at a like speed over
        the last half second: a walker passing a parked bicycle does not ride it."""
        px, py = person.last.detection.anchor
        x1, y1, x2, y2 = wheel.last.detection.bbox
        if not (x1 <= px <= x2 and y1 <= py <= y2 + 0.3 * (y2 - y1)):
            return False
        min_speed = self.ride_min_speed * _height(person)
        a = _velocity(person, self.ride_window_s)
        b = _velocity(wheel, self.ride_window_s)
        if a is None or b is None:
            # One of them just appeared: overlapping the other, moving, is all there is.
            known = a or b
            return known is not None and math.hypot(*known) >= min_speed
        sa, sb = math.hypot(*a), math.hypot(*b)
        if min(sa, sb) < min_speed or max(sa, sb) > self.ride_speed_ratio * min(sa, sb):
            return False
        cos = (a[0] * b[0] + a[1] * b[1]) / (sa * sb)
        return cos >= math.cos(math.radians(self.ride_max_angle_deg))


def _height(track: Track) -> float:
    _, y1, _, y2 = track.last.detection.bbox
    return max(y2 - y1, 1.0)


def _velocity(track: Track, window_s: float) -> tuple[float, float] | None:
    """Anchor motion in pixels per second over about the last window_s."""
    last = track.last
    first = next(s for s in track.history if last.offset_s - s.offset_s <= window_s)
    span = last.offset_s - first.offset_s
    if span <= 0:
        return None
    (x0, y0), (x1, y1) = first.detection.anchor, last.detection.anchor
    return ((x1 - x0) / span, (y1 - y0) / span)
