"""What every rule sees and returns. A rule is a small class over tracks and the scene."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from contract.events import EventType
from contract.scene import SceneConfig
from detectors.signal_state import Colour
from detectors.tracks import TrackBook

VEHICLES = frozenset({"car", "motorcycle", "bus", "truck"})


@dataclass(frozen=True)
class FrameContext:
    index: int
    offset_s: float
    image: np.ndarray
    tracks: TrackBook
    signals: dict[str, Colour] = field(default_factory=dict)
    signal_since: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A rule's verdict, before evidence is stored and the event is published."""

    type: EventType
    gost_code: str | None
    track_id: int | None
    frame_index: int
    offset_s: float
    confidence: float
    params: dict[str, float | str]
    measured: dict[str, float | str]
    #: Which frames prove it, by evidence role ("before", "overview", "after"); the rule
    #: chooses. Frames after the finding are captured once they have been seen.
    evidence_frames: dict[str, int] = field(default_factory=dict)


class Rule(ABC):
    event_type: ClassVar[EventType]
    gost_code: ClassVar[str | None] = None

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        self.scene = scene
        self.fps = fps

    @classmethod
    @abstractmethod
    def applies(cls, scene: SceneConfig) -> bool:
        """Whether the scene has what this rule needs (lines, zones, signals)."""

    @abstractmethod
    def update(self, ctx: FrameContext) -> list[Finding]:
        """Look at one more frame; return what became a finding in it."""
