"""Replaying an archive: many recordings, each as a registry camera from its recording start,
one Ray task per file on a local Ray, or on the cluster ``RAY_ADDRESS`` names.

Files are not cut into segments: a track, and the rules judging it, need the frames before
and after each moment, so a file is one task and an archive is parallel across files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import ray
from minio.error import S3Error
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from detectors.boundary import RegistryLink
from detectors.errors import DetectorInputError
from detectors.replay import FileReplay, ReplaySummary
from dozor.errors import UserError
from dozor.settings import Settings
from dozor.storage import MISSING_CODES, ObjectStore

log = logging.getLogger(__name__)

#: A manifest's header, in this order: the recording, the camera it was recorded by, and when
#: its first frame was recorded (ISO 8601 with a UTC offset).
MANIFEST_COLUMNS = ("file", "camera_id", "started_at")
#: What a directory replay picks up (the containers FFmpeg reads that recorders write).
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".ts", ".m4v"})
#: Least seconds between two progress reports of one file (each is a message to the driver).
REPORT_EVERY_S = 0.5
#: Key prefix of the "finished" markers in the evidence bucket (see :class:`Ledger`).
LEDGER_PREFIX = "replays"


@dataclass(frozen=True)
class Recording:
    path: Path
    camera_id: str
    #: When the first frame was recorded; None: the file's modification time.
    started_at: datetime | None
    #: Where the recording was named, for messages: its manifest line, or its file.
    where: str


def parse_started_at(text: str) -> datetime:
    """An ISO 8601 time with a UTC offset (``Z`` or ``+03:00``), as UTC. A time without one
    is refused rather than guessed: recorders write local time, and a guess would shift every
    event of the file by hours."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"started_at {text!r} is not an ISO 8601 time, e.g. 2026-03-01T08:00:00+03:00"
        ) from None
    if at.tzinfo is None:
        raise UserError(
            f"started_at {text!r} has no UTC offset: add Z or one like +03:00 "
            "(a recorder's local time is ambiguous)"
        )
    return at.astimezone(UTC)


def read_manifest(path: Path) -> list[Recording]:
    """The recordings a manifest CSV lists (header ``file,camera_id,started_at``; relative
    files are found beside the manifest). Every line is checked before any is replayed."""
    if not path.is_file():
        raise UserError(f"manifest not found: {path}")
    recordings: list[Recording] = []
    seen: dict[tuple[Path, str], int] = {}
    # utf-8-sig: spreadsheets write a byte-order mark in front of the header.
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        header = [c.strip() for c in next(rows, [])]
        if tuple(header) != MANIFEST_COLUMNS:
            raise UserError(
                f"{path} line 1: the header must be {','.join(MANIFEST_COLUMNS)}, "
                f"not {','.join(header) or 'empty'}"
            )
        for row in rows:
            where = f"{path} line {rows.line_num}"
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(MANIFEST_COLUMNS):
                raise UserError(
                    f"{where}: {len(row)} fields where {len(MANIFEST_COLUMNS)} are expected "
                    f"({', '.join(MANIFEST_COLUMNS)})"
                )
            file, camera_id, started = (c.strip() for c in row)
            if not file or not camera_id:
                raise UserError(f"{where}: file and camera_id must not be empty")
            video = (path.parent / file).resolve()
            if not video.is_file():
                raise UserError(f"{where}: video not found: {video}")
            try:
                started_at = parse_started_at(started)
            except UserError as exc:
                raise UserError(f"{where}: {exc}") from None
            # The same file as the same camera twice would publish the same event ids twice
            # (ids do not depend on the start time) with different times.
            first = seen.setdefault((video, camera_id), rows.line_num)
            if first != rows.line_num:
                raise UserError(f"{where}: repeats line {first} ({file} as {camera_id})")
            recordings.append(Recording(video, camera_id, started_at, where))
    if not recordings:
        raise UserError(f"{path} lists no recordings")
    return recordings


def recordings_in(directory: Path, camera_id: str) -> list[Recording]:
    """Every video directly in ``directory``, all as ``camera_id``, each timed from its file's
    modification time (a manifest says when each was recorded)."""
    videos = sorted(
        p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
    )
    if not videos:
        raise UserError(f"no videos ({', '.join(sorted(VIDEO_SUFFIXES))}) in {directory}")
    return [Recording(v.resolve(), camera_id, None, str(v)) for v in videos]


def check_cameras(recordings: Iterable[Recording], link: RegistryLink) -> None:
    """Every camera exists and has a scene, before any file is replayed."""
    checked: set[str] = set()
    for rec in recordings:
        if rec.camera_id in checked:
            continue
        try:
            link.scene(rec.camera_id)
        except LookupError as exc:
            raise DetectorInputError(f"{rec.where}: {exc}") from exc
        checked.add(rec.camera_id)


class Status(StrEnum):
    REPLAYED = "replayed"
    DONE_BEFORE = "done before"
    FAILED = "failed"


@dataclass(frozen=True)
class FileResult:
    recording: Recording
    status: Status
    #: What the file published (for DONE_BEFORE: what its earlier run recorded, no events).
    summary: ReplaySummary | None = None
    error: str | None = None


class Ledger:
    """Which recordings have been replayed to the end, as one marker object per run in the
    evidence bucket, written after the file's last event was acknowledged.

    S3 rather than a registry table: every Ray worker already writes the file's evidence
    there, the marker is retained with that evidence as the record of what was analysed, and
    a put is atomic. The key holds everything the file's events depend on: the content and
    sampling (``source_id``, in every event id), the camera, its scene version and the model
    (also in the ids) and the recording start (in the event times). A changed scene or model
    re-analyses the file (new events, new ids); an identical rerun skips it. A run cut short
    leaves no marker: its file is replayed again, and the events it had already published
    are sent again with the same ids, which the consumers deduplicate."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @staticmethod
    def key(job: FileReplay) -> str:
        cam = job.camera
        parts = (
            cam.source_id,
            cam.camera_id,
            cam.scene_version,
            job.detector.model_sha256,
            cam.started_at.isoformat(),
        )
        digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
        return f"{LEDGER_PREFIX}/{cam.camera_id}/{digest}.json"

    def done(self, key: str) -> ReplaySummary | None:
        """The summary of the earlier run that finished this replay, if one did."""
        try:
            data = self.store.get(self.store.bucket, key)
        except S3Error as exc:
            if exc.code in MISSING_CODES:
                return None
            raise
        fields = json.loads(data)
        return ReplaySummary(**{**fields, "event_ids": tuple(fields["event_ids"])})

    def record(self, key: str, summary: ReplaySummary) -> None:
        fields = {
            "camera_id": summary.camera_id,
            "frames": summary.frames,
            "seconds": summary.seconds,
            "detections": summary.detections,
            "events": summary.events,
            "event_ids": list(summary.event_ids),
        }
        self.store.put(key, json.dumps(fields).encode(), "application/json")


class ProgressBoard:
    """Where the tasks report how far each file is, for the driver's display (a Ray actor)."""

    def __init__(self) -> None:
        self.files: dict[int, tuple[int, int | None, int]] = {}

    def report(self, index: int, done: int, total: int | None, events: int) -> None:
        self.files[index] = (done, total, events)

    def snapshot(self) -> dict[int, tuple[int, int | None, int]]:
        return self.files


def replay_recording(
    settings: Settings,
    recording: Recording,
    index: int,
    link: RegistryLink,
    every_frame: bool,
    board: Any,
) -> FileResult:
    """One file, unless the ledger says it was replayed to the end before (a Ray task)."""
    job = FileReplay(
        settings,
        recording.path,
        recording.camera_id,
        link=link,
        every_frame=every_frame,
        started_at=recording.started_at,
    )
    ledger = Ledger(ObjectStore(settings))
    key = ledger.key(job)
    earlier = ledger.done(key)
    if earlier is not None:
        return FileResult(recording, Status.DONE_BEFORE, earlier)
    last = 0.0

    def report(done: int, total: int | None, events: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= REPORT_EVERY_S:
            last = now
            board.report.remote(index, done, total, events)

    summary = job.run(report)
    ledger.record(key, summary)
    return FileResult(recording, Status.REPLAYED, summary)


@contextmanager
def ray_session(settings: Settings) -> Iterator[None]:
    """Ray for the length of one archive replay: the cluster ``RAY_ADDRESS`` names (its CPUs
    are the cluster's), or a local one on ``settings.replay_cpus`` cores, shut down after."""
    if ray.is_initialized():  # a caller's own session, e.g. inside a Ray job
        yield
        return
    if os.environ.get("RAY_ADDRESS"):
        ray.init(log_to_driver=False)
    else:
        # The workers' log lines would tear the progress display; each file's outcome,
        # errors included, comes back as its result.
        ray.init(num_cpus=settings.replay_cpus, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def _failure(exc: ray.exceptions.RayError) -> str:
    cause = getattr(exc, "cause", None) or exc
    return str(cause) if isinstance(cause, UserError) else f"{type(cause).__name__}: {cause}"


def replay_archive(
    settings: Settings,
    recordings: list[Recording],
    *,
    link: RegistryLink,
    every_frame: bool = False,
    progress: bool = True,
) -> list[FileResult]:
    """Replay every recording, one Ray task per file on as many CPUs as Ray has; results in
    the order given. A file that fails is reported as failed and the others go on."""
    check_cameras(recordings, link)
    results: dict[int, FileResult] = {}
    with ray_session(settings), _Display(recordings, progress) as display:
        # Typed Any: Ray's stubs do not give an actor handle's methods their `.remote`.
        board: Any = ray.remote(num_cpus=0)(ProgressBoard).remote()
        task = ray.remote(num_cpus=1)(replay_recording)
        # Longest first, so that a long file does not start last and finish alone.
        order = sorted(range(len(recordings)), key=lambda i: -recordings[i].path.stat().st_size)
        pending = {
            task.remote(settings, recordings[i], i, link, every_frame, board): i for i in order
        }
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=REPORT_EVERY_S)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    results[i] = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    results[i] = FileResult(recordings[i], Status.FAILED, error=_failure(exc))
                display.finished(i, results[i])
            snapshot: dict[int, tuple[int, int | None, int]] = ray.get(board.snapshot.remote())
            display.show(snapshot)
    return [results[i] for i in range(len(recordings))]


class _Display:
    """Overall progress in files (events: those published so far), and a bar per file while
    it runs."""

    def __init__(self, recordings: list[Recording], enabled: bool) -> None:
        self.recordings = recordings
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[events]} events"),
            TimeRemainingColumn(),
            disable=not enabled,
        )
        self.overall = self.bar.add_task("all files", total=len(recordings), events=0)
        self.files: dict[int, TaskID] = {}
        self.finished_files: set[int] = set()
        self.events = 0

    def __enter__(self) -> _Display:
        self.bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.bar.stop()

    def show(self, snapshot: dict[int, tuple[int, int | None, int]]) -> None:
        running = sum(events for i, (_, _, events) in snapshot.items() if i in self.files)
        self.bar.update(self.overall, events=self.events + running)
        for i, (done, total, events) in snapshot.items():
            if i in self.files:
                self.bar.update(self.files[i], completed=done, total=total, events=events)
            elif i not in self.finished_files:
                rec = self.recordings[i]
                self.files[i] = self.bar.add_task(
                    f"{rec.path.name} ({rec.camera_id})", completed=done, total=total, events=events
                )

    def finished(self, index: int, result: FileResult) -> None:
        self.finished_files.add(index)
        if index in self.files:
            self.bar.remove_task(self.files.pop(index))
        if result.summary is not None and result.status is Status.REPLAYED:
            self.events += result.summary.events
        self.bar.update(self.overall, advance=1, events=self.events)
        rec = result.recording
        log.info(
            "%s as %s: %s%s",
            rec.path.name,
            rec.camera_id,
            result.status.value,
            f" ({result.error})" if result.error else "",
        )
