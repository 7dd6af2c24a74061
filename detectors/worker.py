"""The live detector worker: many cameras per process, a city's cameras spread over workers.

Each camera is decoded on a thread of its own (detectors/stream_reader.py); the waiting
frames of all cameras go through one model in a batch, on the inference thread, while the
main thread runs each camera's tracking, rules, evidence and publishing for the batch before
(detectors/analyser.py), through the same Pipeline replays use.

Cameras are held by leases (detectors/lease_keeper.py, through detectors/boundary.py to the
registry); streams are watched by detectors/stream_watch.py and health reported by
detectors/health_report.py. No event is published twice across a
takeover because the two workers' publishing windows cannot overlap: a worker publishes
only while its lease has at least `fence_s` left by its own conservative reckoning (the
local deadline is counted from before the renewal reached the database), and the publish
itself is bounded by `fence_s`; another worker can claim the camera only after the lease
expired by the database's clock. So the new worker analyses only frames captured after
every frame the old one could still publish about, and cannot rediscover its events.
Within a lease, event ids are deterministic (camera, lease epoch, track, frame), so a
retried publish carries the same id and the evidence consumer indexes it once. Stream
lost/restored incidents are keyed by the loss time kept in the lease row, which a
takeover inherits: the new worker neither repeats the `stream lost` nor invents another.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import start_http_server

from contract.events import DetectionEvent
from detectors.analyser import Analyser, StageTimes
from detectors.backends import backend_from_settings
from detectors.boundary import RegistryLink
from detectors.camera_run import CameraRun, LeaseLost
from detectors.health_report import HealthReporter
from detectors.lease_keeper import Claimed, LeaseKeeper
from detectors.outbox import Outbox
from detectors.pipeline import CameraContext, Pipeline, with_evidence
from detectors.publisher import EventPublisher
from detectors.signal_feed import SignalFeed, SignalFeedReader
from detectors.sources import LiveSource
from detectors.stream_reader import ReaderOptions, configure_ffmpeg
from detectors.stream_watch import StreamWatcher
from detectors.tracking import CameraTracker
from detectors.worker_metrics import EVENTS, LEASES, forget_camera
from dozor import bus
from dozor.redact import redact
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.capture import EvidenceWriter
from evidence.signing import load_detector_signer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSummary:
    worker_id: str
    frames: int
    events: int
    cameras_held: int


class Worker:
    """Runs the cameras it holds: the lease keeper, stream watcher and health reporter keep
    them, this class analyses them and fences every publish by the lease."""

    def __init__(self, settings: Settings, link: RegistryLink, capacity: int | None = None) -> None:
        self.settings = settings
        self.worker_id = settings.worker_id
        self.ttl_s = settings.lease_ttl_s
        self.keeper = LeaseKeeper(
            link, self.worker_id, capacity or settings.worker_capacity, self.ttl_s
        )
        self.watcher = StreamWatcher(
            self.keeper, self._publish, self.worker_id, settings.stream_lost_after_s
        )
        self.health = HealthReporter(link, self.worker_id)
        self.options = ReaderOptions.from_settings(settings)
        self.runs: dict[str, CameraRun] = {}
        self.times = StageTimes()
        self.events = 0
        self.held_ever: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> WorkerSummary:
        s = self.settings
        configure_ffmpeg(s.stream_ffmpeg_options)
        self.detector = backend_from_settings(s)
        self.analyser = Analyser(self.detector, s.worker_batch_max, self.times)
        self.evidence = EvidenceWriter(ObjectStore(s))
        self.publisher = EventPublisher(
            bus.producer(s), load_detector_signer(s), timeout_s=self.keeper.fence_s
        )
        self.signal_feed = SignalFeedReader(s, SignalFeed())
        self.outbox = Outbox(s.state_dir / "outbox" / self.worker_id)
        # What a previous run of this worker found but could not publish before it died.
        self.leftovers = list(self.outbox.entries())
        if s.worker_metrics_port:
            start_http_server(s.worker_metrics_port, addr=s.api_host)
        log.info(
            "worker up, capacity %d", self.keeper.capacity, extra={"worker_id": self.worker_id}
        )
        next_lease = 0.0
        next_beat = time.monotonic() + s.heartbeat_interval_s
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_lease:
                    self._lease_round()
                    next_lease = now + self.ttl_s / 3
                analysed = self.analyser.round(list(self.runs.values()))
                self.watcher.watch(list(self.runs.values()))
                self.signal_feed.poll(now)
                for run in [r for r in self.runs.values() if r.fenced]:
                    self._drop(run, "lease lost")
                if now >= next_beat:
                    self.health.report(list(self.runs.values()))
                    self._publish_leftovers()
                    next_beat = now + s.heartbeat_interval_s
                if not analysed:
                    stop.wait(0.005)
        finally:
            self._drain()
        return WorkerSummary(self.worker_id, self.times.frames, self.events, len(self.held_ever))

    def _drain(self) -> None:
        """Graceful stop: finish pending evidence, flush the producer, then free the cameras."""
        runs = list(self.runs.values())
        for run in runs:
            run.source.reader.stop(timeout_s=0)
        self.analyser.close()
        for run in runs:
            if not run.fenced:
                try:
                    run.pipeline.flush()
                except LeaseLost:
                    run.fenced = True
                except Exception:  # S3 or Kafka down: the outbox keeps it for the next start
                    log.exception("pending findings kept", extra={"camera_id": run.camera_id})
            run.source.stop()
        self.publisher.close()
        self.signal_feed.close()
        self.keeper.release(runs)
        for run in runs:
            self._forget(run)
        log.info(
            "worker drained: %d frames analysed, %d events, leases released",
            self.times.frames,
            self.events,
            extra={"worker_id": self.worker_id},
        )

    # -- cameras -----------------------------------------------------------------------

    def _lease_round(self) -> None:
        for claimed in self.keeper.round(self.runs.values()):
            self._start(claimed)
        LEASES.set(len(self.runs))

    def _start(self, claimed: Claimed) -> None:
        lease, uri = claimed.lease, claimed.uri
        started_at = datetime.now(UTC)
        source = LiveSource(uri, self.options, started_at=started_at)
        tracker = CameraTracker(self.detector, self.options.analysis_fps)
        camera = CameraContext(
            camera_id=lease.camera_id,
            scene_version=claimed.scene_version,
            scene=claimed.scene,
            source_uri=redact(uri),
            # The epoch is new on every claim, so (epoch, track, frame) never repeats.
            source_id=f"live:{lease.camera_id}:epoch:{lease.epoch}",
            started_at=started_at,
            fps=self.options.analysis_fps,
            reference=claimed.reference,
        )

        def publish(event: DetectionEvent, camera_id: str = lease.camera_id) -> None:
            self._publish(camera_id, event)

        pipeline = Pipeline(
            camera,
            tracker,
            self.evidence,
            publish,
            self.worker_id,
            max_failed=self.settings.max_failed_findings,
            outbox=self.outbox,
        )
        self.signal_feed.feed.attach(lease.camera_id, pipeline.judge.signals)
        run = CameraRun(
            lease, claimed.deadline, source, tracker, pipeline, lost_at=lease.stream_lost_at
        )
        self.runs[lease.camera_id] = run
        self.held_ever.add(lease.camera_id)
        source.start()
        log.info(
            "camera claimed (epoch %d)",
            lease.epoch,
            extra={"camera_id": lease.camera_id, "worker_id": self.worker_id},
        )

    def _drop(self, run: CameraRun, why: str) -> None:
        run.source.stop()
        self._forget(run)
        log.warning("camera dropped: %s", why, extra={"camera_id": run.camera_id})

    def _forget(self, run: CameraRun) -> None:
        self.runs.pop(run.camera_id, None)
        self.signal_feed.feed.detach(run.camera_id)
        forget_camera(run.camera_id)
        LEASES.set(len(self.runs))

    # -- publishing --------------------------------------------------------------------

    def _publish_leftovers(self) -> None:
        """Publish what a previous run left in the outbox. No lease fence: each event is from
        that run's own lease (the evidence consumer checks the lease history at its time),
        and its id cannot come from any other worker."""
        while self.leftovers:
            draft, rendering = self.leftovers[0]
            try:
                event = with_evidence(draft, self.evidence.put(rendering))
                self.publisher.publish(event)
            except Exception:  # still down: tried again at the next heartbeat
                log.exception("outbox: not published yet", extra={"event_id": draft.id})
                return
            self.outbox.remove(event)
            self.leftovers.pop(0)
            self.events += 1
            EVENTS.labels(event.type.value).inc()
            log.info(
                "outbox: published a finding of a previous run",
                extra={"camera_id": event.subject, "event_id": event.id},
            )

    def _publish(self, camera_id: str, event: DetectionEvent) -> None:
        if not self.keeper.may_publish(self.runs.get(camera_id)):
            raise LeaseLost(camera_id)
        self.publisher.publish(event)
        self.events += 1
        EVENTS.labels(event.type.value).inc()
