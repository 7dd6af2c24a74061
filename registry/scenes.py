"""Versioned scene configs: read the current one, append a new one, check one, compare two.

The API, the ``dozor scene`` commands and the editor's validation share these, so a scene
is judged by the same rules wherever it comes from.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contract.scene import Calibration, SceneConfig, Zone
from registry.models import SceneVersion


class NoSceneError(LookupError):
    pass


def current_scene(session: Session, camera_id: str) -> tuple[int, SceneConfig]:
    row = session.scalar(
        select(SceneVersion)
        .where(SceneVersion.camera_id == camera_id)
        .order_by(SceneVersion.version.desc())
        .limit(1)
    )
    if row is None:
        raise NoSceneError(f"camera {camera_id} has no scene config")
    return row.version, SceneConfig.model_validate(row.config)


def add_scene(
    session: Session,
    camera_id: str,
    scene: SceneConfig,
    author: str,
    reference_frame: str | None = None,
) -> int:
    latest = session.scalar(
        select(func.max(SceneVersion.version)).where(SceneVersion.camera_id == camera_id)
    )
    version = (latest or 0) + 1
    session.add(
        SceneVersion(
            camera_id=camera_id,
            version=version,
            config=scene.model_dump(mode="json"),
            created_by=author,
            reference_frame=reference_frame,
        )
    )
    return version


# -- checks beyond the contract model ---------------------------------------------------------


def _problem(loc: tuple[Any, ...], msg: str) -> dict[str, Any]:
    return {"type": "value_error", "loc": loc, "msg": msg, "input": None}


def _non_finite(value: Any, loc: tuple[Any, ...]) -> list[dict[str, Any]]:
    if isinstance(value, float):
        return [] if math.isfinite(value) else [_problem(loc, "must be a finite number")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, (*loc, k))]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _non_finite(v, (*loc, i))]
    return []


def _segments_cross(a: Any, b: Any, c: Any, d: Any) -> bool:
    def orient(p: Any, q: Any, r: Any) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    return orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0


def polygon_problem(zone: Zone) -> str | None:
    """Why a zone's polygon cannot be used (zero area, edges crossing), or None."""
    pts = zone.polygon
    n = len(pts)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # adjacent through the closing edge
            if _segments_cross(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]):
                return f"polygon edges {i} and {j} cross each other"
    area = sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n))
    if abs(area) < 1e-6:
        return "polygon has no area"
    return None


def calibration_problem(cal: Calibration) -> str | None:
    """Why no homography can be fitted to the point pairs, or None."""
    rows = []
    for (x, y), (u, v) in zip(cal.image_points, cal.ground_points, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    # A homography has 8 degrees of freedom: fewer independent constraints leave it undefined,
    # as when three of four points lie on one line.
    if np.linalg.matrix_rank(np.array(rows, dtype=float), tol=1e-6) < 8:
        return "point pairs do not determine a homography (points collinear or repeated)"
    return None


def scene_problems(scene: SceneConfig) -> list[dict[str, Any]]:
    """What the contract model cannot check alone, as pydantic-style errors (loc in the scene)."""
    problems = _non_finite(scene.model_dump(mode="python"), ())
    for i, zone in enumerate(scene.zones):
        msg = polygon_problem(zone)
        if msg:
            problems.append(_problem(("zones", i, "polygon"), f"zones[{zone.id}]: {msg}"))
    if scene.calibration is not None and not problems:
        msg = calibration_problem(scene.calibration)
        if msg:
            problems.append(_problem(("calibration",), msg))
    return problems


# -- errors per geometry, for the editor ------------------------------------------------------

_KINDS = {"zones": "zone", "lines": "line", "signals": "signal", "calibration": "calibration"}
# The model's whole-scene checks name the geometry in their message, e.g. "lines[stop1]: ...".
_NAMED = re.compile(r"\b(zones|lines|signals)\[([^\]]+)\]")


def _geometry_of(
    loc: tuple[Any, ...], msg: str, raw: dict[str, Any]
) -> tuple[str | None, str | None, str]:
    """(geometry name, item id, kind) an error belongs to."""
    if loc and loc[0] in ("zones", "lines", "signals"):
        items = raw.get(loc[0])
        item_id = None
        if len(loc) > 1 and isinstance(loc[1], int) and isinstance(items, list):
            item = items[loc[1]] if loc[1] < len(items) else None
            item_id = item.get("id") if isinstance(item, dict) else None
        ref = str(item_id) if item_id is not None else (str(loc[1]) if len(loc) > 1 else None)
        return (f"{loc[0]}[{ref}]" if ref else loc[0]), item_id, _KINDS[loc[0]]
    if loc and loc[0] == "calibration":
        return "calibration", None, "calibration"
    named = _NAMED.search(msg)
    if named:
        return named.group(0), named.group(2), _KINDS[named.group(1)]
    return None, None, "scene"


def validation_errors(raw: Any) -> list[dict[str, Any]]:
    """Every problem of a draft scene, each naming the geometry it belongs to; [] if valid."""
    if not isinstance(raw, dict):
        return [{"geometry": None, "kind": "scene", "id": None, "loc": [], "msg": "not an object"}]
    try:
        scene = SceneConfig.model_validate(raw)
    except ValidationError as exc:
        errors = [
            {"loc": tuple(e["loc"]), "msg": e["msg"]}
            for e in exc.errors(include_url=False, include_context=False)
        ]
    else:
        errors = [{"loc": p["loc"], "msg": p["msg"]} for p in scene_problems(scene)]
    out = []
    for err in errors:
        geometry, item_id, kind = _geometry_of(err["loc"], err["msg"], raw)
        msg = err["msg"].removeprefix("Value error, ")
        out.append(
            {"geometry": geometry, "kind": kind, "id": item_id, "loc": list(err["loc"]), "msg": msg}
        )
    return out


# -- comparing versions ----------------------------------------------------------------------


def _items(scene: SceneConfig) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for field, kind in (("zones", "zone"), ("lines", "line"), ("signals", "signal")):
        for item in getattr(scene, field):
            out[(field, item.id)] = {"kind": kind, "body": item.model_dump(mode="json")}
    return out


def diff_scenes(before: SceneConfig, after: SceneConfig) -> dict[str, Any]:
    """Geometry added, removed and changed between two scenes (matched by id)."""
    old, new = _items(before), _items(after)

    def entry(key: tuple[str, str]) -> dict[str, Any]:
        kind = (old.get(key) or new[key])["kind"]
        return {"geometry": f"{key[0]}[{key[1]}]", "kind": kind, "id": key[1]}

    return {
        "added": [{**entry(k), "after": new[k]["body"]} for k in new if k not in old],
        "removed": [{**entry(k), "before": old[k]["body"]} for k in old if k not in new],
        "changed": [
            {**entry(k), "before": old[k]["body"], "after": new[k]["body"]}
            for k in new
            if k in old and old[k]["body"] != new[k]["body"]
        ],
        "frame_size": {
            "before": [before.frame_width, before.frame_height],
            "after": [after.frame_width, after.frame_height],
        },
        "calibration_changed": before.calibration != after.calibration,
    }
