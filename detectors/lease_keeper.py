"""Keeping cameras by lease: renew what is ours, claim what is free, fence what is lost.

No event is published twice across a takeover because two workers' publishing windows
cannot overlap: a worker publishes only while its lease has at least ``fence_s`` left by
its own conservative reckoning (the local deadline is counted from before the renewal
reached the registry), and another worker can claim the camera only after the lease
expired by the registry's clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from contract.scene import SceneConfig
from detectors.boundary import Lease, RegistryLink
from detectors.camera_run import CameraRun
from detectors.stills import reference_image


@dataclass(frozen=True)
class Claimed:
    lease: Lease
    uri: str
    scene_version: int
    scene: SceneConfig
    deadline: float
    reference: np.ndarray | None = None  # the scene version's reference frame


class LeaseKeeper:
    def __init__(self, link: RegistryLink, worker_id: str, capacity: int, ttl_s: float) -> None:
        self.link = link
        self.worker_id = worker_id
        self.capacity = capacity
        self.ttl_s = ttl_s
        # Renewals come every third of the lease; publishing stops a third before it ends.
        self.fence_s = ttl_s / 3

    def round(self, runs: Iterable[CameraRun]) -> list[Claimed]:
        """Renew the held leases (fencing the lost ones) and claim free cameras up to the
        capacity; what was claimed, with its stream and scene, for the worker to start."""
        runs = list(runs)
        # Taken before the registry is asked, so the local deadline is never later than
        # the expiry the registry records.
        asked_at = time.monotonic()
        held = [(r.camera_id, r.lease.epoch) for r in runs if not r.fenced]
        kept = self.link.renew(self.worker_id, held, self.ttl_s)
        for run in runs:
            if run.camera_id in kept:
                run.deadline = asked_at + self.ttl_s
            else:
                run.fenced = True
        claimed = self.link.claim(self.worker_id, self.capacity - len(kept), self.ttl_s)
        started = []
        for lease in claimed:
            version, scene = self.link.scene(lease.camera_id)
            uri = self.link.stream_url(lease.camera_id)
            reference = reference_image(
                self.link.reference_frame(lease.camera_id, version),
                scene.frame_width,
                scene.frame_height,
            )
            started.append(Claimed(lease, uri, version, scene, asked_at + self.ttl_s, reference))
        return started

    def may_publish(self, run: CameraRun | None) -> bool:
        """Publishing is allowed only well inside the lease; outside it the run is fenced."""
        if run is None:
            return False
        if run.fenced or time.monotonic() + self.fence_s >= run.deadline:
            run.fenced = True
            return False
        return True

    def mark_stream(self, run: CameraRun) -> bool:
        """Record the run's stream loss (or return) under its lease; fences it if lost."""
        if self.link.mark_stream(run.camera_id, run.lease.epoch, run.lost_at):
            return True
        run.fenced = True
        return False

    def release(self, runs: Iterable[CameraRun]) -> None:
        self.link.release(self.worker_id, [(r.camera_id, r.lease.epoch) for r in runs])
