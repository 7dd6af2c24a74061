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
    """A recorded video; timestamps come from the container's PTS, not the wall clock.

    With ``analysis_fps`` it is analysed as a live camera is: every ``step``-th frame, the
    largest whole step that keeps at least ``analysis_fps``; the frames between are only
    grabbed (demuxed and decoded by FFmpeg, never converted to an image). ``fps`` is then the
    analysed rate and ``Frame.index`` counts analysed frames, as on a live stream, so the
    rules' frame arithmetic holds either way.
    """

    def __init__(
        self,
        path: Path,
        *,
        analysis_fps: float | None = None,
        started_at: datetime | None = None,
    ) -> None:
        if not path.is_file():
            raise DetectorInputError(f"video not found: {path}")
        self.path = path
        cap = cv2.VideoCapture(str(path))
        try:
            ok, first = cap.read() if cap.isOpened() else (False, None)
            if not ok or first is None:
                raise DetectorInputError(f"cannot decode video (corrupt or unsupported): {path}")
            self.file_fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
            file_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
            self.width, self.height = first.shape[1], first.shape[0]
        finally:
            cap.release()
        self.step = analysis_step(self.file_fps, analysis_fps)
        self.fps = self.file_fps / self.step
        self.frame_count = -(-file_frames // self.step) if file_frames else None
        # A recording's own timeline starts when the file was written, unless told otherwise.
        self.started_at = started_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)

    @property
    def uri(self) -> str:
        return self.path.resolve().as_uri()

    def content_hash(self) -> str:
        h = hashlib.sha256()
        with self.path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    def source_id(self) -> str:
        """Identifies the recording and how it is sampled: deterministic event ids and caches
        of per-frame results key on it (frame indices differ between rates)."""
        digest = self.content_hash()
        return digest if self.step == 1 else f"{digest}:step{self.step}"

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
        """Analysed frames ``start`` (inclusive) to ``stop`` (exclusive), by analysed index."""
        cap = cv2.VideoCapture(str(self.path))
        try:
            file_index = 0
            while stop is None or file_index < stop * self.step:
                if not cap.grab():
                    break
                index, skipped = divmod(file_index, self.step)
                file_index += 1
                if skipped or index < start:
                    continue
                ok, image = cap.retrieve()
                if not ok:
                    break
                pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                at = file_index - 1
                offset = pos_ms / 1000 if pos_ms > 0 or at == 0 else at / self.file_fps
                yield Frame(index, max(offset, 0.0), image)
        finally:
            cap.release()


def analysis_step(file_fps: float, analysis_fps: float | None) -> int:
    """Every how many frames of a file one is analysed: None means every frame."""
    if analysis_fps is None or analysis_fps >= file_fps:
        return 1
    # The tiny slack keeps 24.0 / 8.0 at a step of 3 despite float rounding.
    return max(1, int(file_fps / analysis_fps + 1e-6))


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
