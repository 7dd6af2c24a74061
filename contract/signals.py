"""Signal state published by a smart traffic-light controller (topic SIGNAL_STATE, key =
controller id). Detectors prefer it to the colour they read from the camera image."""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SIGNAL_SCHEMA_VERSION: Final = "1"


class SignalColour(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    #: Dark, flashing or in fault: the camera's own reading applies again.
    UNKNOWN = "unknown"


class SignalState(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal["1"] = SIGNAL_SCHEMA_VERSION
    controller_id: str = Field(min_length=1, max_length=64)
    signal_id: str = Field(
        min_length=1,
        max_length=64,
        description="Signal head or phase, as the scene's SignalRegion id names it.",
    )
    colour: SignalColour
    time: AwareDatetime = Field(description="When the controller switched to this colour.")
