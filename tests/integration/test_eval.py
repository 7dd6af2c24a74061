"""The rules on the real clips with the real model, analysed at the live rate
(DOZOR_ANALYSIS_FPS) as by default: floors on precision and recall (labels matched by
vehicle where they give its box), no false alarms where the hand labels say nothing
happens, and the same events twice."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contract.events import EventType
from detectors.eval import ClipResult, Evaluator, score_json, scored, total
from detectors.sources import FileSource
from dozor.settings import Settings
from tests.conftest import eval_settings, media_dir, settings_env

pytestmark = pytest.mark.integration

EMPTY_CLIPS = (
    "crosswalk_pedestrians_intersection",
    "highway_overhead_ca_sobral1",
    "parking_lot_overhead_intel",
)


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory: pytest.TempPathFactory) -> Evaluator:
    state = tmp_path_factory.mktemp("eval")
    settings = eval_settings(state)
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


def test_clips_are_analysed_at_the_live_rate(
    evaluator: Evaluator, results: list[ClipResult]
) -> None:
    rate = evaluator.settings.analysis_fps
    for result in results:
        source = FileSource(evaluator.clips([result.clip])[0], analysis_fps=rate)
        # The largest whole step keeping at least the live rate: 24 fps is analysed at 8.
        assert rate <= source.fps < 2 * rate or source.step == 1
        # Frame indices count analysed frames.
        for p in result.predicted:
            assert abs(p.finding.frame_index - p.finding.offset_s * source.fps) <= 1


def test_every_frame_has_its_own_cache_and_holds_the_floors(
    evaluator: Evaluator, results: list[ClipResult]
) -> None:
    every = Evaluator(evaluator.settings, evaluator.detector, every_frame=True)
    video = evaluator.clips(["redlight_cam_intersection3"])[0]
    full = every.evaluate(video)
    assert not full.from_cache  # the live-rate run cached other frames
    scores = scored(full)
    assert {kind.value: (s.tp, s.fp, s.fn) for kind, s in scores.items()} == {
        "red_light": (1, 0, 0),
        "stopped_vehicle": (1, 0, 0),
    }
    fps = 24.03
    assert all(abs(p.finding.frame_index - p.finding.offset_s * fps) <= 2 for p in full.predicted)


def test_the_minivan_creeping_in_the_intersection_may_fire_and_nothing_else(
    results: list[ClipResult],
) -> None:
    platte = next(r for r in results if r.clip == "redlight_cam_platte_chelton")
    stopped = scored(platte).get(EventType.STOPPED_VEHICLE)
    # At 8 fps the minivan's standstill reaches the 2 s threshold: a "may fire" label.
    assert stopped is None or (stopped.fp, stopped.fn) == (0, 0)


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


SEED_SCENES = Path(__file__).parents[2] / "registry" / "seed" / "scenes"
LABELS = Path(__file__).parents[1] / "ground_truth"


def _dozor_eval(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # From a directory outside the repository: nothing may be read from seed data or .env.
    return subprocess.run(
        [sys.executable, "-m", "dozor_cli.cli", "eval", *args],
        env=settings_env(settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_eval_any_clip_with_a_scene_file_outside_the_repo(
    evaluator: Evaluator, results: list[ClipResult], tmp_path: Path
) -> None:
    stem = "redlight_cam_intersection3"
    scene = tmp_path / "operator_scene.json"
    labels = tmp_path / "operator_labels.json"
    shutil.copy(SEED_SCENES / f"{stem}.json", scene)
    shutil.copy(LABELS / f"{stem}.json", labels)
    out = tmp_path / "out.json"
    clip = media_dir() / f"{stem}.mp4"
    args = ("--clip", str(clip), "--scene", str(scene), "--labels", str(labels), "--json", str(out))
    proc = _dozor_eval(evaluator.settings, tmp_path, *args)
    assert proc.returncode == 0, proc.stderr
    written = json.loads(out.read_text())
    seeded = next(r for r in results if r.clip == stem)
    # The operator's copy of the scene gives what the seed scene gave on the same clip.
    assert [(e["type"], e["time_s"], e["track_id"]) for e in written["events"]] == [
        (p.finding.type.value, p.finding.offset_s, p.finding.track_id) for p in seeded.predicted
    ]
    assert all(set(e) >= {"type", "time_s", "track_id", "measured"} for e in written["events"])
    assert written["clip"] == clip.name and written["scene"] == str(scene)
    assert written["scores"] == score_json(scored(seeded))
    assert written["scores"]["red_light"]["tp"] == 1
    for e in written["events"]:  # the printed table has a row for every event
        assert f"{e['time_s']:.2f}" in proc.stdout and e["type"] in proc.stdout


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing_clip", "video not found"),
        ("corrupt_clip", "cannot decode video"),
        ("scene_not_json", "bad scene file"),
        ("scene_outside_frame", "lies outside the 640x352 frame"),
        ("scene_wrong_size", "scene is drawn for 1280x720"),
        ("missing_scene", "bad scene file"),
        ("bad_labels", "bad label file"),
        ("no_scene_option", "--clip needs --scene"),
    ],
)
def test_eval_bad_files_give_one_clear_error_line(
    evaluator: Evaluator, tmp_path: Path, case: str, expected: str
) -> None:
    clip = media_dir() / "redlight_cam_intersection3.mp4"
    seed = json.loads((SEED_SCENES / "redlight_cam_intersection3.json").read_text())
    scene = tmp_path / "scene.json"
    scene.write_text(json.dumps(seed))
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    labels = tmp_path / "labels.json"
    labels.write_text('{"events": [{"type": "red_light"}]}')
    if case == "scene_not_json":
        scene.write_text("{not json")
    elif case == "scene_outside_frame":
        seed["zones"][0]["polygon"][0] = [900, 10]
        scene.write_text(json.dumps(seed))
    elif case == "scene_wrong_size":
        scene.write_text(json.dumps({**seed, "frame_width": 1280, "frame_height": 720}))
    args = {
        "missing_clip": ["--clip", str(tmp_path / "nope.mp4"), "--scene", str(scene)],
        "corrupt_clip": ["--clip", str(corrupt), "--scene", str(scene)],
        "missing_scene": ["--clip", str(clip), "--scene", str(tmp_path / "nope.json")],
        "bad_labels": ["--clip", str(clip), "--scene", str(scene), "--labels", str(labels)],
        "no_scene_option": ["--clip", str(clip)],
    }.get(case, ["--clip", str(clip), "--scene", str(scene)])
    proc = _dozor_eval(evaluator.settings, tmp_path, *args)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [lines[0]] and lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in proc.stderr
