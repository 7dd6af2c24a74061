"""Signal state from smart traffic-light controllers (topic SIGNAL_STATE) into the cameras'
SignalMonitors, where it takes precedence over the colour read from the image.

A region follows a message when its controller_id and id match the message's controller_id
and signal_id. Controllers repeat their state; one not heard from for ``stale_after_s``
is dropped, and the camera's own reading applies again.
"""

from __future__ import annotations

import logging

from kafka import KafkaConsumer
from pydantic import ValidationError

from contract import topics
from contract.signals import SignalColour, SignalState
from detectors.signal_state import SignalMonitor
from dozor import bus
from dozor.settings import Settings

log = logging.getLogger(__name__)


class SignalFeed:
    def __init__(self, stale_after_s: float = 5.0) -> None:
        self.stale_after_s = stale_after_s
        self.monitors: dict[str, SignalMonitor] = {}
        # (camera id, region id) -> monotonic time of the last message that set it
        self.heard: dict[tuple[str, str], float] = {}

    def attach(self, camera_id: str, monitor: SignalMonitor) -> None:
        self.monitors[camera_id] = monitor

    def detach(self, camera_id: str) -> None:
        self.monitors.pop(camera_id, None)
        self.heard = {k: v for k, v in self.heard.items() if k[0] != camera_id}

    def apply(self, state: SignalState, now: float) -> int:
        """Set the regions this message governs; returns how many it reached."""
        reached = 0
        for camera_id, monitor in self.monitors.items():
            for region in monitor.regions:
                if (region.controller_id, region.id) != (state.controller_id, state.signal_id):
                    continue
                reached += 1
                if state.colour is SignalColour.UNKNOWN:
                    monitor.external.pop(region.id, None)
                    self.heard.pop((camera_id, region.id), None)
                else:
                    monitor.external[region.id] = state.colour
                    self.heard[(camera_id, region.id)] = now
        return reached

    def handle(self, value: bytes, now: float) -> int:
        """One Kafka message value; a malformed one is logged and skipped."""
        try:
            state = SignalState.model_validate_json(value)
        except ValidationError as exc:
            log.warning("malformed signal state skipped: %s", exc.errors()[0]["msg"])
            return 0
        return self.apply(state, now)

    def expire(self, now: float) -> None:
        for (camera_id, region_id), at in list(self.heard.items()):
            if now - at > self.stale_after_s:
                monitor = self.monitors.get(camera_id)
                if monitor is not None:
                    monitor.external.pop(region_id, None)
                del self.heard[(camera_id, region_id)]


class SignalFeedReader:
    """Feeds SIGNAL_STATE messages into a SignalFeed from the worker's own loop (no thread:
    the monitors it changes are read by that loop)."""

    def __init__(self, settings: Settings, feed: SignalFeed) -> None:
        self.feed = feed
        self.reader: KafkaConsumer = bus.latest_reader(settings, topics.SIGNAL_STATE)

    def poll(self, now: float) -> int:
        reached = 0
        for records in self.reader.poll(timeout_ms=0).values():
            for record in records:
                reached += self.feed.handle(record.value, now)
        self.feed.expire(now)
        return reached

    def close(self) -> None:
        self.reader.close()
