"""The camera's view against its scene (incidents): ``camera_moved`` when the frame has
shifted from the scene's reference frame beyond a tolerance (the geometry is still carried
through the transform, but the operator should re-check or redraw the scene), and
``scene_changed`` as soon as the frame no longer matches the scene at all (a hard cut, a
camera turned to another place, tampering): from then on no rule judges the scene until
it matches again."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import SceneConfig
from detectors.rules.base import Finding, FrameContext, Rule


class CameraMovedRule(Rule):
    event_type = EventType.CAMERA_MOVED
    needs_scene = False
    #: Tolerated shift of the frame's corners, as a share of the frame's width.
    tolerance_fraction = 0.05
    #: Back within this share of the tolerance re-arms the rule.
    rearm_fraction = 0.5

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.tolerance_px = self.tolerance_fraction * scene.frame_width
        self.active = False

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return True

    def update(self, ctx: FrameContext) -> list[Finding]:
        view = ctx.view
        if view is None or not view.matched:
            return []
        if self.active:
            self.active = view.shift_px > self.rearm_fraction * self.tolerance_px
            return []
        if view.shift_px <= self.tolerance_px:
            return []
        self.active = True
        return [
            self.finding(
                ctx.index,
                ctx.offset_s,
                track=None,
                confidence=1.0,
                params={"tolerance_px": round(self.tolerance_px, 1)},
                measured={
                    "shift_px": round(view.shift_px, 1),
                    "match_quality": round(view.quality, 3),
                },
            )
        ]


class SceneChangedRule(Rule):
    event_type = EventType.SCENE_CHANGED
    needs_scene = False

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.active = False

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return True

    def update(self, ctx: FrameContext) -> list[Finding]:
        view = ctx.view
        if view is None or view.matched:
            self.active = False
            return []
        if self.active:
            return []
        self.active = True
        since = view.lost_since_s if view.lost_since_s is not None else ctx.offset_s
        return [
            self.finding(
                ctx.index,
                ctx.offset_s,
                track=None,
                confidence=1.0,
                params={},
                measured={
                    "match_quality": round(view.quality, 3),
                    "unmatched_since_s": round(since, 2),
                },
                before_frame=ctx.index - round((ctx.offset_s - since + 0.5) * self.fps),
            )
        ]
