"""The rules on the real clips with the real model: floors on precision and recall, no false
alarms where the hand labels say nothing happens, and the same events twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract.events import EventType
from detectors.eval import ClipResult, Evaluator, total
from dozor.settings import Settings
from tests.conftest import media_dir, model_path

pytestmark = pytest.mark.integration

EMPTY_CLIPS = (
    "crosswalk_pedestrians_intersection",
    "highway_overhead_ca_sobral1",
    "parking_lot_overhead_intel",
)


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory: pytest.TempPathFactory) -> Evaluator:
    state = tmp_path_factory.mktemp("eval")
    settings = Settings(
        state_dir=state,
        model=model_path(),
        media_dir=media_dir(),
        ground_truth_dir=Path(__file__).parents[1] / "ground_truth",
        yolo_config_dir=state / "yolo",
    )
    return Evaluator(settings)


@pytest.fixture(scope="module")
def results(evaluator: Evaluator) -> list[ClipResult]:
    # A fresh state dir: the cache is cold, so every clip goes through the model once.
    return [evaluator.evaluate(video) for video in evaluator.clips()]


def test_every_labelled_clip_ran_through_the_model(results: list[ClipResult]) -> None:
    assert len(results) == 6
    assert not any(r.from_cache for r in results)


@pytest.mark.parametrize("kind", [EventType.RED_LIGHT, EventType.STOPPED_VEHICLE])
def test_precision_and_recall_floors(results: list[ClipResult], kind: EventType) -> None:
    score = total(results)[kind]
    assert score.tp >= 1
    assert score.precision is not None and score.precision >= 0.9
    assert score.recall is not None and score.recall >= 0.9


def test_no_red_light_for_the_cars_waiting_at_the_line(results: list[ClipResult]) -> None:
    platte = next(r for r in results if r.clip == "redlight_cam_platte_chelton")
    reds = [p.finding for p in platte.predicted if p.finding.type is EventType.RED_LIGHT]
    # Only the minivan crosses; the two blue cars wait behind the line from ~6 s on.
    assert len(reds) == 1 and abs(reds[0].offset_s - 7.45) <= 0.6


def test_no_rule_raises_a_false_alarm_on_any_clip(results: list[ClipResult]) -> None:
    assert {kind.value: s.fp for kind, s in total(results).items() if s.fp} == {}


def test_the_speeding_golf_is_caught(results: list[ClipResult]) -> None:
    score = total(results)[EventType.SPEEDING]
    assert (score.tp, score.fp, score.fn) == (1, 0, 0)


@pytest.mark.parametrize("clip", EMPTY_CLIPS)
def test_no_rule_raises_a_false_alarm_on_a_quiet_clip(results: list[ClipResult], clip: str) -> None:
    result = next(r for r in results if r.clip == clip)
    assert result.labels == []
    assert [(p.finding.type.value, p.finding.offset_s) for p in result.predicted] == []


def test_same_clip_config_and_model_give_the_same_events(
    evaluator: Evaluator, results: list[ClipResult]
) -> None:
    for first in results:
        again = evaluator.evaluate(next(v for v in evaluator.clips([first.clip])))
        assert again.from_cache
        assert [p.event_id for p in again.predicted] == [p.event_id for p in first.predicted]
        assert [p.finding for p in again.predicted] == [p.finding for p in first.predicted]


def test_a_one_way_road_played_backwards_is_wrong_way(evaluator: Evaluator) -> None:
    video = evaluator.clips(["highway_overhead_ca_sobral1"])[0]
    reversed_run = evaluator.evaluate(video, reverse=True)
    wrong = {
        p.finding.track_id for p in reversed_run.predicted if p.finding.type is EventType.WRONG_WAY
    }
    assert len(wrong) >= 3
    assert all(
        p.finding.gost_code == "C9" for p in reversed_run.predicted if p.finding.track_id in wrong
    )
