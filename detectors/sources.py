"""Frame sources behind one reader interface. Files here; live streams plug in beside."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from detectors.errors import DetectorInputError


@dataclass(frozen=True)
class Frame:
    index: int
    offset_s: float
    image: np.ndarray


class FileSource:
    """A recorded video; timestamps come from the container's PTS, not the wall clock."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise DetectorInputError(f"video not found: {path}")
        self.path = path
        cap = cv2.VideoCapture(str(path))
        try:
            ok, first = cap.read() if cap.isOpened() else (False, None)
            if not ok or first is None:
                raise DetectorInputError(f"cannot decode video (corrupt or unsupported): {path}")
            self.fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
            self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
            self.width, self.height = first.shape[1], first.shape[0]
        finally:
            cap.release()
        # A recording's own timeline starts when the file was written, unless told otherwise.
        self.started_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)

    @property
    def uri(self) -> str:
        return self.path.resolve().as_uri()

    def content_hash(self) -> str:
        h = hashlib.sha256()
        with self.path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    def frames(self) -> Iterator[Frame]:
        cap = cv2.VideoCapture(str(self.path))
        try:
            index = 0
            while True:
                ok, image = cap.read()
                if not ok:
                    break
                pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                offset = pos_ms / 1000 if pos_ms > 0 or index == 0 else index / self.fps
                yield Frame(index, max(offset, 0.0), image)
                index += 1
        finally:
            cap.release()
