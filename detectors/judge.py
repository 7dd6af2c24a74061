"""Tracks, signal state and rules over one camera's frames: the part of the pipeline that
decides, shared by live workers, replay (both then store evidence and publish) and eval.

Every frame is first registered against the scene's reference frame
(detectors/registration.py): detections and the frame are carried into the scene's pixels,
and while the frame no longer matches the scene only the rules about the camera's view
itself run, so nothing is judged against geometry that is not in the picture."""

from __future__ import annotations

import numpy as np

from contract.scene import SceneConfig
from detectors.backends.base import Detection
from detectors.registration import Registration
from detectors.rules import Finding, FrameContext, Rule, rules_for
from detectors.signal_state import SignalMonitor
from detectors.tracks import TrackBook


class Judge:
    def __init__(self, scene: SceneConfig, fps: float, reference: np.ndarray | None = None) -> None:
        self.tracks = TrackBook()
        self.signals = SignalMonitor(scene.signals, fps)
        self.rules: list[Rule] = rules_for(scene, fps)
        self.registration = Registration(reference)

    def step(
        self, index: int, offset_s: float, image: np.ndarray, detections: list[Detection]
    ) -> list[Finding]:
        view = self.registration.update(image, offset_s, [d.bbox for d in detections])
        rules = self.rules
        if view.matched:
            image = self.registration.warp(image)
            self.tracks.update(index, offset_s, self.registration.carry(detections))
            states = self.signals.update(image, offset_s)
        else:
            states = {}
            rules = [rule for rule in self.rules if not rule.needs_scene]
        ctx = FrameContext(
            index, offset_s, image, self.tracks, states, dict(self.signals.since), view
        )
        return [finding for rule in rules for finding in rule.update(ctx)]
