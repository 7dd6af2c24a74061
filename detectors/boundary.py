"""The one way detectors reach the registry: leases, scenes, stream credentials and health.

Workers and replays take a :class:`RegistryLink`; the command layer hands them the registry's
implementation (``registry.link.DatabaseLink``), so no detector module imports the registry's
ORM models or sessions, and a link over the API could replace it without touching them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from contract.health import Heartbeat
from contract.scene import SceneConfig


class Lease(Protocol):
    """A camera held by one worker until it expires; the epoch grows on every claim."""

    @property
    def camera_id(self) -> str: ...

    @property
    def epoch(self) -> int: ...

    @property
    def stream_lost_at(self) -> datetime | None: ...


class RegistryLink(Protocol):
    def claim(self, worker_id: str, limit: int, ttl_s: float) -> list[Lease]:
        """Take up to ``limit`` cameras whose lease expired."""
        ...

    def renew(self, worker_id: str, held: Iterable[tuple[str, int]], ttl_s: float) -> set[str]:
        """Extend the leases (camera, epoch) still ours; the camera ids kept."""
        ...

    def release(self, worker_id: str, leases: Iterable[tuple[str, int]]) -> None:
        """Give cameras up now, so that another worker may claim them without waiting."""
        ...

    def mark_stream(self, camera_id: str, epoch: int, lost_at: datetime | None) -> bool:
        """Remember a stream loss (None: it is back); False when the lease moved on."""
        ...

    def scene(self, camera_id: str) -> tuple[int, SceneConfig]:
        """The current scene version and config; LookupError for an unknown camera or none."""
        ...

    def stream_url(self, camera_id: str) -> str:
        """The main stream URL with its credentials, only for the process that connects."""
        ...

    def reference_frame(self, camera_id: str, version: int) -> bytes | None:
        """The image (JPEG) the scene version was drawn on, or None when none was kept;
        frames are registered against it (detectors/registration.py)."""
        ...

    def report(self, beats: list[Heartbeat]) -> None:
        """Record heartbeats as the cameras' latest health."""
        ...
