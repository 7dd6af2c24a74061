"""The registry side of ``detectors.boundary.RegistryLink``: workers and replays sharing the
registry's database reach leases, scenes, stream credentials and health only through this."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from contract.health import Heartbeat
from contract.scene import SceneConfig
from dozor.settings import Settings
from registry import leases
from registry.crypto import stream_urls
from registry.db import session_scope
from registry.health import record_heartbeat
from registry.models import Camera
from registry.scenes import current_scene


class DatabaseLink:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.db_url

    def claim(self, worker_id: str, limit: int, ttl_s: float) -> list[leases.Lease]:
        with session_scope(self.url) as session:
            return leases.claim(session, worker_id, limit, ttl_s)

    def renew(self, worker_id: str, held: Iterable[tuple[str, int]], ttl_s: float) -> set[str]:
        with session_scope(self.url) as session:
            return leases.renew(session, worker_id, held, ttl_s)

    def release(self, worker_id: str, held: Iterable[tuple[str, int]]) -> None:
        with session_scope(self.url) as session:
            for camera_id, epoch in held:
                leases.release(session, worker_id, camera_id, epoch)

    def mark_stream(self, camera_id: str, epoch: int, lost_at: datetime | None) -> bool:
        with session_scope(self.url) as session:
            return leases.mark_stream(session, camera_id, epoch, lost_at)

    def scene(self, camera_id: str) -> tuple[int, SceneConfig]:
        with session_scope(self.url) as session:
            if session.get(Camera, camera_id) is None:
                raise LookupError(f"unknown camera id: {camera_id}")
            return current_scene(session, camera_id)  # NoSceneError is a LookupError

    def stream_url(self, camera_id: str) -> str:
        # Credentials are stored apart, encrypted; only the connecting process joins them.
        with session_scope(self.url) as session:
            return stream_urls(session, self.settings, camera_id).get("main", "")

    def reference_frame(self, camera_id: str, version: int) -> bytes | None:
        from registry.frames import stored_frame

        with session_scope(self.url) as session:
            return stored_frame(session, self.settings, camera_id, version)

    def report(self, beats: list[Heartbeat]) -> None:
        with session_scope(self.url) as session:
            for beat in beats:
                record_heartbeat(session, beat)
