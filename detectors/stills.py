"""Single frames for drawing scenes on: from a recorded file at a time, or from a live stream.

Recordings are listed from one directory and named by file name only, so a request can
never reach outside it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detectors.errors import DetectorInputError
from dozor.redact import redact

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".ts")


@dataclass(frozen=True)
class Recording:
    name: str
    size: int
    duration_s: float | None
    fps: float | None
    width: int | None
    height: int | None


def recording_path(directory: Path, name: str) -> Path:
    """The file ``name`` in ``directory``; refuses anything that is not a plain file name."""
    if not name or "/" in name or "\\" in name or ".." in name or name.startswith("."):
        raise ValueError(f"not a recording name: {name!r}")
    if not name.lower().endswith(VIDEO_SUFFIXES):
        raise ValueError(f"not a video file name: {name!r}")
    path = directory / name
    if not path.is_file():
        raise FileNotFoundError(f"no recording {name!r}")
    return path


def describe(path: Path) -> Recording:
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return Recording(path.name, path.stat().st_size, None, None, None, None)
        fps = cap.get(cv2.CAP_PROP_FPS) or None
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT) or None
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        cap.release()
    duration = round(count / fps, 2) if fps and count else None
    return Recording(path.name, path.stat().st_size, duration, fps, w or None, h or None)


def recordings(directory: Path) -> list[Recording]:
    if not directory.is_dir():
        return []
    return [
        describe(p)
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name.lower().endswith(VIDEO_SUFFIXES) and not p.name.startswith(".")
    ]


def frame_at(path: Path, t: float | None = None, index: int | None = None) -> np.ndarray:
    """The frame shown at ``t`` seconds into a recording, or frame number ``index`` (BGR)."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise DetectorInputError(f"cannot decode video: {path.name}")
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0
        where = f"{t}s" if index is None else f"frame {index}"
        if index is None:
            if count and (t or 0.0) > count / fps:
                raise DetectorInputError(
                    f"{path.name} is {count / fps:.2f}s long; no frame at {t}s"
                )
            index = int((t or 0.0) * fps)
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = cap.read()
        if not ok or image is None:
            raise DetectorInputError(f"no frame at {where} in {path.name}")
        return image
    finally:
        cap.release()


def grab_live(url: str, timeout_s: float) -> np.ndarray:
    """One frame from a live stream, or DetectorInputError within ``timeout_s``.

    Timeouts go to this capture alone: OPENCV_FFMPEG_CAPTURE_OPTIONS is process-wide, and
    setting it in a server would change how every later recording is decoded."""
    ms = int(timeout_s * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
    result: list[np.ndarray] = []

    def read() -> None:
        cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        try:
            ok, image = cap.read() if cap.isOpened() else (False, None)
            if ok and image is not None:
                result.append(image)
        finally:
            cap.release()

    # OpenCV cannot be interrupted; a stream that hangs past its own timeouts leaves a
    # daemon thread behind, not a request waiting for ever.
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout_s + 1)
    if not result:
        raise DetectorInputError(f"no frame from {redact(url)} within {timeout_s:g}s")
    return result[0]


def reference_image(data: bytes | None, width: int, height: int) -> np.ndarray | None:
    """A stored reference frame as a BGR image, if it decodes and has the scene's size."""
    if not data:
        return None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape[:2] != (height, width):
        return None
    return image
