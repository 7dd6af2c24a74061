"""A smart traffic-light controller's state on Kafka overrides what the camera sees."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest

from contract import topics
from contract.scene import SignalRegion
from contract.signals import SignalColour, SignalState
from detectors.signal_feed import SignalFeed, SignalFeedReader
from detectors.signal_state import SignalMonitor
from dozor import bus
from dozor.settings import Settings

pytestmark = pytest.mark.integration


def test_published_controller_state_reaches_the_cameras_monitor(stack_env: Settings) -> None:
    bus.ensure_topics(stack_env)
    region = SignalRegion(id="head-1", bbox=(0, 0, 10, 10), controller_id="TL-0417")
    monitor = SignalMonitor([region], fps=10)
    feed = SignalFeed(stale_after_s=60)
    feed.attach("VLG-ENF-001", monitor)
    reader = SignalFeedReader(stack_env, feed)
    producer = bus.producer(stack_env)
    try:
        for signal_id in ("head-9", "head-1"):  # another head of the same controller first
            state = SignalState(
                controller_id="TL-0417",
                signal_id=signal_id,
                colour=SignalColour.GREEN,
                time=datetime.now(UTC),
            )
            producer.send(
                topics.SIGNAL_STATE,
                key=b"TL-0417",
                value=state.model_dump_json().encode(),
                timeout_s=10,
            )
        deadline = time.monotonic() + 20
        reached = 0
        while reached == 0:
            assert time.monotonic() < deadline, "the controller's state never arrived"
            reached = reader.poll(time.monotonic())
    finally:
        producer.close()
        reader.close()
    assert reached == 1
    dark = np.zeros((10, 10, 3), np.uint8)  # the camera itself sees nothing lit
    assert monitor.update(dark, 0.0)["head-1"] is SignalColour.GREEN
