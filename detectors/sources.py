"""Frame sources behind one reader interface: recorded files and live streams."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from detectors.errors import DetectorInputError
from detectors.stream_reader import Captured, ReaderOptions, StreamReader
from dozor.redact import redact

# FFmpeg's own messages about broken input would interleave with the one clear error line
# we report for it; OpenCV reads this variable whenever it opens a capture.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


@dataclass(frozen=True)
class Frame:
    index: int
    offset_s: float  # seconds since the source's started_at
    image: np.ndarray
    captured_at: datetime | None = None  # wall-clock UTC, for live sources


class FrameSource(Protocol):
    fps: float
    started_at: datetime

    @property
    def uri(self) -> str:
        """Where the frames come from, credentials redacted."""
        ...

    def frames(self) -> Iterator[Frame]: ...


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


class LiveSource:
    """An RTSP or HTTP stream (or a file played as one): wall-clock UTC capture times,
    decoded on a thread of its own, delivered at the analysis rate."""

    def __init__(
        self,
        uri: str,
        options: ReaderOptions,
        *,
        started_at: datetime | None = None,
        reader: StreamReader | None = None,
    ) -> None:
        self._uri = redact(uri)
        self.fps = options.analysis_fps
        self.started_at = started_at or datetime.now(UTC)
        self.reader = reader or StreamReader(uri, options, name=self._uri)
        self._index = 0

    @property
    def uri(self) -> str:
        return self._uri

    def start(self) -> None:
        self.reader.start()

    def stop(self) -> None:
        self.reader.stop()

    def poll(self) -> Frame | None:
        """The next frame if one is waiting, without blocking."""
        captured = self.reader.take()
        return self._frame(captured) if captured else None

    def frames(self) -> Iterator[Frame]:
        """Frames as they arrive, until stop() (the reader keeps reconnecting meanwhile)."""
        self.start()
        try:
            while not self.reader.stopped:
                captured = self.reader.wait(timeout_s=0.5)
                if captured is not None:
                    yield self._frame(captured)
        finally:
            self.stop()

    def _frame(self, captured: Captured) -> Frame:
        at = datetime.fromtimestamp(captured.captured_at, UTC)
        offset = max((at - self.started_at).total_seconds(), 0.0)
        frame = Frame(self._index, offset, captured.image, at)
        self._index += 1
        return frame
