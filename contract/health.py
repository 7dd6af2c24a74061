"""Camera health reports: detector heartbeats to the registry (detectors/boundary.py or
``POST /cameras/{id}/heartbeat``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contract.ids import WorkerId

HEALTH_SCHEMA_VERSION: Final = "1"


class HealthState(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"


class Heartbeat(BaseModel):
    """What a detector worker reports about one camera it analyses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: str = HEALTH_SCHEMA_VERSION
    camera_id: str
    worker_id: WorkerId
    time: AwareDatetime
    fps_in: float = Field(ge=0, description="Frames decoded per second.")
    fps_out: float = Field(ge=0, description="Frames analysed per second.")
    inference_ms: float | None = Field(None, ge=0)
    queue_depth: int = Field(0, ge=0)
    last_frame_time: AwareDatetime | None = None
    errors: int = Field(0, ge=0, description="Errors since the previous heartbeat.")
    last_error: str | None = Field(None, max_length=500)
