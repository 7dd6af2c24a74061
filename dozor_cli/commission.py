"""``dozor camera`` and ``dozor scene``: commissioning from files, without the API or a token.

Files are JSON or YAML (by suffix). Cameras are checked by the registry's own schemas and
written in one transaction, all or none; scenes by the same checks the API applies. Every
change is audited under the name ``cli:<user>``.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from contract.scene import SceneConfig
from dozor.errors import UserError
from dozor.settings import Settings
from registry import audit
from registry.audit import Actor
from registry.auth import Role
from registry.db import session_scope
from registry.importer import ImportRejected, Row, import_rows
from registry.models import Camera
from registry.scenes import NoSceneError, add_scene, current_scene, validation_errors


def cli_actor() -> Actor:
    # The CLI runs with the database's own rights: an administrator's, named for the log.
    return Actor(name=f"cli:{getpass.getuser()}", role=Role.ADMIN)


def read_document(path: Path) -> Any:
    """A JSON or YAML file's content; one clear UserError when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            raise UserError(
                f"{path}:{where} not valid YAML: {getattr(exc, 'problem', exc)}"
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from None


def _units(path: Path, doc: Any) -> list[dict[str, Any]]:
    """One unit (an object), many (a list), or {"cameras": [...]}."""
    if isinstance(doc, dict) and isinstance(doc.get("cameras"), list):
        doc = doc["cameras"]
    units = [doc] if isinstance(doc, dict) else doc
    if not isinstance(units, list) or not units:
        raise UserError(f"{path}: expected a camera object, a list of them, or {{cameras: [...]}}")
    for i, unit in enumerate(units, 1):
        if not isinstance(unit, dict):
            raise UserError(f"{path}: unit {i} is not an object")
    return units


def _unit_name(units: list[dict[str, Any]], n: int) -> str:
    uid = units[n - 1].get("id") if 0 < n <= len(units) else None
    return f"unit {n}" + (f" ({uid})" if isinstance(uid, str) else "")


def save_cameras(settings: Settings, path: Path, *, update: bool) -> tuple[int, int, int]:
    """Create (``update=False``) or change (``update=True``) the cameras in ``path``, all or
    none. Answers (created, updated, unchanged)."""
    units = _units(path, read_document(path))
    with session_scope(settings.db_url) as session:
        ids = [u.get("id") for u in units]
        for n, uid in enumerate(ids, 1):
            if not isinstance(uid, str):
                raise UserError(f"{path}: {_unit_name(units, n)}: id is missing")
            exists = session.get(Camera, uid) is not None
            if update and not exists:
                raise UserError(f"{path}: {_unit_name(units, n)}: no such camera; use camera add")
            if not update and exists:
                raise UserError(f"{path}: {_unit_name(units, n)}: camera exists; use camera update")
        rows = [Row(n, unit) for n, unit in enumerate(units, 1)]
        try:
            report = import_rows(session, settings, cli_actor(), rows)
        except ImportRejected as exc:
            problems = "; ".join(
                f"{_unit_name(units, p.line)}: {p.field + ': ' if p.field else ''}{p.message}"
                for p in exc.problems
            )
            raise UserError(f"{path}: nothing saved: {problems}") from None
    return report.created, report.updated, report.unchanged


def load_scene(path: Path) -> SceneConfig:
    """A scene file checked as the API checks it; every problem on one line."""
    doc = read_document(path)
    errors = validation_errors(doc)
    if errors:
        problems = "; ".join(
            f"{e['geometry'] or '.'.join(map(str, e['loc'])) or 'scene'}: {e['msg']}"
            for e in errors
        )
        raise UserError(f"{path}: invalid scene: {problems}")
    return SceneConfig.model_validate(doc)


def set_scene(
    settings: Settings, camera_id: str, path: Path, frame: Path | None = None, t: float = 0.0
) -> int:
    """Add the scene in ``path`` as the camera's newest version, with ``frame`` (an image,
    or a video at ``t`` seconds) kept in S3 as its reference frame; answers the version."""
    scene = load_scene(path)
    actor = cli_actor()
    image = None
    if frame is not None:
        image = load_image(frame, t)
        if image.shape[:2] != (scene.frame_height, scene.frame_width):
            raise UserError(
                f"{frame}: {image.shape[1]}x{image.shape[0]}, but the scene is drawn for "
                f"{scene.frame_width}x{scene.frame_height}"
            )
    with session_scope(settings.db_url) as session:
        if session.get(Camera, camera_id) is None:
            raise UserError(f"unknown camera id: {camera_id}")
        reference = None
        if image is not None:
            from detectors.scene_draw import encode
            from detectors.stills import VIDEO_SUFFIXES
            from dozor.storage import ObjectStore
            from registry.frames import store_frame

            detail = frame.name + (f"@{t:.2f}s" if frame.suffix.lower() in VIDEO_SUFFIXES else "")
            row = store_frame(
                session,
                ObjectStore(settings),
                camera_id,
                encode(image, ".jpg"),
                (image.shape[1], image.shape[0]),
                "upload",
                detail,
                actor.name,
            )
            reference = row.id
        version = add_scene(session, camera_id, scene, actor.name, reference)
        audit.record(
            session,
            actor,
            "add_scene",
            "scene",
            camera_id,
            None,
            {
                "version": version,
                "config": scene.model_dump(mode="json"),
                "file": str(path),
                "reference_frame": reference,
            },
        )
    return version


def camera_scene(settings: Settings, camera_id: str) -> tuple[int, SceneConfig]:
    with session_scope(settings.db_url) as session:
        if session.get(Camera, camera_id) is None:
            raise UserError(f"unknown camera id: {camera_id}")
        try:
            return current_scene(session, camera_id)
        except NoSceneError as exc:
            raise UserError(str(exc)) from None


def load_image(frame: Path, t: float = 0.0) -> Any:
    """A BGR image from an image file, or from a video at ``t`` seconds."""
    from detectors.errors import DetectorInputError
    from detectors.scene_draw import decode
    from detectors.stills import VIDEO_SUFFIXES, frame_at

    if not frame.is_file():
        raise UserError(f"{frame}: no such file")
    if frame.suffix.lower() in VIDEO_SUFFIXES:
        try:
            return frame_at(frame, t)
        except DetectorInputError as exc:
            raise UserError(str(exc)) from None
    image = decode(frame.read_bytes())
    if image is None:
        raise UserError(f"{frame}: not an image or a video")
    return image


def show_scene(scene: SceneConfig, frame: Path, out: Path, t: float = 0.0) -> tuple[int, int]:
    """Draw ``scene`` over ``frame`` (an image, or a video at ``t`` seconds) into ``out``."""
    from detectors.scene_draw import draw_scene, encode

    image = load_image(frame, t)
    h, w = image.shape[:2]
    if abs(w / h - scene.frame_width / scene.frame_height) > 0.01:
        raise UserError(
            f"{frame}: {w}x{h} does not have the scene's shape "
            f"{scene.frame_width}x{scene.frame_height}; is it this camera's view?"
        )
    suffix = out.suffix.lower() if out.suffix.lower() in (".png", ".jpg", ".jpeg") else ".png"
    try:
        out.write_bytes(encode(draw_scene(image, scene), suffix))
    except OSError as exc:
        raise UserError(f"{out}: cannot write: {exc}") from None
    return scene.frame_width, scene.frame_height
