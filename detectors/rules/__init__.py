"""Traffic rules, one module per rule family, all over the same tracks-and-scene model."""

from __future__ import annotations

from contract.scene import SceneConfig
from detectors.rules.base import Finding, FrameContext, Rule
from detectors.rules.bus_lane import BusLaneRule
from detectors.rules.camera_view import CameraMovedRule, SceneChangedRule
from detectors.rules.congestion import CongestionRule
from detectors.rules.cycling import CyclistBannedRule
from detectors.rules.dwell import NoStoppingRule
from detectors.rules.junction_box import JunctionBoxRule
from detectors.rules.pedestrian_roadway import PedestrianOnRoadwayRule
from detectors.rules.red_light import RedLightRule, StopLineRule
from detectors.rules.solid_line import SolidLineRule
from detectors.rules.speeding import SpeedingRule
from detectors.rules.stopped_vehicle import StoppedVehicleRule
from detectors.rules.tamper import TamperRule
from detectors.rules.wrong_way import WrongWayRule
from detectors.rules.yield_pedestrians import YieldPedestriansRule

ALL_RULES: tuple[type[Rule], ...] = (
    RedLightRule,
    StopLineRule,
    SpeedingRule,
    WrongWayRule,
    SolidLineRule,
    BusLaneRule,
    JunctionBoxRule,
    YieldPedestriansRule,
    NoStoppingRule,
    StoppedVehicleRule,
    PedestrianOnRoadwayRule,
    CyclistBannedRule,
    CongestionRule,
    TamperRule,
    CameraMovedRule,
    SceneChangedRule,
)


def rules_for(scene: SceneConfig, fps: float) -> list[Rule]:
    return [rule(scene, fps) for rule in ALL_RULES if rule.applies(scene)]


__all__ = ["ALL_RULES", "Finding", "FrameContext", "Rule", "rules_for"]
