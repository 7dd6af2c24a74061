"""Two shapes many zone rules share: being in a zone too long, and standing in one too long."""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from contract.scene import SceneConfig, Zone, ZoneKind
from detectors.geometry import inside
from detectors.rules.base import (
    VEHICLES,
    Finding,
    FrameContext,
    Rule,
    height,
    smoothed_anchor,
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

    Standing is checked against the box's appearance too: a far-off, small track may stay
    put while the tracker hands its id from one passing car to the next."""

    zone_kinds: ClassVar[tuple[ZoneKind, ...]]
    #: Allowed standing time where the zone sets none; None: only zones that set one count.
    default_s: ClassVar[float | None] = None
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
        self.reported: set[int] = set()
        # track -> (standing since, appearance checked from, appearance then)
        self.looks: dict[int, tuple[float, float, np.ndarray]] = {}

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return any(
            (z.max_dwell_s or cls.default_s) is not None
            for kind in cls.zone_kinds
            for z in scene.zones_of(kind)
        )

    def exempt(self, ctx: FrameContext, track: Track, zone: Zone) -> bool:
        """Whether this standing is normal here (e.g. queueing at a red)."""
        return False

    def update(self, ctx: FrameContext) -> list[Finding]:
        findings = []
        for track in ctx.tracks.seen_now(ctx.index):
            if track.label not in VEHICLES or track.track_id in self.reported:
                continue
            anchor = smoothed_anchor(track)
            zone = next((z for z in self.zones if inside(anchor, z.polygon)), None)
            if zone is None or self.exempt(ctx, track, zone):
                continue
            allowed = zone.max_dwell_s or self.default_s
            since = still_since(track, self.still_fraction * height(track))
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
                        "still_fraction": self.still_fraction,
                        "min_same_look": self.min_same_look,
                    },
                    measured={
                        "standing_since_s": round(since, 3),
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
            anchor = smoothed_anchor(track)
            zone = next((z for z in self.zones if inside(anchor, z.polygon)), None)
            if zone is None or any(inside(anchor, z.polygon) for z in self.excluded):
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
