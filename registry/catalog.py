"""Creating, changing and reading cameras: the rules the API routes and the importer share."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import Result, Text, cast, func, select
from sqlalchemy.orm import Session, aliased

from contract.health import HealthState
from dozor.redact import redact
from dozor.settings import Settings
from registry import crypto
from registry.certification import CERTIFICATION_FIELDS
from registry.health import derive
from registry.models import Camera, CameraHealth, SceneVersion
from registry.schemas import CameraCreate, CameraFields, CameraKind, CameraOut

FIELDS = tuple(CameraFields.model_fields)


class CredentialsError(ValueError):
    """A stream URL asks to keep credentials (***@) that the camera does not have."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field}: *** keeps stored credentials, but none are stored")
        self.field = field


# An enforcement unit's metrological certification: what makes its violations enforceable,
# so only administrators set or change it (registry/routes/cameras.py).


def certification_changed(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Certification fields that differ between two snapshots (None: a new camera)."""
    return [name for name in CERTIFICATION_FIELDS if (before or {}).get(name) != after.get(name)]


def lapsed(kind: str, valid_until: date | None, today: date) -> bool:
    return kind == CameraKind.ENFORCEMENT_UNIT and valid_until is not None and valid_until < today


def current_fields(cam: Camera, settings: Settings) -> dict[str, Any]:
    """The camera as a CameraFields dict, stream credentials masked (for merging a patch)."""
    stored = crypto.read_credentials(settings, cam.stream_credentials)
    values = {name: getattr(cam, name) for name in FIELDS}
    for stream in crypto.STREAMS:
        name = f"stream_{stream}"
        values[name] = crypto.masked(values[name], stream in stored)
    return values


def apply(cam: Camera, fields: CameraFields, settings: Settings) -> None:
    """Set every field of ``cam``; credentials in stream URLs go encrypted into their column."""
    stored = crypto.read_credentials(settings, cam.stream_credentials)
    creds: dict[str, str] = {}
    for name in FIELDS:
        value = getattr(fields, name)
        if name.startswith("stream_") and value is not None:
            stream = name.removeprefix("stream_")
            value, userinfo, params = crypto.split_credentials(value)
            secrets = {crypto.query_key(stream, k): v for k, v in params.items()}
            if userinfo:
                secrets[stream] = userinfo
            for key, secret in secrets.items():
                if secret == crypto.MASK:
                    if key not in stored:
                        raise CredentialsError(name)
                    creds[key] = stored[key]
                else:
                    creds[key] = secret
        elif name == "certified_codes" and value is not None:
            value = sorted(set(value), key=lambda c: int(c[1:]))
        setattr(cam, name, value.value if hasattr(value, "value") else value)
    cam.stream_credentials = crypto.write_credentials(settings, creds)


def merge(cam: Camera, patch: dict[str, Any], settings: Settings) -> CameraFields:
    """The camera with ``patch`` applied, validated as a whole (raises ValidationError)."""
    return CameraFields.model_validate({**current_fields(cam, settings), **patch})


def new_camera(body: CameraCreate, settings: Settings) -> Camera:
    cam = Camera(id=body.id)
    apply(cam, body, settings)
    return cam


def scene_versions(session: Session, camera_ids: list[str] | None = None) -> dict[str, int]:
    stmt = select(SceneVersion.camera_id, func.max(SceneVersion.version)).group_by(
        SceneVersion.camera_id
    )
    if camera_ids is not None:
        stmt = stmt.where(SceneVersion.camera_id.in_(camera_ids))
    return {cid: v for cid, v in session.execute(stmt)}


# What an answer shows of a camera, as plain columns: a list reads rows of these, not ORM objects.
OUT_COLUMNS = (Camera.id, *(getattr(Camera, name) for name in FIELDS), Camera.stream_credentials)
_latest_scene = (
    select(SceneVersion.camera_id, func.max(SceneVersion.version).label("version"))
    .group_by(SceneVersion.camera_id)
    .subquery()
)
_heartbeat = aliased(CameraHealth, name="heartbeat")
# One row per camera with everything its answer needs (out_fields): one query for a whole list.
# Add filters, order and paging.
# certified_codes as the stored JSON text: a row is a key of _answer_json, decoded on a miss.
_RAW_CODES = cast(Camera.certified_codes, Text).label("certified_codes")
ANSWER_ROWS = (
    select(
        *(_RAW_CODES if c is Camera.certified_codes else c for c in OUT_COLUMNS),
        _latest_scene.c.version.label("scene_version"),
        _heartbeat,
    )
    .outerjoin(_latest_scene, _latest_scene.c.camera_id == Camera.id)
    .outerjoin(_heartbeat, _heartbeat.camera_id == Camera.id)
)


@lru_cache(maxsize=4096)
def _shown(url: str | None, has_credentials: bool) -> str | None:
    # Cached: a list shows the same few hundred URLs on every request, and redact() is regexes.
    shown = crypto.masked(url, has_credentials)
    return redact(shown) if shown else None


def _derived(
    credentials: str | None,
    heartbeat: CameraHealth | None,
    kind: str,
    valid_until: date | None,
    settings: Settings,
    now: datetime,
) -> tuple[frozenset[str], HealthState, bool]:
    """What an answer derives: the stored credentials' names, the health at ``now`` and
    whether verification has lapsed."""
    has = crypto.credential_names(settings, credentials)
    return has, derive(heartbeat, settings, now)[0], lapsed(kind, valid_until, now.date())


def _shown_fields(
    values: dict[str, Any], has: frozenset[str], health: HealthState, is_lapsed: bool
) -> dict[str, Any]:
    # redact() as well: rows written before credentials were split out may hold some.
    values["stream_main"] = _shown(values["stream_main"], "main" in has)
    values["stream_sub"] = _shown(values["stream_sub"], "sub" in has)
    values["stream_credentials_set"] = bool(has)
    values["verification_lapsed"] = is_lapsed
    values["health"] = health
    return values


def out_fields(values: dict[str, Any], settings: Settings, now: datetime) -> dict[str, Any]:
    """A row of ANSWER_ROWS as a dict, made a CameraOut dict (in place)."""
    credentials, heartbeat = values.pop("stream_credentials"), values.pop("heartbeat")
    kind, valid_until = values["kind"], values["verification_valid_until"]
    return _shown_fields(
        values, *_derived(credentials, heartbeat, kind, valid_until, settings, now)
    )


@lru_cache(maxsize=4096)
def _answer_json(
    keys: tuple[str, ...],
    shown: tuple[Any, ...],
    has: frozenset[str],
    health: HealthState,
    lapsed: bool,
) -> bytes:
    # Kept by everything the answer is made of, so no entry goes stale: a changed camera, a
    # new heartbeat state or another day is another key. A list of 110 cameras then costs
    # no validation or serialisation per request, only this lookup per camera.
    fields = dict(zip(keys, shown, strict=True))
    del fields["stream_credentials"]
    codes = fields["certified_codes"]
    fields["certified_codes"] = json.loads(codes) if codes is not None else None
    out = CameraOut.model_validate(_shown_fields(fields, has, health, lapsed))
    return CameraOut.__pydantic_serializer__.to_json(out)


def answers_json(
    result: Result[Any], settings: Settings, now: datetime
) -> list[tuple[HealthState, bytes]]:
    """Every row of an ANSWER_ROWS result as CameraOut JSON, with its health (a filter)."""
    # A row is the columns its answer shows, then its heartbeat: those columns, as they come,
    # are the key (a dict of them per row cost more than the rest of the list).
    *shown, _ = result.keys()
    keys = tuple(shown)
    pick = itemgetter(
        *(keys.index(k) for k in ("stream_credentials", "kind", "verification_valid_until"))
    )
    out = []
    values: list[Any]
    for *values, heartbeat in result:
        credentials, kind, valid_until = pick(values)
        derived = _derived(credentials, heartbeat, kind, valid_until, settings, now)
        out.append((derived[1], _answer_json(keys, tuple(values), *derived)))
    return out


def camera_out(
    cam: Camera,
    scene_version: int | None,
    health: CameraHealth | None,
    settings: Settings,
    now: datetime | None = None,
) -> CameraOut:
    row = {col.key: getattr(cam, col.key) for col in OUT_COLUMNS}
    row.update(scene_version=scene_version, heartbeat=health)
    return CameraOut.model_validate(out_fields(row, settings, now or datetime.now(UTC)))


def snapshot(cam: Camera, settings: Settings) -> dict[str, Any]:
    """What the audit log keeps of a camera: its own fields, credentials masked."""
    return jsonable_encoder({"id": cam.id, **current_fields(cam, settings)})
