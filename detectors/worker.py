"""The live detector worker: many cameras per process, a city's cameras spread over workers.

Each camera is decoded on a thread of its own (detectors/stream_reader.py); the main
thread batches the waiting frames of all cameras through one model, then runs each
camera's tracking, rules, evidence and publishing through the same Pipeline replays use.

Cameras are held by leases (registry/leases.py). No event is published twice across a
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

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from sqlalchemy.exc import SQLAlchemyError

from contract import topics
from contract.events import DetectionEvent, EventData, EventType, category_of, event_id
from contract.health import Heartbeat
from detectors.backends import DetectorBackend, UltralyticsBackend
from detectors.evidence import EvidenceWriter
from detectors.pipeline import CameraContext, Pipeline
from detectors.publisher import EventPublisher
from detectors.signal_feed import SignalFeed, SignalFeedReader
from detectors.sources import LiveSource
from detectors.stream_reader import ReaderOptions, configure_ffmpeg
from detectors.tracking import CameraTracker
from dozor import bus
from dozor.redact import redact
from dozor.settings import Settings
from dozor.storage import ObjectStore
from registry import leases
from registry.crypto import stream_urls
from registry.db import session_scope
from registry.health import record_heartbeat
from registry.scenes import current_scene

log = logging.getLogger(__name__)

FRAMES_DECODED = Counter("dozor_worker_frames_decoded_total", "Frames decoded", ["camera"])
FRAMES_ANALYSED = Counter("dozor_worker_frames_analysed_total", "Frames analysed", ["camera"])
FRAMES_DROPPED = Counter(
    "dozor_worker_frames_dropped_total", "Due frames dropped: analysis too slow", ["camera"]
)
STREAM_ERRORS = Counter("dozor_worker_stream_errors_total", "Open/read failures", ["camera"])
EVENTS = Counter("dozor_worker_events_published_total", "Events published", ["type"])
QUEUE_DEPTH = Gauge("dozor_worker_queue_depth", "Decoded frames waiting", ["camera"])
LAST_FRAME = Gauge("dozor_worker_last_frame_timestamp_seconds", "Last frame (UTC)", ["camera"])
STREAM_UP = Gauge("dozor_worker_stream_up", "1 while frames arrive", ["camera"])
LEASES = Gauge("dozor_worker_leases", "Cameras held")
STAGE = Histogram(
    "dozor_worker_stage_seconds",
    "Time per batch by stage",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BATCH = Histogram(
    "dozor_worker_batch_frames", "Frames per inference batch", buckets=(1, 2, 4, 8, 16, 32, 64)
)
_PER_CAMERA = (
    FRAMES_DECODED,
    FRAMES_ANALYSED,
    FRAMES_DROPPED,
    STREAM_ERRORS,
    QUEUE_DEPTH,
    LAST_FRAME,
    STREAM_UP,
)


class LeaseLost(Exception):
    """The camera's lease may have passed to another worker: stop publishing for it."""


@dataclass
class StageTimes:
    """Where the main thread's time goes; decoding happens on the reader threads."""

    inference_s: float = 0.0
    pipeline_s: float = 0.0  # tracking, rules, evidence and publishing
    publish_s: float = 0.0
    batches: int = 0
    frames: int = 0


@dataclass
class CameraRun:
    lease: leases.Lease
    deadline: float  # time.monotonic() by which the lease could expire
    source: LiveSource
    tracker: CameraTracker
    pipeline: Pipeline
    claimed_at: float = field(default_factory=time.time)
    lost_at: datetime | None = None
    fenced: bool = False
    analysed: int = 0
    inference_s: float = 0.0
    errors: int = 0
    last_error: str | None = None
    # Counters at the previous heartbeat and metrics update, for rates and deltas.
    seen: dict[str, float] = field(default_factory=dict)

    @property
    def camera_id(self) -> str:
        return self.lease.camera_id


def analyse(
    runs: list[CameraRun], detector: DetectorBackend, max_batch: int, times: StageTimes
) -> int:
    """One round: the waiting frame of every camera, detected in one batch, then each
    camera's pipeline. Returns the frames analysed."""
    ready = []
    for run in runs:
        frame = None if run.fenced else run.source.poll()
        if frame is None:
            continue
        scene = run.pipeline.camera.scene
        if frame.image.shape[:2] != (scene.frame_height, scene.frame_width):
            run.errors += 1
            run.last_error = (
                f"stream is {frame.image.shape[1]}x{frame.image.shape[0]} but the scene is "
                f"drawn for {scene.frame_width}x{scene.frame_height}"
            )
            continue
        ready.append((run, frame))
    if not ready:
        return 0
    start = time.perf_counter()
    boxes = detector.detect([frame.image for _, frame in ready], max_batch)
    inferred = time.perf_counter()
    for (run, frame), found in zip(ready, boxes, strict=True):
        run.tracker.stage(frame.image, found)
        try:
            run.pipeline.process(frame)
        except LeaseLost:
            run.fenced = True
        except Exception as exc:  # one camera's failure (S3, Kafka) must not stop the others
            run.errors += 1
            run.last_error = f"analysis failed: {type(exc).__name__}: {exc}"[:500]
            log.exception("analysis failed", extra={"camera_id": run.camera_id})
        run.analysed += 1
        run.inference_s += (inferred - start) / len(ready)
        FRAMES_ANALYSED.labels(run.camera_id).inc()
    done = time.perf_counter()
    times.inference_s += inferred - start
    times.pipeline_s += done - inferred
    times.batches += 1
    times.frames += len(ready)
    STAGE.labels("inference").observe(inferred - start)
    STAGE.labels("pipeline").observe(done - inferred)
    BATCH.observe(len(ready))
    return len(ready)


@dataclass(frozen=True)
class WorkerSummary:
    worker_id: str
    frames: int
    events: int
    cameras_held: int


class Worker:
    def __init__(self, settings: Settings, capacity: int | None = None) -> None:
        self.settings = settings
        self.worker_id = settings.worker_id
        self.capacity = capacity or settings.worker_capacity
        self.ttl_s = settings.lease_ttl_s
        # Renewals come every third of the lease; publishing stops a third before it ends.
        self.fence_s = self.ttl_s / 3
        self.options = ReaderOptions.from_settings(settings)
        self.runs: dict[str, CameraRun] = {}
        self.times = StageTimes()
        self.events = 0
        self.held_ever: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> WorkerSummary:
        s = self.settings
        configure_ffmpeg(s.stream_ffmpeg_options)
        self.detector = UltralyticsBackend.from_settings(s)
        store = ObjectStore(s)
        store.ensure()
        self.evidence = EvidenceWriter(store)
        bus.ensure_topics(s)
        self.publisher = EventPublisher(bus.producer(s), timeout_s=self.fence_s)
        self.signal_feed = SignalFeedReader(s, SignalFeed())
        if s.worker_metrics_port:
            start_http_server(s.worker_metrics_port, addr=s.api_host)
        log.info("worker up, capacity %d", self.capacity, extra={"worker_id": self.worker_id})
        next_lease = 0.0
        next_beat = time.monotonic() + s.heartbeat_interval_s
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_lease:
                    self._lease_round()
                    next_lease = now + self.ttl_s / 3
                analysed = analyse(
                    list(self.runs.values()), self.detector, s.worker_batch_max, self.times
                )
                self._watch_streams()
                self.signal_feed.poll(now)
                for run in [r for r in self.runs.values() if r.fenced]:
                    self._drop(run, "lease lost")
                if now >= next_beat:
                    self._heartbeats()
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
        for run in runs:
            if not run.fenced:
                try:
                    run.pipeline.flush()
                except LeaseLost:
                    run.fenced = True
            run.source.stop()
        self.publisher.close()
        self.signal_feed.close()
        with session_scope(self.settings.db_url) as session:
            for run in runs:
                leases.release(session, self.worker_id, run.camera_id, run.lease.epoch)
        for run in runs:
            self._forget(run)
        log.info(
            "worker drained: %d frames analysed, %d events, leases released",
            self.times.frames,
            self.events,
            extra={"worker_id": self.worker_id},
        )

    # -- leases ------------------------------------------------------------------------

    def _lease_round(self) -> None:
        # Taken before the database is asked, so the local deadline is never later than
        # the expiry the database records.
        asked_at = time.monotonic()
        with session_scope(self.settings.db_url) as session:
            held = [(r.camera_id, r.lease.epoch) for r in self.runs.values() if not r.fenced]
            kept = leases.renew(session, self.worker_id, held, self.ttl_s)
            claimed = leases.claim(session, self.worker_id, self.capacity - len(kept), self.ttl_s)
            setups = []
            for lease in claimed:
                # Credentials are stored apart, encrypted; only the connecting process joins them.
                uri = stream_urls(session, self.settings, lease.camera_id).get("main", "")
                version, scene = current_scene(session, lease.camera_id)
                setups.append((lease, uri, version, scene))
        for run in list(self.runs.values()):
            if run.camera_id in kept:
                run.deadline = asked_at + self.ttl_s
            else:
                run.fenced = True
        for lease, uri, version, scene in setups:
            self._start(lease, uri, version, scene, asked_at + self.ttl_s)
        LEASES.set(len(self.runs))

    def _start(self, lease: leases.Lease, uri: str, version: int, scene, deadline: float) -> None:  # type: ignore[no-untyped-def]
        started_at = datetime.now(UTC)
        source = LiveSource(uri, self.options, started_at=started_at)
        tracker = CameraTracker(self.detector, self.options.analysis_fps)
        camera = CameraContext(
            camera_id=lease.camera_id,
            scene_version=version,
            scene=scene,
            source_uri=redact(uri),
            # The epoch is new on every claim, so (epoch, track, frame) never repeats.
            source_id=f"live:{lease.camera_id}:epoch:{lease.epoch}",
            started_at=started_at,
            fps=self.options.analysis_fps,
        )

        def publish(event: DetectionEvent, camera_id: str = lease.camera_id) -> None:
            self._publish(camera_id, event)

        pipeline = Pipeline(camera, tracker, self.evidence, publish, self.worker_id)
        self.signal_feed.feed.attach(lease.camera_id, pipeline.judge.signals)
        run = CameraRun(lease, deadline, source, tracker, pipeline, lost_at=lease.stream_lost_at)
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
        for metric in _PER_CAMERA:
            with contextlib.suppress(KeyError):
                metric.remove(run.camera_id)
        LEASES.set(len(self.runs))

    # -- publishing --------------------------------------------------------------------

    def _publish(self, camera_id: str, event: DetectionEvent) -> None:
        run = self.runs.get(camera_id)
        if run is None or run.fenced or time.monotonic() + self.fence_s >= run.deadline:
            if run is not None:
                run.fenced = True
            raise LeaseLost(camera_id)
        start = time.perf_counter()
        self.publisher.publish(event)
        self.times.publish_s += time.perf_counter() - start
        self.events += 1
        EVENTS.labels(event.type.value).inc()

    def _incident(self, run: CameraRun, kind: EventType, at: datetime, **measured: float) -> None:
        cam = run.pipeline.camera
        assert run.lost_at is not None
        event = DetectionEvent(
            # Keyed by the loss the lease row remembers: the same outage, the same ids,
            # whichever worker reports it.
            id=event_id(cam.camera_id, kind.value, run.lost_at.isoformat()),
            source=f"dozor://detector/{self.worker_id}",
            type=kind,
            time=at,
            subject=cam.camera_id,
            data=EventData(
                category=category_of(kind),
                scene_version=cam.scene_version,
                confidence=1.0,
                frame_index=run.analysed,
                offset_s=max((at - cam.started_at).total_seconds(), 0.0),
                measured={k: round(v, 3) for k, v in measured.items()},
                detector=run.pipeline.detector_info,
                source_uri=cam.source_uri,
            ),
        )
        self._publish(cam.camera_id, event)

    def _watch_streams(self) -> None:
        now = time.time()
        for run in list(self.runs.values()):
            stats = run.source.reader.stats
            last = stats.last_frame_at or run.claimed_at
            try:
                if run.lost_at is None and now - last > self.settings.stream_lost_after_s:
                    run.lost_at = datetime.fromtimestamp(last, UTC)
                    # Remembered before it is announced: a successor must not announce it again.
                    if not self._mark(run, run.lost_at):
                        continue
                    self._incident(run, EventType.STREAM_LOST, run.lost_at, gap_s=now - last)
                    log.warning("stream lost", extra={"camera_id": run.camera_id})
                elif (
                    run.lost_at is not None
                    and stats.last_frame_at is not None
                    and stats.last_frame_at > run.lost_at.timestamp()
                    and now - stats.last_frame_at <= self.settings.stream_lost_after_s
                ):
                    back = datetime.fromtimestamp(stats.last_frame_at, UTC)
                    outage = (back - run.lost_at).total_seconds()
                    self._incident(run, EventType.STREAM_RESTORED, back, outage_s=outage)
                    run.lost_at = None
                    self._mark(run, None)
                    log.info("stream restored", extra={"camera_id": run.camera_id})
            except LeaseLost:
                run.fenced = True
            QUEUE_DEPTH.labels(run.camera_id).set(run.source.reader.depth)
            STREAM_UP.labels(run.camera_id).set(0 if run.lost_at else int(stats.connected))
            if stats.last_frame_at:
                LAST_FRAME.labels(run.camera_id).set(stats.last_frame_at)

    def _mark(self, run: CameraRun, lost_at: datetime | None) -> bool:
        with session_scope(self.settings.db_url) as session:
            if leases.mark_stream(session, run.camera_id, run.lease.epoch, lost_at):
                return True
        run.fenced = True
        return False

    # -- health ------------------------------------------------------------------------

    def _heartbeats(self) -> None:
        now = time.time()
        beats = []
        for run in list(self.runs.values()):
            stats = run.source.reader.stats
            seen = run.seen or {"at": run.claimed_at}
            elapsed = max(now - seen["at"], 1e-6)
            analysed = run.analysed - seen.get("analysed", 0)
            errors = stats.errors + run.errors
            beat = Heartbeat(
                camera_id=run.camera_id,
                worker_id=self.worker_id,
                time=datetime.fromtimestamp(now, UTC),
                fps_in=round((stats.decoded - seen.get("decoded", 0)) / elapsed, 2),
                fps_out=round(analysed / elapsed, 2),
                inference_ms=round(
                    1000 * (run.inference_s - seen.get("inference_s", 0)) / analysed, 2
                )
                if analysed
                else None,
                queue_depth=run.source.reader.depth,
                last_frame_time=datetime.fromtimestamp(stats.last_frame_at, UTC)
                if stats.last_frame_at
                else None,
                errors=int(errors - seen.get("errors", 0)),
                last_error=(run.last_error or stats.last_error or "")[:500] or None,
            )
            FRAMES_DECODED.labels(run.camera_id).inc(stats.decoded - seen.get("decoded", 0))
            FRAMES_DROPPED.labels(run.camera_id).inc(stats.dropped - seen.get("dropped", 0))
            STREAM_ERRORS.labels(run.camera_id).inc(errors - seen.get("errors", 0))
            run.seen = {
                "at": now,
                "analysed": run.analysed,
                "decoded": stats.decoded,
                "dropped": stats.dropped,
                "errors": errors,
                "inference_s": run.inference_s,
            }
            self.publisher.producer.send(
                topics.CAMERA_HEALTH,
                key=topics.key_for(run.camera_id),
                value=beat.model_dump_json().encode(),
            )
            beats.append(beat)
        try:
            with session_scope(self.settings.db_url) as session:
                for beat in beats:
                    record_heartbeat(session, beat)
        except SQLAlchemyError:
            # Health is reported again next interval; analysis must not stop for it.
            log.exception("heartbeats not recorded in the registry")
