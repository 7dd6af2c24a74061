"""Tracks, signal state and rules over one camera's frames: the part of the pipeline that
decides, shared by live workers, replay (both then store evidence and publish) and eval."""

from __future__ import annotations

import numpy as np

from contract.scene import SceneConfig
from detectors.backends.base import Detection
from detectors.rules import Finding, FrameContext, Rule, rules_for
from detectors.signal_state import SignalMonitor
from detectors.tracks import TrackBook


class Judge:
    def __init__(self, scene: SceneConfig, fps: float) -> None:
        self.tracks = TrackBook()
        self.signals = SignalMonitor(scene.signals, fps)
        self.rules: list[Rule] = rules_for(scene, fps)

    def step(
        self, index: int, offset_s: float, image: np.ndarray, detections: list[Detection]
    ) -> list[Finding]:
        self.tracks.update(index, offset_s, detections)
        states = self.signals.update(image, offset_s)
        ctx = FrameContext(index, offset_s, image, self.tracks, states, dict(self.signals.since))
        return [finding for rule in self.rules for finding in rule.update(ctx)]
