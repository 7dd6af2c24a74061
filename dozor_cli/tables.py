"""Tables the commands print: the events a run raised, how they scored against labels, and
what an archive replay did with each file.

`dozor eval` and `dozor replay` print the same events table, so an operator reads one
layout whether the events came from a local evaluation or were published."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rich.table import Table

from contract.events import DetectionEvent, EventType
from detectors.archive import FileResult, Status
from detectors.eval import ClipResult, RuleScore, scored
from detectors.rules import Finding


@dataclass(frozen=True)
class EventRow:
    time_s: float
    type: str
    track_id: int | None
    object_class: str | None
    measured: Mapping[str, float | str]


def row_of_finding(finding: Finding) -> EventRow:
    measured = dict(finding.measured)
    object_class = measured.pop("object_class", None)
    return EventRow(
        finding.offset_s,
        finding.type.value,
        finding.track_id,
        None if object_class is None else str(object_class),
        measured,
    )


def row_of_event(event: DetectionEvent) -> EventRow:
    data = event.data
    measured = {k: v for k, v in data.measured.items() if k != "object_class"}
    return EventRow(data.offset_s, event.type.value, data.track_id, data.object_class, measured)


def _value(v: float | str) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def events_table(rows: Iterable[EventRow], title: str = "events") -> Table:
    """One line per event, in time order: when, what, on which vehicle, what was measured."""
    table = Table(title=title)
    table.add_column("time (s)", justify="right")
    table.add_column("type")
    table.add_column("track", justify="right")
    table.add_column("class")
    table.add_column("measured", overflow="fold")
    for row in sorted(rows, key=lambda r: (r.time_s, r.type)):
        table.add_row(
            f"{row.time_s:.2f}",
            row.type,
            "-" if row.track_id is None else str(row.track_id),
            row.object_class or "-",
            ", ".join(f"{k}={_value(v)}" for k, v in row.measured.items()) or "-",
        )
    return table


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def scores_table(scores: Mapping[EventType, RuleScore], title: str = "scores per rule") -> Table:
    table = Table(title=title)
    for col in ("rule", *_SCORE_COLUMNS):
        table.add_column(col, justify="left" if col in ("rule", "time errors (s)") else "right")
    for kind, s in sorted(scores.items()):
        table.add_row(kind.value, *_score_row(s))
    return table


_SCORE_COLUMNS = ("TP", "FP", "FN", "may", "precision", "recall", "mean |dt| s", "time errors (s)")


def _score_row(s: RuleScore) -> tuple[str, ...]:
    mean = s.mean_abs_time_error
    return (
        str(s.tp),
        str(s.fp),
        str(s.fn),
        str(s.optional),
        _ratio(s.precision),
        _ratio(s.recall),
        "-" if mean is None else f"{mean:.2f}",
        ", ".join(f"{e:+.2f}" for e in s.time_errors) or "-",
    )


def clip_scores_table(results: Iterable[ClipResult]) -> Table:
    """Scores per clip and rule ("may": events on labels marked optional)."""
    table = Table(title="dozor eval: per clip and rule")
    for col in ("clip", "rule", *_SCORE_COLUMNS):
        table.add_column(col, justify="left" if col in ("clip", "rule") else "right")
    for r in results:
        if r.labelled:
            for kind, s in sorted(scored(r).items()):
                table.add_row(r.clip, kind.value, *_score_row(s))
    return table


def clips_table(results: Iterable[ClipResult]) -> Table:
    """What each clip was labelled with and what it produced."""
    table = Table(title="dozor eval: per clip")
    for col in ("clip", "labelled", "predicted (type@s track)", "detections"):
        table.add_column(col)
    for r in results:
        table.add_row(
            r.clip,
            ", ".join(f"{lab.type.value}@{lab.time_s:.2f}" for lab in r.labels) or "-",
            ", ".join(
                f"{p.finding.type.value}@{p.finding.offset_s:.2f} #{p.finding.track_id}"
                for p in r.predicted
            )
            or "-",
            "cached" if r.from_cache else "model",
        )
    return table


def archive_table(results: Iterable[FileResult]) -> Table:
    """One line per file of an archive replay, and the totals of what it published (why a
    file failed is too long for a cell: the command prints it below)."""
    table = Table(title="dozor replay: archive")
    for col in ("file", "camera", "recording start", "status", "frames", "fps", "events"):
        table.add_column(col, justify="right" if col in ("frames", "fps", "events") else "left")
    published = frames = 0
    for r in results:
        rec, s = r.recording, r.summary
        start = "file mtime" if rec.started_at is None else f"{rec.started_at:%Y-%m-%dT%H:%M:%SZ}"
        if s is None:
            table.add_row(rec.path.name, rec.camera_id, start, r.status.value, "-", "-", "-")
            continue
        if r.status is Status.REPLAYED:
            published += s.events
            frames += s.frames
        table.add_row(
            rec.path.name,
            rec.camera_id,
            start,
            r.status.value,
            str(s.frames),
            f"{s.fps:.1f}",
            str(s.events),
        )
    table.add_section()
    table.add_row("published by this run", "", "", "", str(frames), "", str(published))
    return table
