"""Scores the rules against hand-labelled clips: the same detection path as replay (backend
tracking -> tracks -> signals -> rules), without evidence storage or Kafka.

Tracked detections are cached per (clip, model, tracker settings) under the state dir, so a
second evaluation only decodes frames and re-runs the rules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from contract.events import EventType
from contract.scene import SceneConfig
from detectors.backends import UltralyticsBackend
from detectors.backends.base import Detection, DetectorBackend
from detectors.errors import DetectorInputError
from detectors.judge import Judge
from detectors.pipeline import CameraContext, finding_id
from detectors.rules import Finding
from detectors.sources import FileSource, Frame
from detectors.tracking import CameraTracker
from dozor.settings import Settings
from registry.seed import SEED_DIR

SCENES_DIR = SEED_DIR / "scenes"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov")


@dataclass(frozen=True)
class Label:
    type: EventType
    time_s: float
    tolerance_s: float


@dataclass(frozen=True)
class Predicted:
    event_id: str
    finding: Finding


@dataclass(frozen=True)
class ClipResult:
    clip: str
    labels: list[Label]
    predicted: list[Predicted]
    from_cache: bool


@dataclass
class RuleScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    time_errors: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def load_labels(path: Path) -> list[Label]:
    try:
        raw = json.loads(path.read_text())
        return [
            Label(EventType(e["type"]), float(e["time_s"]), float(e["tolerance_s"]))
            for e in raw["events"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DetectorInputError(f"bad label file {path}: {exc}") from exc


def match(labels: list[Label], predicted: list[Predicted]) -> dict[EventType, RuleScore]:
    """One-to-one matching of the same type within each label's tolerance, closest first."""
    scores: dict[EventType, RuleScore] = {}
    pairs = sorted(
        (abs(p.finding.offset_s - lab.time_s), li, pi)
        for li, lab in enumerate(labels)
        for pi, p in enumerate(predicted)
        if p.finding.type is lab.type and abs(p.finding.offset_s - lab.time_s) <= lab.tolerance_s
    )
    used_l: set[int] = set()
    used_p: set[int] = set()
    for _, li, pi in pairs:
        if li in used_l or pi in used_p:
            continue
        used_l.add(li)
        used_p.add(pi)
        score = scores.setdefault(labels[li].type, RuleScore())
        score.tp += 1
        score.time_errors.append(round(predicted[pi].finding.offset_s - labels[li].time_s, 2))
    for li, lab in enumerate(labels):
        if li not in used_l:
            scores.setdefault(lab.type, RuleScore()).fn += 1
    for pi, p in enumerate(predicted):
        if pi not in used_p:
            scores.setdefault(p.finding.type, RuleScore()).fp += 1
    return scores


def total(results: list[ClipResult]) -> dict[EventType, RuleScore]:
    summed: dict[EventType, RuleScore] = {}
    for result in results:
        for kind, s in match(result.labels, result.predicted).items():
            acc = summed.setdefault(kind, RuleScore())
            acc.tp, acc.fp, acc.fn = acc.tp + s.tp, acc.fp + s.fp, acc.fn + s.fn
            acc.time_errors += s.time_errors
    return summed


class Evaluator:
    def __init__(self, settings: Settings, detector: DetectorBackend | None = None) -> None:
        self.settings = settings
        self._detector = detector
        self.cache_dir = settings.state_dir / "eval-cache"

    @property
    def detector(self) -> DetectorBackend:
        if self._detector is None:
            self._detector = UltralyticsBackend.from_settings(self.settings)
        return self._detector

    def clips(self, names: list[str] | None = None) -> list[Path]:
        """Labelled clips (all, or those named by stem) found in the media dir."""
        labels = sorted(self.settings.ground_truth_dir.glob("*.json"))
        if not labels:
            raise DetectorInputError(f"no label files in {self.settings.ground_truth_dir}")
        stems = [p.stem for p in labels]
        for name in names or []:
            if name not in stems:
                raise DetectorInputError(f"no labels for clip {name!r} (have: {', '.join(stems)})")
        found = []
        for stem in names or stems:
            video = next(
                (
                    self.settings.media_dir / f"{stem}{suffix}"
                    for suffix in VIDEO_SUFFIXES
                    if (self.settings.media_dir / f"{stem}{suffix}").is_file()
                ),
                None,
            )
            if video is None:
                raise DetectorInputError(f"clip {stem!r} not found in {self.settings.media_dir}")
            found.append(video)
        return found

    def evaluate(
        self,
        video: Path,
        *,
        reverse: bool = False,
        on_frame: Callable[[int, int | None], None] | None = None,
    ) -> ClipResult:
        """Run one clip (optionally played backwards) through the rules; score it if labelled.

        ``on_frame(done, total)`` is called after every frame, for a progress display."""
        stem = video.stem
        scene_path = SCENES_DIR / f"{stem}.json"
        if not scene_path.is_file():
            raise DetectorInputError(f"no scene config for {stem} in {SCENES_DIR}")
        scene = SceneConfig.model_validate_json(scene_path.read_text())
        source = FileSource(video)
        if (scene.frame_width, scene.frame_height) != (source.width, source.height):
            raise DetectorInputError(f"scene {stem} does not fit the video's frame size")
        camera = CameraContext(
            camera_id=camera_for(stem),
            scene_version=1,
            scene=scene,
            source_uri=source.uri,
            source_id=source.content_hash() + (":reversed" if reverse else ""),
            started_at=source.started_at,
            fps=source.fps,
        )
        cache = self._cache_path(camera.source_id)
        cached = _read_cache(cache)
        judge = Judge(scene, source.fps)
        # The same per-stream tracking replays and live workers use.
        tracker = CameraTracker(self.detector, source.fps) if cached is None else None
        per_frame: list[list[Detection]] = []
        predicted: list[Predicted] = []
        frames = _reversed(source) if reverse else source.frames()
        for frame in frames:
            dets = cached[frame.index] if tracker is None else tracker.track(frame.image)
            per_frame.append(dets)
            for finding in judge.step(frame.index, frame.offset_s, frame.image, dets):
                eid = finding_id(camera, self.detector.model_sha256, finding)
                predicted.append(Predicted(eid, finding))
            if on_frame is not None:
                on_frame(len(per_frame), source.frame_count)
        if cached is None:
            _write_cache(cache, per_frame)
        label_file = self.settings.ground_truth_dir / f"{stem}.json"
        labels = load_labels(label_file) if label_file.is_file() and not reverse else []
        return ClipResult(
            stem + (" (reversed)" if reverse else ""), labels, predicted, cached is not None
        )

    def _cache_path(self, source_id: str) -> Path:
        s = self.settings
        key = "|".join(
            map(str, (source_id, self.detector.model_sha256, s.tracker, s.confidence, s.imgsz))
        )
        return self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def camera_for(stem: str) -> str:
    assigned = json.loads((SCENES_DIR / "assignments.json").read_text())
    return next((cam for cam, scene in assigned.items() if scene == stem), f"eval:{stem}")


def _reversed(source: FileSource) -> Iterator[Frame]:
    images = [f.image for f in source.frames()]
    for i, image in enumerate(reversed(images)):
        yield Frame(i, i / source.fps, image)


def _read_cache(path: Path) -> list[list[Detection]] | None:
    if not path.is_file():
        return None
    return [
        [Detection(tid, label, conf, tuple(box)) for tid, label, conf, box in frame]
        for frame in json.loads(path.read_text())
    ]


def _write_cache(path: Path, per_frame: list[list[Detection]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [[[d.track_id, d.label, d.confidence, list(d.bbox)] for d in f] for f in per_frame]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows))
    tmp.replace(path)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def report(results: list[ClipResult]) -> tuple[Table, Table]:
    """Per-rule scores over all clips, and what each clip produced."""
    per_rule = Table(title="dozor eval: per rule")
    for col in ("rule", "TP", "FP", "FN", "precision", "recall", "time errors (s)"):
        per_rule.add_column(col, justify="left" if col in ("rule", "time errors (s)") else "right")
    for kind, s in sorted(total(results).items()):
        per_rule.add_row(
            kind.value,
            str(s.tp),
            str(s.fp),
            str(s.fn),
            _ratio(s.precision),
            _ratio(s.recall),
            ", ".join(f"{e:+.2f}" for e in s.time_errors) or "-",
        )
    per_clip = Table(title="dozor eval: per clip")
    for col in ("clip", "labelled", "predicted (type@s track)", "detections"):
        per_clip.add_column(col)
    for r in results:
        per_clip.add_row(
            r.clip,
            ", ".join(f"{lab.type.value}@{lab.time_s:.2f}" for lab in r.labels) or "-",
            ", ".join(
                f"{p.finding.type.value}@{p.finding.offset_s:.2f} #{p.finding.track_id}"
                for p in r.predicted
            )
            or "-",
            "cached" if r.from_cache else "model",
        )
    return per_rule, per_clip
