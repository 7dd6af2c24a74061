"""Two shapes many zone rules share: being in a zone too long, and standing in one too long."""

from __future__ import annotations

import math
from typing import ClassVar

import cv2
import numpy as np

from contract.scene import SceneConfig, Zone, ZoneKind
from detectors.geometry import bottom_share
from detectors.rules.base import (
    VEHICLES,
    Finding,
    FrameContext,
    Rule,
    height,
    smoothed_box,
    still_since,
)
from detectors.tracks import Track


def appearance(image: np.ndarray, bbox: tuple[float, float, float, float]) -> np.ndarray:
    """A small normalised grey patch of the box, to tell one vehicle from another."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (round(v) for v in bbox)
    crop = image[max(y1, 0) : min(max(y2, y1 + 1), h), max(x1, 0) : min(max(x2, x1 + 1), w)]
    if crop.size == 0:
        return np.zeros(256, np.float32)
    patch = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), (16, 16)).astype(np.float32)
    patch = (patch - patch.mean()).ravel()
    return patch / (float(np.linalg.norm(patch)) or 1.0)


class ZoneStandingRule(Rule):
    """A vehicle standing still inside one of the rule's zones for longer than allowed:
    the zone's max_dwell_s, else the rule's default.

    A vehicle is in a zone when at least ``min_share`` of its box's bottom edge (where it
    meets the road, median of the last frames) lies inside: a car waiting with a corner
    a few pixels over a zone's edge is not in it. Standing is checked against the box's
    appearance too: a far-off, small track may stay put while the tracker hands its id
    from one passing car to the next."""

    zone_kinds: ClassVar[tuple[ZoneKind, ...]]
    #: Zone kinds where standing is allowed; a vehicle in one of them is never judged.
    allowed_kinds: ClassVar[frozenset[ZoneKind]] = frozenset()
    #: Allowed standing time where the zone sets none; None: only zones that set one count.
    default_s: ClassVar[float | None] = None
    #: Share of the box's bottom edge that must lie inside a zone.
    min_share = 0.5
    #: Standing means the smoothed anchor stays within this fraction of the box height.
    still_fraction = 0.1
    #: Correlation of the box's patch with the one seen when standing began.
    min_same_look = 0.5

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        # Zones in the order of zone_kinds: the first that holds a vehicle judges it.
        self.zones = [
            z
            for kind in self.zone_kinds
            for z in scene.zones_of(kind)
            if (z.max_dwell_s or self.default_s) is not None
        ]
        self.allowed = [z for z in scene.zones if z.kind in self.allowed_kinds]
        self.reported: set[int] = set()
        # track -> (standing since, appearance checked from, appearance then)
        self.looks: dict[int, tuple[float, float, np.ndarray]] = {}
        # track -> when it was last excused (queueing): its clock starts after that.
        self.excused: dict[int, float] = {}

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return any(
            (z.max_dwell_s or cls.default_s) is not None
            for kind in cls.zone_kinds
            for z in scene.zones_of(kind)
        )

    def prepare(self, ctx: FrameContext) -> None:
        """Called once per frame before any vehicle is judged."""

    def exempt(self, ctx: FrameContext, track: Track, zone: Zone) -> str | None:
        """Why this standing is normal here (e.g. queueing at a red), or None."""
        return None

    def still_radius(self, ctx: FrameContext, track: Track) -> float:
        """How far a standing vehicle's position may wander: a share of its box height,
        plus, while frames are carried into the scene (the camera moved), twice the
        registration's residual: two positions are compared, each carried with that error."""
        carried = 2 * ctx.view.residual_px if ctx.view is not None else 0.0
        return self.still_fraction * height(track) + carried

    def zone_of(self, track: Track) -> Zone | None:
        box = smoothed_box(track)
        if any(bottom_share(box, z.polygon) >= self.min_share for z in self.allowed):
            return None
        return next((z for z in self.zones if bottom_share(box, z.polygon) >= self.min_share), None)

    def update(self, ctx: FrameContext) -> list[Finding]:
        findings = []
        self.prepare(ctx)
        for track in ctx.tracks.seen_now(ctx.index):
            if track.label not in VEHICLES or track.track_id in self.reported:
                continue
            zone = self.zone_of(track)
            if zone is None:
                continue
            if self.exempt(ctx, track, zone) is not None:
                self.excused[track.track_id] = ctx.offset_s
                self.looks.pop(track.track_id, None)
                continue
            allowed = zone.max_dwell_s or self.default_s
            since = max(
                still_since(track, self.still_radius(ctx, track)),
                self.excused.get(track.track_id, -math.inf),
            )
            look = appearance(ctx.image, track.last.detection.bbox)
            began, checked_from, then = self.looks.get(track.track_id, (None, since, look))
            if began != since:
                checked_from, then = since, look
            self.looks[track.track_id] = (since, checked_from, then)
            if ctx.offset_s - checked_from < allowed:  # type: ignore[operator]
                continue
            similarity = float(look @ then)
            if similarity < self.min_same_look:
                self.looks[track.track_id] = (since, ctx.offset_s, look)
                continue
            since = checked_from
            self.reported.add(track.track_id)
            findings.append(
                self.finding(
                    ctx.index,
                    ctx.offset_s,
                    track=track,
                    params={
                        "zone": zone.id,
                        "zone_kind": zone.kind.value,
                        "max_dwell_s": allowed,  # type: ignore[dict-item]
                        "min_share": self.min_share,
                        "still_fraction": self.still_fraction,
                        "min_same_look": self.min_same_look,
                    },
                    measured={
                        "standing_since_s": round(since, 3),
                        "stood_s": round(ctx.offset_s - since, 2),
                        "zone_share": round(bottom_share(smoothed_box(track), zone.polygon), 2),
                        "same_look": round(similarity, 3),
                    },
                    before_frame=ctx.index - round((ctx.offset_s - since) * self.fps),
                )
            )
        return findings


class ZonePresenceRule(Rule):
    """An object of the rule's classes inside one of its zones (and outside the excluded
    ones) for at least min_s without a break."""

    zone_kinds: ClassVar[tuple[ZoneKind, ...]]
    excluded_kinds: ClassVar[tuple[ZoneKind, ...]] = ()
    min_s: ClassVar[float]

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.zones = [z for kind in self.zone_kinds for z in scene.zones_of(kind)]
        self.excluded = [z for kind in self.excluded_kinds for z in scene.zones_of(kind)]
        self.entered: dict[int, tuple[int, float, str]] = {}
        self.reported: set[int] = set()

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return any(scene.zones_of(kind) for kind in cls.zone_kinds)

    def candidates(self, ctx: FrameContext) -> list[Track]:
        raise NotImplementedError

    def update(self, ctx: FrameContext) -> list[Finding]:
        findings = []
        for track in self.candidates(ctx):
            if track.track_id in self.reported:
                continue
            box = smoothed_box(track)
            zone = next((z for z in self.zones if bottom_share(box, z.polygon) >= 0.5), None)
            if zone is None or any(bottom_share(box, z.polygon) >= 0.5 for z in self.excluded):
                self.entered.pop(track.track_id, None)
                continue
            frame, since, _ = self.entered.setdefault(
                track.track_id, (ctx.index, ctx.offset_s, zone.id)
            )
            if ctx.offset_s - since < self.min_s:
                continue
            self.reported.add(track.track_id)
            findings.append(
                self.finding(
                    ctx.index,
                    ctx.offset_s,
                    track=track,
                    params={"zone": zone.id, "min_s": self.min_s},
                    measured={"inside_since_s": round(since, 3)},
                    before_frame=frame,
                )
            )
        return findings
