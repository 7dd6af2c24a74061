"""Stop line on red (C13) beside red-light running (C12): which one a crossing becomes."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import SceneConfig
from contract.signals import SignalColour
from detectors.rules.red_light import RedLightRule, StopLineRule
from tests.unit.synthetic import feed, moving, still
from tests.unit.test_contract import sample_scene

RED = {"sig-1": SignalColour.RED}


def test_stopping_just_past_the_line_on_red_is_c13_not_c12() -> None:
    frames = moving(1, (250, 340), (250, 290), 1.0) + still(1, 250, 290, 2.0)
    c13 = feed(StopLineRule(sample_scene(), 10), frames, signals=RED)
    assert [(f.type, f.gost_code, f.track_id) for f in c13] == [(EventType.STOP_LINE, "C13", 1)]
    assert c13[0].measured["stopped_for_s"] >= 1.0
    assert c13[0].evidence_frames["before"] < c13[0].frame_index
    assert feed(RedLightRule(sample_scene(), 10), frames, signals=RED) == []


def test_driving_through_is_c12_not_c13() -> None:
    frames = moving(1, (250, 340), (250, 150), 2.0) + still(1, 250, 150, 2.0)
    assert feed(StopLineRule(sample_scene(), 10), frames, signals=RED) == []
    assert len(feed(RedLightRule(sample_scene(), 10), frames, signals=RED)) == 1


def test_waiting_behind_the_line_is_nothing() -> None:
    frames = moving(1, (250, 340), (250, 310), 1.0) + still(1, 250, 310, 3.0)
    assert feed(StopLineRule(sample_scene(), 10), frames, signals=RED) == []


def test_stopping_past_the_line_on_green_is_nothing() -> None:
    frames = moving(1, (250, 340), (250, 290), 1.0) + still(1, 250, 290, 2.0)
    assert (
        feed(StopLineRule(sample_scene(), 10), frames, signals={"sig-1": SignalColour.GREEN}) == []
    )


def test_standing_in_the_intersection_after_crossing_on_red_is_not_c13() -> None:
    raw = sample_scene().model_dump()
    raw["zones"] = [
        {"id": "x", "kind": "intersection", "polygon": [[0, 0], [640, 0], [640, 298], [0, 298]]}
    ]
    junction = SceneConfig.model_validate(raw)
    frames = moving(1, (250, 340), (250, 290), 1.0) + still(1, 250, 290, 2.0)
    assert feed(StopLineRule(junction, 10), frames, signals=RED) == []
