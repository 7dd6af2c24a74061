"""Plate text is personal data: only operators, administrators and enforcement read it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contract.events import (
    Category,
    DetectionEvent,
    DetectorInfo,
    EventData,
    EventType,
    event_id,
)
from dozor.settings import Settings
from registry.app import create_app
from registry.auth import Role, issue_token
from registry.bootstrap import prepare_database
from registry.db import session_scope
from registry.event_index import index_event

pytestmark = pytest.mark.integration

PLATE = "Х590НР178"


def test_only_evidence_readers_see_plate_text(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'r.db'}")
    prepare_database(settings)
    event = DetectionEvent(
        id=event_id("plates", tmp_path),
        source="dozor://detector/w",
        type=EventType.RED_LIGHT,
        time=datetime.now(UTC),
        subject="VLG-ENF-001",
        data=EventData(
            category=Category.VIOLATION,
            gost_code="C12",
            scene_version=1,
            confidence=0.9,
            frame_index=1,
            offset_s=0.1,
            measured={
                "red_for_s": 3.0,
                "plate": PLATE,
                "plate_raw": PLATE,
                "plate_confidence": 0.9,
            },
            detector=DetectorInfo(
                model_name="m", model_sha256="0" * 64, software_version="t", worker_id="w"
            ),
            source_uri="file:///x",
        ),
    )
    with session_scope(settings.db_url) as session:
        index_event(session, event)
        tokens = {r: issue_token(session, r, r.value) for r in Role}
    client = TestClient(create_app(settings))

    def text(role: Role, path: str) -> str:
        answer = client.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})
        assert answer.status_code == 200, (role, path, answer.text)
        return answer.text

    paths = [f"/events/{event.id}", "/events", "/review", "/events.csv"]
    for path in paths:
        assert PLATE not in text(Role.VIEWER, path), path
    detail = client.get(
        f"/events/{event.id}", headers={"Authorization": f"Bearer {tokens[Role.VIEWER]}"}
    ).json()
    assert detail["event"]["data"]["measured"] == {"red_for_s": 3.0}
    for role in (Role.OPERATOR, Role.ADMIN, Role.ENFORCEMENT):
        assert PLATE in text(role, f"/events/{event.id}")
