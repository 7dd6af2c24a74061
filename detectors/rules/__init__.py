"""Traffic rules, one module per rule family, all over the same tracks-and-scene model."""

from __future__ import annotations

from contract.scene import SceneConfig
from detectors.rules.base import Finding, FrameContext, Rule
from detectors.rules.red_light import RedLightRule

ALL_RULES: tuple[type[Rule], ...] = (RedLightRule,)


def rules_for(scene: SceneConfig, fps: float) -> list[Rule]:
    return [rule(scene, fps) for rule in ALL_RULES if rule.applies(scene)]


__all__ = ["ALL_RULES", "Finding", "FrameContext", "Rule", "rules_for"]
