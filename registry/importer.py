"""Bulk import of cameras from CSV or GeoJSON: all rows or none, every bad row reported.

Rows are matched to existing cameras by id (ids are stable): a known id is updated, a new
one created. Nothing is written unless every row is valid.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dozor.settings import Settings
from registry import audit, catalog
from registry.audit import Actor
from registry.models import Camera
from registry.schemas import CameraCreate, ImportProblem, ImportReport

CSV_COLUMNS = ("id", *catalog.FIELDS)
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]


class ImportRejected(ValueError):
    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"import rejected: {len(problems)} problems, nothing was changed")
        self.problems = problems


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def parse_csv(text: str) -> list[Row]:
    """Rows keyed by header; empty cells are absent values; codes split on ; or spaces."""
    reader = csv.DictReader(io.StringIO(text, newline=""), restval=None)
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if not header or unknown:
        what = f"unknown columns {', '.join(unknown)}" if unknown else "no header row"
        raise ImportRejected(
            [ImportProblem(line=1, message=f"{what}; columns are {', '.join(CSV_COLUMNS)}")]
        )
    rows = []
    line = reader.line_num + 1
    try:
        for record in reader:
            extra = record.pop(None, None)  # type: ignore[call-overload]
            values: dict[str, Any] = {k: v for k, v in record.items() if v not in (None, "")}
            if extra:
                values["__extra__"] = extra
            if "certified_codes" in values:
                values["certified_codes"] = values["certified_codes"].replace(";", " ").split()
            rows.append(Row(line, values))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportRejected([ImportProblem(line=reader.line_num, message=str(exc))]) from None
    return rows


def _feature_offsets(text: str) -> list[int]:
    """Character offset of each element of the top-level ``features`` array."""
    decoder = json.JSONDecoder()
    ws = " \t\n\r"

    def skip(i: int) -> int:
        while i < len(text) and text[i] in ws:
            i += 1
        return i

    i = skip(0) + 1  # past the opening brace
    while True:
        i = skip(i)
        if text[i] == "}":
            return []
        key, i = decoder.raw_decode(text, i)
        i = skip(skip(i) + 1)  # past the colon
        if key != "features":
            _, i = decoder.raw_decode(text, i)
            i = skip(i) + 1  # past the comma
            continue
        offsets = []
        i = skip(i + 1)  # past the opening bracket
        while text[i] != "]":
            offsets.append(i)
            _, i = decoder.raw_decode(text, i)
            i = skip(i)
            if text[i] == ",":
                i = skip(i + 1)
        return offsets


def parse_geojson(text: str) -> list[Row]:
    """Point features; the id from properties.id or the feature id, lon/lat from the point."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            [ImportProblem(line=exc.lineno, message=f"not JSON: {exc.msg}")]
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ImportRejected([ImportProblem(line=1, message="not a GeoJSON FeatureCollection")])
    features = doc.get("features")
    if not isinstance(features, list):
        raise ImportRejected([ImportProblem(line=1, field="features", message="must be a list")])
    lines = [_line_of(text, pos) for pos in _feature_offsets(text)]
    if len(lines) != len(features):
        # A repeated "features" key: JSON keeps the last, so number features 1..n instead.
        lines = list(range(1, len(features) + 1))
    rows = []
    for line, feature in zip(lines, features, strict=True):
        props = feature.get("properties") if isinstance(feature, dict) else None
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            rows.append(Row(line, {"__error__": ("properties", "feature has no properties")}))
            continue
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not (
            isinstance(geometry, dict)
            and geometry.get("type") == "Point"
            and isinstance(coords, list)
            and len(coords) in (2, 3)
        ):
            rows.append(Row(line, {"__error__": ("geometry", "must be a Point [lon, lat]")}))
            continue
        # Properties that describe state rather than configuration are exported, not imported.
        derived = {"health", "verification_lapsed", "scene_version", "stream_credentials_set"}
        values = {k: v for k, v in props.items() if k not in derived}
        values.setdefault("id", feature.get("id"))
        values["lon"], values["lat"] = coords[0], coords[1]
        rows.append(Row(line, values))
    return rows


def _row_problems(line: int, exc: ValidationError) -> list[ImportProblem]:
    return [
        ImportProblem(
            line=line, field=".".join(str(p) for p in err["loc"]) or None, message=err["msg"]
        )
        for err in exc.errors(include_url=False)
    ]


def import_rows(
    session: Session, settings: Settings, actor: Actor, rows: list[Row]
) -> ImportReport:
    """Create or update every row in the caller's transaction, or raise ImportRejected.

    A row for a new id must describe the whole camera; a row for a known id changes only
    the fields it states, so an export edited in a spreadsheet can come back as it is.
    """
    if len(rows) > MAX_ROWS:
        raise ImportRejected(
            [ImportProblem(line=1, message=f"{len(rows)} rows; at most {MAX_ROWS} per import")]
        )
    ids = [r.values.get("id") for r in rows if isinstance(r.values.get("id"), str)]
    existing = {cam.id: cam for cam in session.scalars(select(Camera).where(Camera.id.in_(ids)))}
    problems: list[ImportProblem] = []
    seen: dict[str, int] = {}
    report = ImportReport(created=0, updated=0, unchanged=0)
    for row in rows:
        if "__error__" in row.values:
            field, message = row.values["__error__"]
            problems.append(ImportProblem(line=row.line, field=field, message=message))
            continue
        if "__extra__" in row.values:
            problems.append(ImportProblem(line=row.line, message="more cells than columns"))
            continue
        row_id = row.values.get("id")
        # A non-string id (a list, an object) is the model's to refuse, not a lookup key.
        cam = existing.get(row_id) if isinstance(row_id, str) else None
        try:
            if cam is None:
                body = CameraCreate.model_validate(row.values)
            else:
                changes = {k: v for k, v in row.values.items() if k != "id"}
                fields = catalog.merge(cam, changes, settings)
        except ValidationError as exc:
            problems.extend(_row_problems(row.line, exc))
            continue
        camera_id = body.id if cam is None else cam.id
        if camera_id in seen:
            problems.append(
                ImportProblem(
                    line=row.line,
                    field="id",
                    message=f"duplicate id {camera_id} (first on line {seen[camera_id]})",
                )
            )
            continue
        seen[camera_id] = row.line
        before = catalog.snapshot(cam, settings) if cam else None
        try:
            if cam is None:
                cam = catalog.new_camera(body, settings)
                session.add(cam)
            else:
                catalog.apply(cam, fields, settings)
        except catalog.CredentialsError as exc:
            problems.append(ImportProblem(line=row.line, field=exc.field, message=str(exc)))
            continue
        after = catalog.snapshot(cam, settings)
        if before == after:
            report.unchanged += 1
            continue
        if before is None:
            report.created += 1
        else:
            report.updated += 1
        audit.record(session, actor, "import", "camera", cam.id, before, after)
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: p.line))
    return report
