"""The live reader against scripted captures: sampling, bounded queue, reconnects."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import numpy as np

from detectors.sources import LiveSource
from detectors.stream_reader import ReaderOptions, StreamReader, is_recording


class ScriptedCapture:
    """Serves `frames` frames 40 ms apart on a fake clock, then fails (a dropped stream)."""

    def __init__(self, clock: list[float], frames: int, opened: bool = True) -> None:
        self.clock, self.left, self.opened = clock, frames, opened
        self.released = False

    def isOpened(self) -> bool:
        return self.opened

    def grab(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        self.clock[0] += 0.04
        return True

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, np.full((4, 4, 3), self.left, np.uint8)

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        self.released = True


def _reader(captures: list[ScriptedCapture], clock: list[float], **opts: float) -> StreamReader:
    options = ReaderOptions(analysis_fps=5, backoff_initial_s=0.001, backoff_max_s=0.002, **opts)
    opened: list[ScriptedCapture] = []
    done = threading.Event()

    def open_capture(uri: str, o: ReaderOptions) -> ScriptedCapture:
        if captures:
            opened.append(captures.pop(0))
            return opened[-1]
        done.set()
        return ScriptedCapture(clock, 0, opened=False)

    reader = StreamReader(
        "rtsp://user:secret@cam/1", options, open_capture=open_capture, clock=lambda: clock[0]
    )
    reader.done = done  # type: ignore[attr-defined]
    return reader


def test_decodes_every_frame_but_hands_on_the_analysis_rate_and_drops_oldest() -> None:
    clock = [1000.0]
    reader = _reader([ScriptedCapture(clock, 250)], clock, queue_frames=2)
    reader.start()
    assert reader.done.wait(5)  # type: ignore[attr-defined]
    reader.stop()
    st = reader.stats
    assert st.decoded == 250  # 10 s of 25 fps
    assert st.delivered == 50  # 5 fps
    assert st.skipped == 200
    assert reader.depth == 2 and st.dropped == 48  # nobody took frames: only the newest 2 stay
    older, newer = reader.take(), reader.take()
    assert older is not None and newer is not None
    assert older.captured_at < newer.captured_at and newer.captured_at > clock[0] - 0.25


def test_reconnects_after_failures_and_reports_errors() -> None:
    clock = [0.0]
    caps = [ScriptedCapture(clock, 0, opened=False), ScriptedCapture(clock, 5)]
    reader = _reader(list(caps), clock)
    reader.start()
    assert reader.done.wait(5)  # type: ignore[attr-defined]
    reader.stop()
    assert all(c.released for c in caps)
    assert reader.stats.decoded == 5
    assert reader.stats.reconnects >= 2
    assert reader.stats.errors >= 2 and reader.stats.last_error
    assert "secret" not in (reader.stats.last_error or "")


def test_live_source_stamps_wall_clock_utc_and_redacts_its_uri() -> None:
    clock = [datetime(2025, 1, 1, tzinfo=UTC).timestamp()]
    reader = _reader([ScriptedCapture(clock, 30)], clock)
    source = LiveSource(
        "rtsp://user:secret@cam/1",
        reader.options,
        started_at=datetime(2025, 1, 1, tzinfo=UTC),
        reader=reader,
    )
    assert "secret" not in source.uri
    source.start()
    assert reader.done.wait(5)  # type: ignore[attr-defined]
    first, second = source.poll(), source.poll()
    source.stop()
    assert first is not None and second is not None
    assert (first.index, second.index) == (0, 1)
    assert first.captured_at is not None and first.captured_at.tzinfo is UTC
    assert second.offset_s > first.offset_s > 0


def test_files_are_paced_streams_are_not() -> None:
    assert is_recording("/work/clip.mp4") and is_recording("file:///work/clip.mp4")
    assert not is_recording("rtsp://10.0.0.1/stream") and not is_recording("http://x/y.mjpg")
