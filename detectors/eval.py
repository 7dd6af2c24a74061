"""Scores the rules against hand-labelled clips: the same detection path as replay (backend
tracking -> tracks -> signals -> rules), without evidence storage or Kafka.

Clips are analysed at the live rate (``DOZOR_ANALYSIS_FPS``, frames between skipped by
decoding only) unless asked for every frame. Tracked detections are cached per (clip,
rate, model, tracker settings) under the state dir, so a second evaluation only decodes
frames and re-runs the rules.

A label matches an event of its type within its tolerance and, when it gives the
vehicle's box at its time, only an event about that vehicle: the event's track, seen
nearest the labelled time, overlaps the box (IoU >= 0.3, or either box's centre inside the
other). A queued car's event does not score as the true one. An optional label ("may
fire") is neither a miss when nothing fires nor a false alarm when something does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from contract.events import EventType
from contract.scene import SceneConfig
from detectors.backends import Detection, DetectorBackend, backend_from_settings
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


Box = tuple[float, float, float, float]
#: Each track's boxes by time.
Sightings = dict[int, list[tuple[float, Box]]]


@dataclass(frozen=True)
class Label:
    type: EventType
    time_s: float
    tolerance_s: float
    #: The vehicle (or person) the event is about, in the clip's pixels at time_s; None: any.
    box: Box | None = None
    #: "May fire": a matching event is no false alarm, and no event is no miss.
    optional: bool = False


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
    #: Whether a label file was given (an empty one scores every event as a false alarm).
    labelled: bool = False
    #: Each track's boxes by time, in the clip's pixels: what labels with a box match.
    sightings: Sightings = field(default_factory=dict)


@dataclass
class RuleScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    #: Events matched to optional labels: neither true nor false.
    optional: int = 0
    time_errors: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def mean_abs_time_error(self) -> float | None:
        errors = self.time_errors
        return round(sum(map(abs, errors)) / len(errors), 3) if errors else None

    def add(self, other: RuleScore) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.optional += other.optional
        self.time_errors += other.time_errors


#: Tolerance of a label that gives none, in seconds.
DEFAULT_TOLERANCE_S = 1.0


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{where}: {first['msg']}{more}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return " ".join(str(exc).split())


def load_scene(path: Path) -> SceneConfig:
    """A scene file (SceneConfig JSON, as the registry stores and the seed scenes are)."""
    try:
        return SceneConfig.model_validate_json(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise DetectorInputError(f"bad scene file {path}: {_one_line(exc)}") from None


def _box(raw: object) -> Box | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 4:
        raise ValueError(f"box must be [x1, y1, x2, y2], not {raw!r}")
    x1, y1, x2, y2 = (float(v) for v in raw)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"box {raw!r} is empty")
    return (x1, y1, x2, y2)


def load_labels(path: Path) -> list[Label]:
    try:
        raw = json.loads(path.read_text())
        return [
            Label(
                EventType(e["type"]),
                float(e["time_s"]),
                float(e.get("tolerance_s", DEFAULT_TOLERANCE_S)),
                _box(e.get("box")),
                bool(e.get("optional", False)),
            )
            for e in raw["events"]
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        what = f"missing key {exc}" if isinstance(exc, KeyError) else _one_line(exc)
        raise DetectorInputError(f"bad label file {path}: {what}") from None


def boxes_agree(a: Box, b: Box) -> bool:
    """The same object: the boxes overlap well, or either's centre lies inside the other
    (a label drawn round a car's body and a detector's box that also takes its shadow)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter

    def centre_in(p: Box, q: Box) -> bool:
        cx, cy = (p[0] + p[2]) / 2, (p[1] + p[3]) / 2
        return q[0] <= cx <= q[2] and q[1] <= cy <= q[3]

    return inter / union >= 0.3 or centre_in(a, b) or centre_in(b, a)


def box_near(sightings: Sightings, track_id: int | None, t: float, within_s: float) -> Box | None:
    """The track's box seen nearest time t, if it was seen within within_s of it."""
    near = [(abs(at - t), box) for at, box in sightings.get(track_id or -1, [])]
    best = min(near, default=None)
    return best[1] if best is not None and best[0] <= within_s else None


def about_labelled_vehicle(label: Label, predicted: Predicted, sightings: Sightings) -> bool:
    """Whether the event is about the label's vehicle: its track's box seen nearest the
    labelled time (within the label's tolerance) agrees with the label's box."""
    if label.box is None:
        return True
    box = box_near(sightings, predicted.finding.track_id, label.time_s, label.tolerance_s)
    return box is not None and boxes_agree(box, label.box)


def match(
    labels: list[Label],
    predicted: list[Predicted],
    sightings: Sightings | None = None,
) -> dict[EventType, RuleScore]:
    """One-to-one matching of the same type within each label's tolerance (and the same
    vehicle, where the label has a box): required labels first, then closest in time."""
    scores: dict[EventType, RuleScore] = {}
    pairs = sorted(
        (lab.optional, abs(p.finding.offset_s - lab.time_s), li, pi)
        for li, lab in enumerate(labels)
        for pi, p in enumerate(predicted)
        if p.finding.type is lab.type
        and abs(p.finding.offset_s - lab.time_s) <= lab.tolerance_s
        and about_labelled_vehicle(lab, p, sightings or {})
    )
    used_l: set[int] = set()
    used_p: set[int] = set()
    for optional, _, li, pi in pairs:
        if li in used_l or pi in used_p:
            continue
        used_l.add(li)
        used_p.add(pi)
        score = scores.setdefault(labels[li].type, RuleScore())
        if optional:
            score.optional += 1
            continue
        score.tp += 1
        score.time_errors.append(round(predicted[pi].finding.offset_s - labels[li].time_s, 2))
    for li, lab in enumerate(labels):
        if li not in used_l and not lab.optional:
            scores.setdefault(lab.type, RuleScore()).fn += 1
    for pi, p in enumerate(predicted):
        if pi not in used_p:
            scores.setdefault(p.finding.type, RuleScore()).fp += 1
    return scores


def scored(result: ClipResult) -> dict[EventType, RuleScore]:
    return match(result.labels, result.predicted, result.sightings)


def total(results: list[ClipResult]) -> dict[EventType, RuleScore]:
    summed: dict[EventType, RuleScore] = {}
    for result in results:
        for kind, s in scored(result).items():
            summed.setdefault(kind, RuleScore()).add(s)
    return summed


class Evaluator:
    """``every_frame``: analyse every frame of a clip, not ``analysis_fps`` as live cameras
    do."""

    def __init__(
        self,
        settings: Settings,
        detector: DetectorBackend | None = None,
        *,
        every_frame: bool = False,
    ) -> None:
        self.settings = settings
        self._detector = detector
        self.every_frame = every_frame
        self.cache_dir = settings.state_dir / "eval-cache"

    @property
    def detector(self) -> DetectorBackend:
        if self._detector is None:
            self._detector = backend_from_settings(self.settings)
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
        """Run one labelled clip (optionally played backwards) through the rules with its seed
        scene (registry/seed/scenes/<stem>.json); score it against its labels, if any.

        ``on_frame(done, total)`` is called after every frame, for a progress display."""
        stem = video.stem
        scene_path = SCENES_DIR / f"{stem}.json"
        if not scene_path.is_file():
            raise DetectorInputError(f"no scene config for {stem} in {SCENES_DIR}")
        label_file = self.settings.ground_truth_dir / f"{stem}.json"
        labelled = label_file.is_file() and not reverse
        return self.run(
            video,
            load_scene(scene_path),
            camera_id=camera_for(stem),
            labels=load_labels(label_file) if labelled else None,
            name=stem + (" (reversed)" if reverse else ""),
            reverse=reverse,
            on_frame=on_frame,
        )

    def evaluate_clip(
        self,
        video: Path,
        scene_path: Path,
        labels_path: Path | None = None,
        *,
        on_frame: Callable[[int, int | None], None] | None = None,
    ) -> ClipResult:
        """Any clip with any scene file (SceneConfig JSON) and, optionally, a label file:
        nothing is read from the registry or the repository's seed data."""
        scene = load_scene(scene_path)
        return self.run(
            video,
            scene,
            camera_id=f"eval:{video.stem}",
            labels=load_labels(labels_path) if labels_path is not None else None,
            name=video.name,
            on_frame=on_frame,
        )

    def run(
        self,
        video: Path,
        scene: SceneConfig,
        *,
        camera_id: str,
        labels: list[Label] | None,
        name: str,
        reverse: bool = False,
        on_frame: Callable[[int, int | None], None] | None = None,
    ) -> ClipResult:
        source = FileSource(
            video, analysis_fps=None if self.every_frame else self.settings.analysis_fps
        )
        if (scene.frame_width, scene.frame_height) != (source.width, source.height):
            raise DetectorInputError(
                f"scene is drawn for {scene.frame_width}x{scene.frame_height} "
                f"but {video.name} is {source.width}x{source.height}"
            )
        camera = CameraContext(
            camera_id=camera_id,
            scene_version=1,
            scene=scene,
            source_uri=source.uri,
            source_id=source.source_id() + (":reversed" if reverse else ""),
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
        sightings: Sightings = {}
        frames = _reversed(source) if reverse else source.frames()
        for frame in frames:
            dets = (
                cached[frame.index]
                if tracker is None
                else tracker.update(self.detector.detect([frame.image])[0], frame.image)
            )
            per_frame.append(dets)
            for d in dets:
                if d.track_id is not None:
                    sightings.setdefault(d.track_id, []).append((frame.offset_s, d.bbox))
            for finding in judge.step(frame.index, frame.offset_s, frame.image, dets):
                eid = finding_id(camera, self.detector.model_sha256, finding)
                predicted.append(Predicted(eid, finding))
            if on_frame is not None:
                on_frame(len(per_frame), source.frame_count)
        if cached is None:
            _write_cache(cache, per_frame)
        return ClipResult(
            name, labels or [], predicted, cached is not None, labels is not None, sightings
        )

    def _cache_path(self, source_id: str) -> Path:
        s = self.settings
        key = "|".join(
            map(
                str,
                (
                    source_id,
                    self.detector.engine,
                    self.detector.model_sha256,
                    s.tracker,
                    s.confidence,
                    s.imgsz,
                ),
            )
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


def score_json(scores: dict[EventType, RuleScore]) -> dict[str, dict[str, object]]:
    return {
        kind.value: {
            "tp": s.tp,
            "fp": s.fp,
            "fn": s.fn,
            "optional": s.optional,
            "precision": s.precision,
            "recall": s.recall,
            "time_errors_s": s.time_errors,
            "mean_abs_time_error_s": s.mean_abs_time_error,
        }
        for kind, s in sorted(scores.items())
    }


def result_json(result: ClipResult, scene: Path | None = None) -> dict[str, object]:
    """What `dozor eval --json` writes for one clip: its events, and its scores if labelled."""
    return {
        "clip": result.clip,
        "scene": None if scene is None else str(scene),
        "events": [
            {
                "type": p.finding.type.value,
                "time_s": p.finding.offset_s,
                "track_id": p.finding.track_id,
                "box": box_near(result.sightings, p.finding.track_id, p.finding.offset_s, 0.5),
                "measured": p.finding.measured,
                "frame_index": p.finding.frame_index,
                "confidence": p.finding.confidence,
                "gost_code": p.finding.gost_code,
                "params": p.finding.params,
                "event_id": p.event_id,
            }
            for p in result.predicted
        ],
        "labels": [
            {
                "type": lab.type.value,
                "time_s": lab.time_s,
                "tolerance_s": lab.tolerance_s,
                "box": None if lab.box is None else list(lab.box),
                "optional": lab.optional,
            }
            for lab in result.labels
        ],
        "scores": score_json(scored(result)) if result.labelled else None,
    }
