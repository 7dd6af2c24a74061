"""The engine's backend holds the rules' accuracy: `dozor eval` on every labelled clip, at the
live rate, with the engines `./dev` and `DOZOR_BACKEND=auto` choose loses no true event and
raises no new false alarm against ultralytics on the int8 TFLite (the reference model) and on
the .pt checkpoint rebuilt from it: LiteRT on the TFLite itself (the dev and test default),
OpenVINO FP32 on the .pt, and OpenVINO INT8 on rectangular input (the fastest; NNCF
calibrates it once per models cache, about two minutes, on these same clips). OpenVINO FP32
on rectangular input is held to ultralytics' boxes on the same .pt only: on the crosswalk
clip both raise two stopped-vehicle false alarms that the TFLite does not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from contract.events import EventType
from detectors.backends import backend_from_settings
from detectors.backends.openvino_yolo import OpenVINOConfig
from detectors.backends.registry import backend_key
from detectors.eval import ClipResult, Evaluator, scored
from detectors.sources import FileSource
from dozor.settings import Settings
from tests.conftest import eval_settings, media_dir, model_path

pytestmark = pytest.mark.integration

MODELS = Path(model_path()).parent
TFLITE = MODELS / "yolo11n_int8.tflite"
CHECKPOINT = MODELS / "yolo11n_from_int8tflite.pt"

#: The backends' own options (DOZOR_OPENVINO_*) a run sets; the others are unset for it.
ENGINE_OPTIONS = ("DOZOR_OPENVINO_INT8", "DOZOR_OPENVINO_RECT", "DOZOR_OPENVINO_CALIBRATION")
INT8_RECT = {
    "DOZOR_OPENVINO_INT8": "true",
    "DOZOR_OPENVINO_RECT": "true",
    "DOZOR_OPENVINO_CALIBRATION": str(media_dir()),
}
#: Run name -> the settings it evaluates with, and its backend's options.
RUNS: dict[str, tuple[dict[str, object], dict[str, str]]] = {
    "ultralytics-tflite": ({"backend": "ultralytics", "model": str(TFLITE)}, {}),
    "ultralytics-pt": ({"backend": "ultralytics", "model": str(CHECKPOINT)}, {}),
    "openvino-int8-rect-pt": ({"backend": "openvino", "model": str(CHECKPOINT)}, INT8_RECT),
    "openvino-pt": ({"backend": "openvino", "model": str(CHECKPOINT)}, {}),
    "litert-tflite": ({"backend": "litert", "model": str(TFLITE)}, {}),
}
REFERENCES = ("ultralytics-pt", "ultralytics-tflite")
CANDIDATES = ("openvino-int8-rect-pt", "openvino-pt", "litert-tflite")
CLIPS = sorted(p.stem for p in (Path(__file__).parents[1] / "ground_truth").glob("*.json"))

Counts = dict[EventType, tuple[int, int]]


@contextmanager
def options(env: dict[str, str]) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ENGINE_OPTIONS:
            patch.delenv(name, raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        yield


def engine(settings: Settings) -> tuple[str, str, bool, bool]:
    """What runs the model: backend, weights, and for OpenVINO whether INT8 and rectangular."""
    key = backend_key(settings)
    config = OpenVINOConfig() if key == "openvino" else OpenVINOConfig.model_construct()
    return key, settings.model, config.int8, config.rect


def test_the_default_engine_is_one_held_here() -> None:
    held = []
    for name in CANDIDATES:
        fields, env = RUNS[name]
        with options(env):
            held.append(engine(Settings(**fields)))  # type: ignore[arg-type]
    # What the environment (./dev) configures, and `auto` on each of the shared weights.
    assert engine(Settings(model=model_path())) in held
    for model in (TFLITE, CHECKPOINT):
        with options({}):
            assert engine(Settings(model=str(model), backend="auto")) in held


@pytest.mark.parametrize(
    ("backend", "weights"),
    [
        # The export computes its anchors from the input's shape: on a 640x384 input (RECT)
        # it must give the boxes ultralytics' own (rectangular) letterbox gives on the .pt.
        ("openvino", CHECKPOINT),
        # The same int8 weights through the same interpreter: the same boxes.
        ("litert", TFLITE),
    ],
)
def test_a_self_run_backend_finds_ultralytics_boxes_on_real_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, weights: Path
) -> None:
    monkeypatch.delenv("DOZOR_OPENVINO_INT8", raising=False)
    monkeypatch.setenv("DOZOR_OPENVINO_RECT", "true")
    settings = eval_settings(tmp_path).model_copy(update={"model": str(weights)})
    candidate = backend_from_settings(settings.model_copy(update={"backend": backend}))
    reference = backend_from_settings(settings.model_copy(update={"backend": "ultralytics"}))
    assert candidate.engine in ("openvino-rect", "litert")
    for clip in sorted(media_dir().glob("*.mp4"))[:2]:
        images = [f.image for f in FileSource(clip).frames(stop=30) if f.index % 10 == 0]
        for got, want in zip(candidate.detect(images), reference.detect(images), strict=True):
            assert len(got) == len(want) > 0, clip.name
            order, ref_order = np.argsort(-got.scores), np.argsort(-want.scores)
            assert got.classes[order].tolist() == want.classes[ref_order].tolist()
            assert np.abs(got.xyxy[order] - want.xyxy[ref_order]).max() < 0.5, clip.name
            assert np.abs(got.scores[order] - want.scores[ref_order]).max() < 1e-3


def test_a_decoding_failure_on_openvinos_callback_thread_reaches_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOZOR_OPENVINO_INT8", raising=False)
    settings = eval_settings(tmp_path).model_copy(
        update={"model": str(CHECKPOINT), "backend": "openvino"}
    )
    backend = backend_from_settings(settings)
    image = next(FileSource(sorted(media_dir().glob("*.mp4"))[0]).frames()).image
    assert len(backend.detect([image])[0]) > 0

    def broken(output: np.ndarray, box: object) -> None:
        raise ValueError("bad output")

    monkeypatch.setattr(backend, "boxes", broken)
    with pytest.raises(ValueError, match="bad output"):
        backend.detect([image, image, image])


def counts(result: ClipResult) -> Counts:
    """Matched true events and false alarms by event type."""
    return {kind: (s.tp, s.fp) for kind, s in scored(result).items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Counts]]:
    # One state dir: the OpenVINO exports are built once (offline) into its model cache, and
    # the eval cache keys on each backend's model hash, so no run reads another's detections.
    state = tmp_path_factory.mktemp("eval-backends")
    out: dict[str, dict[str, Counts]] = {}
    for name, (fields, env) in RUNS.items():
        with options(env):
            evaluator = Evaluator(eval_settings(state).model_copy(update=fields))
            results = [evaluator.evaluate(video) for video in evaluator.clips()]
        assert not any(r.from_cache for r in results), name
        out[name] = {r.clip: counts(r) for r in results}
        print(f"\n{name}: " + "; ".join(f"{c} {_show(n)}" for c, n in out[name].items()))
    return out


def _show(found: Counts) -> str:
    return ", ".join(f"{k.value} tp={tp} fp={fp}" for k, (tp, fp) in found.items()) or "-"


def test_every_run_scored_every_labelled_clip_and_found_true_events(
    runs: dict[str, dict[str, Counts]],
) -> None:
    for name, by_clip in runs.items():
        assert sorted(by_clip) == CLIPS, name
        # The comparison means something only where the reference finds events at all.
        assert sum(tp for found in by_clip.values() for tp, _ in found.values()) >= 3, name


@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize("candidate", CANDIDATES)
@pytest.mark.parametrize("clip", CLIPS)
def test_no_true_event_lost_and_no_false_alarm_gained(
    runs: dict[str, dict[str, Counts]], clip: str, candidate: str, reference: str
) -> None:
    got, want = runs[candidate][clip], runs[reference][clip]
    for kind in set(got) | set(want):
        tp, fp = got.get(kind, (0, 0))
        ref_tp, ref_fp = want.get(kind, (0, 0))
        assert tp >= ref_tp, f"{candidate} lost a {kind.value} on {clip} ({tp} vs {ref_tp})"
        assert fp <= ref_fp, f"{candidate} added a {kind.value} false alarm on {clip}"
