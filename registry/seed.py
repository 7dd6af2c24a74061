"""Seeds an empty registry with Volgograd's roster and the scene configs we ship."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contract.scene import SceneConfig
from registry.models import Camera
from registry.scenes import add_scene

SEED_DIR = Path(__file__).parent / "seed"
log = logging.getLogger(__name__)


def roster() -> list[dict[str, Any]]:
    return json.loads((SEED_DIR / "roster.json").read_text(encoding="utf-8"))


def scene_assignments() -> dict[str, SceneConfig]:
    """Camera id -> shipped scene config (cameras whose footage we have for the demo)."""
    assigned = json.loads((SEED_DIR / "scenes" / "assignments.json").read_text())
    return {
        camera_id: SceneConfig.model_validate_json(
            (SEED_DIR / "scenes" / f"{scene}.json").read_text()
        )
        for camera_id, scene in assigned.items()
    }


def camera_from_record(rec: dict[str, Any]) -> Camera:
    stream = rec.get("stream") or {}
    valid_until = rec.get("verification_valid_until")
    return Camera(
        id=rec["id"],
        kind=rec["kind"],
        name=rec["name"],
        district=rec.get("district"),
        address=rec.get("address"),
        lat=rec["lat"],
        lon=rec["lon"],
        heading_deg=rec.get("heading_deg"),
        lanes=rec.get("lanes"),
        vendor=rec.get("vendor"),
        model=rec.get("model"),
        status=rec.get("status", "active"),
        stream_main=stream.get("main"),
        stream_sub=stream.get("sub"),
        type_approval_number=rec.get("type_approval_number"),
        verification_certificate=rec.get("verification_certificate"),
        verification_valid_until=date.fromisoformat(valid_until) if valid_until else None,
        certified_codes=rec.get("certified_codes"),
    )


def seed_if_empty(session: Session) -> int:
    """Insert the roster when there are no cameras yet; returns how many were added."""
    if session.scalar(select(func.count(Camera.id))):
        return 0
    records = roster()
    session.add_all(camera_from_record(r) for r in records)
    session.flush()
    for camera_id, scene in scene_assignments().items():
        add_scene(session, camera_id, scene, author="seed")
    log.info("seeded %d cameras", len(records))
    return len(records)
