"""Builds the networks the self-run backends load, from a checkpoint, offline.

`dozor model export` and the backends themselves call :func:`exported`: the result lives in
``<cache>/<checkpoint sha256[:16]>-<format>-<imgsz>[-dynamic][-int8]/`` with a ``dozor.json``
written last, so a half-built export is never used and a second call (or a second worker)
finds it ready; a lock beside it lets one process build while the others wait for it.

- OpenVINO or ONNX from a ``.pt``: ultralytics' exporter (NCHW, pixel coordinates). The
  OpenVINO export takes any input shape (its anchors are computed from the input, not baked
  for 640x640), so 16:9 frames may run on a rectangular input (DOZOR_OPENVINO_RECT); the
  backend fixes the shape when it compiles.
- Not from a ``.tflite``: OpenVINO 2026.4 reads the TFLite graph, but with more than one CPU
  stream (its throughput mode) it returns garbage boxes (300 per frame), so we refuse it.
- ``int8`` (OpenVINO from a ``.pt``): post-training quantisation with NNCF, calibrated on
  frames of our own clips (a directory of videos or images). The export records which files
  (names and sizes) it was calibrated on: given other ones, it is built again; given none (a
  worker loading what the rollout built), it is used as it is.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from detectors.backends.ultralytics_yolo import existing_weights, file_sha256
from detectors.backends.yolo_io import letterbox, to_input
from detectors.errors import DetectorInputError

Format = Literal["openvino", "onnx"]
_META = "dozor.json"
_VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov"}
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass(frozen=True)
class Exported:
    """A network ready to load, and how to feed it."""

    model: str  # file name inside the export directory: model.xml or model.onnx
    checkpoint: str  # the checkpoint's file name
    checkpoint_sha256: str
    sha256: str  # of the exported network's files: what events record as the model
    imgsz: int
    nchw: bool
    normalized: bool  # coordinates as fractions of the input (TFLite graphs)
    int8: bool
    dynamic: bool = False  # takes any input shape (the rectangular letterbox too)
    #: Fingerprint of the files an INT8 export was calibrated on (calibration_fingerprint).
    calibrated_on: str = ""
    directory: str = ""

    @property
    def path(self) -> Path:
        return Path(self.directory) / self.model

    @property
    def name(self) -> str:
        return f"{self.checkpoint}:{Path(self.directory).name}"


def exported(
    checkpoint: Path,
    fmt: Format,
    cache: Path,
    *,
    int8: bool = False,
    calibration: Path | None = None,
    imgsz: int = 640,
) -> Exported:
    """The export of ``checkpoint`` in ``fmt``, built now unless already in ``cache``."""
    weights = existing_weights(str(_fetched(checkpoint)))
    digest = file_sha256(weights)
    dynamic = fmt == "openvino"
    variant = ("-dynamic" if dynamic else "") + ("-int8" if int8 else "")
    target = cache / f"{digest[:16]}-{fmt}-{imgsz}{variant}"
    calibrated_on = calibration_fingerprint(calibration) if int8 and calibration else None
    if (found := _ready(target, calibrated_on)) is not None:
        return found
    if int8 and fmt != "openvino":
        raise DetectorInputError("--int8 quantises the OpenVINO export only")
    if int8 and calibration is None:
        raise DetectorInputError("--int8 needs --calibration DIR (videos or images of our cameras)")
    if weights.suffix != ".pt":
        raise DetectorInputError(
            f"cannot export {weights.name}: give a .pt checkpoint (DOZOR_MODEL or --checkpoint)"
        )
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(target.with_name(target.name + ".lock")):
        # Whoever held the lock before us may have built it meanwhile.
        return _ready(target, calibrated_on) or _build(
            weights,
            digest,
            fmt,
            target,
            dynamic=dynamic,
            int8=int8,
            calibration=calibration,
            calibrated_on=calibrated_on or "",
            imgsz=imgsz,
        )


def _fetched(checkpoint: Path) -> Path:
    """A bare name (the default yolo11n.pt) is ultralytics' to download where online, as the
    ultralytics backend would; a path is taken as it is."""
    if checkpoint.is_file() or checkpoint.parent != Path(".") or checkpoint.suffix != ".pt":
        return checkpoint
    from ultralytics.utils.downloads import attempt_download_asset

    try:
        return Path(attempt_download_asset(str(checkpoint)))
    except Exception:  # offline: the missing file is the clearer error
        return checkpoint


def _ready(target: Path, calibrated_on: str | None) -> Exported | None:
    """The export in ``target`` if it is complete and, when ``calibrated_on`` is given,
    calibrated on those files."""
    if not (target / _META).is_file():
        return None
    found = Exported(**{**json.loads((target / _META).read_text()), "directory": str(target)})
    if calibrated_on is not None and found.calibrated_on != calibrated_on:
        return None
    return found


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build(
    weights: Path,
    digest: str,
    fmt: Format,
    target: Path,
    *,
    dynamic: bool,
    int8: bool,
    calibration: Path | None,
    calibrated_on: str,
    imgsz: int,
) -> Exported:
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        work = Path(tmp)
        model = _from_torch(weights, fmt, work, imgsz, dynamic=dynamic)
        if int8:
            assert calibration is not None
            model = _quantise(work / model, calibration, imgsz, work)
        files = _files_of(work / model)
        meta = Exported(
            model=model,
            checkpoint=weights.name,
            checkpoint_sha256=digest,
            sha256=_files_sha256([work / f for f in files]),
            imgsz=imgsz,
            nchw=True,
            normalized=False,
            int8=int8,
            dynamic=dynamic,
            calibrated_on=calibrated_on,
        )
        final = work / "out"
        final.mkdir()
        for f in files:
            shutil.move(work / f, final / f)
        (final / _META).write_text(json.dumps({**asdict(meta), "directory": ""}, indent=1))
        shutil.rmtree(target, ignore_errors=True)
        final.rename(target)
    return Exported(**{**asdict(meta), "directory": str(target)})


def _files_of(model: Path) -> list[str]:
    return [model.name, model.with_suffix(".bin").name] if model.suffix == ".xml" else [model.name]


def _files_sha256(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(bytes.fromhex(file_sha256(p)))
    return h.hexdigest()


def _from_torch(weights: Path, fmt: Format, work: Path, imgsz: int, *, dynamic: bool) -> str:
    from ultralytics import YOLO

    # The exporter writes next to its checkpoint: give it a copy in the scratch directory.
    copy = work / weights.name
    shutil.copyfile(weights, copy)
    options = {"simplify": False} if fmt == "onnx" else {}
    out = Path(
        YOLO(str(copy), task="detect").export(
            format=fmt, imgsz=imgsz, dynamic=dynamic, batch=1, **options
        )
    )
    if fmt == "onnx":
        out.rename(work / "model.onnx")
        return "model.onnx"
    xml = next(out.glob("*.xml"))
    xml.rename(work / "model.xml")
    xml.with_suffix(".bin").rename(work / "model.bin")
    return "model.xml"


def calibration_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """The videos and the images in ``directory`` INT8 calibrates on."""
    if not directory.is_dir():
        raise DetectorInputError(f"calibration directory {directory} not found")
    files = sorted(directory.iterdir())
    return (
        [p for p in files if p.suffix.lower() in _VIDEO_SUFFIXES],
        [p for p in files if p.suffix.lower() in _IMAGE_SUFFIXES],
    )


def calibration_fingerprint(directory: Path) -> str:
    """Which files calibrate: their names and sizes, not their bytes, as every worker's start
    asks and the clips may run to gigabytes."""
    videos, images = calibration_files(directory)
    listed = "\n".join(f"{p.name}\t{p.stat().st_size}" for p in videos + images)
    return hashlib.sha256(listed.encode()).hexdigest()[:16]


def calibration_frames(directory: Path, count: int, imgsz: int) -> list[np.ndarray]:
    """About ``count`` letterboxed frames spread evenly over the videos and images found."""
    files, images = calibration_files(directory)
    frames: list[np.ndarray] = []
    per_video = max(1, (count - len(images)) // max(len(files), 1))
    for video in files:
        cap = cv2.VideoCapture(str(video))
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or per_video
        wanted = set(np.linspace(0, total - 1, per_video).astype(int).tolist())
        for i in range(total):
            if not cap.grab():
                break
            if i in wanted:
                ok, image = cap.retrieve()
                if ok:
                    frames.append(letterbox(image, imgsz)[0])
        cap.release()
    for path in images:
        still = cv2.imread(str(path))
        if still is not None:
            frames.append(letterbox(still, imgsz)[0])
    if not frames:
        raise DetectorInputError(f"no calibration frames (videos or images) in {directory}")
    return frames


def _quantise(model: Path, calibration: Path, imgsz: int, work: Path) -> str:
    import nncf
    import openvino as ov

    frames = calibration_frames(calibration, 300, imgsz)
    data = nncf.Dataset(frames, lambda canvas: to_input([canvas], nchw=True))
    quantised = nncf.quantize(
        ov.Core().read_model(model),
        data,
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(frames),
        # The head's box decoding stays in float: quantising it moves boxes by whole pixels.
        ignored_scope=nncf.IgnoredScope(types=["Multiply", "Subtract", "Sigmoid"]),
    )
    for f in (model, model.with_suffix(".bin")):
        f.unlink()
    ov.save_model(quantised, work / "model.xml", compress_to_fp16=False)
    return "model.xml"
