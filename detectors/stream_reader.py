"""One live stream decoded off the caller's thread: bounded, timed out, reconnecting.

The reader decodes every frame the source sends, so it never falls behind real time, and
hands on only the frames due at the analysis rate. What it hands on waits in a small
queue that drops its oldest frame when full: a slow analyser sees fresh frames, never an
ever-growing backlog. Every open and read has a timeout; a failed stream is reopened with
exponential backoff and jitter, so a city's cameras coming back do not reconnect in step.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import cv2
import numpy as np

from dozor.backoff import backoff_delay
from dozor.redact import redact
from dozor.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderOptions:
    analysis_fps: float
    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    queue_frames: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> ReaderOptions:
        return cls(
            analysis_fps=settings.analysis_fps,
            open_timeout_s=settings.stream_open_timeout_s,
            read_timeout_s=settings.stream_read_timeout_s,
            backoff_initial_s=settings.stream_backoff_initial_s,
            backoff_max_s=settings.stream_backoff_max_s,
            queue_frames=settings.worker_queue_frames,
        )


class Capture(Protocol):
    """The part of cv2.VideoCapture the reader uses."""

    def isOpened(self) -> bool: ...
    def grab(self) -> bool: ...
    def retrieve(self) -> tuple[bool, np.ndarray | None]: ...
    def get(self, prop: int) -> float: ...
    def release(self) -> None: ...


def configure_ffmpeg(options: str) -> None:
    """Process-wide FFmpeg demuxer options; an operator's own environment value wins."""
    os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", options)


def open_ffmpeg(uri: str, options: ReaderOptions) -> Capture:
    return cv2.VideoCapture(
        uri,
        cv2.CAP_FFMPEG,
        [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(options.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(options.read_timeout_s * 1000),
        ],
    )


def is_recording(uri: str) -> bool:
    """A file (path or file://) rather than a network stream: it must be paced to real time."""
    parsed = urlparse(uri)
    return parsed.scheme in ("", "file") or Path(uri).is_file()


@dataclass(frozen=True)
class Captured:
    image: np.ndarray
    captured_at: float  # wall clock (UTC epoch seconds) when the frame was read


@dataclass
class ReaderStats:
    decoded: int = 0
    delivered: int = 0
    skipped: int = 0  # decoded but not due at the analysis rate
    dropped: int = 0  # due, but pushed out of the queue by a newer frame before analysis
    errors: int = 0
    reconnects: int = 0
    connected: bool = False
    last_frame_at: float | None = None
    last_error: str | None = None


class StreamReader:
    def __init__(
        self,
        uri: str,
        options: ReaderOptions,
        *,
        open_capture: Callable[[str, ReaderOptions], Capture] = open_ffmpeg,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        name: str = "stream",
    ) -> None:
        self.uri = uri
        self.options = options
        self.stats = ReaderStats()
        self._open = open_capture
        self._clock = clock
        self._rng = rng or random.Random()
        self._queue: deque[Captured] = deque()
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._paced = is_recording(uri)
        self._thread = threading.Thread(target=self._run, name=f"decode-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop decoding; waits at most one read timeout for the thread to notice."""
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        if self._thread.is_alive():
            self._thread.join(self.options.read_timeout_s + 1 if timeout_s is None else timeout_s)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def depth(self) -> int:
        return len(self._queue)

    def take(self) -> Captured | None:
        """The oldest waiting frame, without blocking."""
        with self._ready:
            return self._queue.popleft() if self._queue else None

    def wait(self, timeout_s: float) -> Captured | None:
        with self._ready:
            if not self._queue and not self._stop.is_set():
                self._ready.wait(timeout_s)
            return self._queue.popleft() if self._queue else None

    def _error(self, message: str) -> None:
        self.stats.errors += 1
        self.stats.last_error = message
        log.warning("stream %s: %s", redact(self.uri), message)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            cap = self._open(self.uri, self.options)
            try:
                if not cap.isOpened():
                    self._error("cannot open stream")
                elif self._read(cap):
                    failures = 0
                    if not self._stop.is_set():
                        self._error("stream ended or read timed out")
                elif not self._stop.is_set():
                    self._error("no frame within the read timeout")
            finally:
                cap.release()
                self.stats.connected = False
            if self._stop.is_set():
                break
            self.stats.reconnects += 1
            self._stop.wait(
                backoff_delay(
                    failures, self.options.backoff_initial_s, self.options.backoff_max_s, self._rng
                )
            )
            failures += 1

    def _read(self, cap: Capture) -> bool:
        """Decode until the stream fails or the reader stops; True if any frame came."""
        period = 1.0 / self.options.analysis_fps
        next_due = 0.0
        started = self._clock()
        got_any = False
        while not self._stop.is_set():
            if not cap.grab():
                return got_any
            now = self._clock()
            if self._paced:
                # A recording read as a camera plays at its own speed, not as fast as it decodes.
                ahead = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000 - (now - started)
                if ahead > 0:
                    self._stop.wait(ahead)
                    now = self._clock()
            got_any = True
            self.stats.connected = True
            self.stats.decoded += 1
            self.stats.last_frame_at = now
            if now < next_due:
                self.stats.skipped += 1
                continue
            # Keep a steady cadence; after a stall, restart it instead of bursting to catch up.
            next_due = next_due + period if now - next_due < period else now + period
            ok, image = cap.retrieve()
            if not ok or image is None:
                self._error("cannot decode frame")
                continue
            with self._ready:
                if len(self._queue) >= self.options.queue_frames:
                    self._queue.popleft()
                    self.stats.dropped += 1
                self._queue.append(Captured(image, now))
                self.stats.delivered += 1
                self._ready.notify()
        return got_any
