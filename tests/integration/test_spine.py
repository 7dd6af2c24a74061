"""A real clip through real YOLO, SeaweedFS, Tansu and PostgreSQL, read back through the API."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from contract.events import DetectionEvent, EventType
from detectors.sources import FileSource
from dozor.storage import ObjectStore
from registry.app import create_app
from registry.auth import Role, issue_token
from registry.db import session_scope
from registry.models import EventRecord
from tests.conftest import media_dir
from tests.integration.conftest import DEMO_CAMERA, DEMO_CLIP, Replayed

pytestmark = pytest.mark.integration


def test_replay_finds_red_light_violations(replayed: Replayed) -> None:
    s = replayed.summary
    # The clip has 298 frames; replay analyses them at the live rate, as a camera would.
    analysed = FileSource(media_dir() / DEMO_CLIP, analysis_fps=replayed.settings.analysis_fps)
    assert analysed.step > 1 and s.frames >= 290 // analysed.step
    assert s.detections > 0
    assert s.events >= 1
    assert len(set(s.event_ids)) == s.events


def test_events_indexed_equal_events_published(replayed: Replayed) -> None:
    with session_scope(replayed.settings.db_url) as session:
        ids = set(
            session.scalars(select(EventRecord.id).where(EventRecord.camera_id == DEMO_CAMERA))
        )
    assert ids == set(replayed.summary.event_ids)
    assert replayed.consumed.dead_lettered == 0


def test_every_evidence_object_exists_with_the_events_hash(replayed: Replayed) -> None:
    store = ObjectStore(replayed.settings)
    with session_scope(replayed.settings.db_url) as session:
        rows = session.scalars(
            select(EventRecord).where(EventRecord.id.in_(replayed.summary.event_ids))
        )
        events = [DetectionEvent.model_validate(r.payload) for r in rows]
    # The clip's one runner; the minivan may also raise a stopped-vehicle incident while it
    # waits in the intersection (see its ground truth), which needs evidence just the same.
    assert [e for e in events if e.type is EventType.RED_LIGHT]
    for event in events:
        roles = {ref.role.value for ref in event.data.evidence}
        assert "overview" in roles
        if event.type is EventType.RED_LIGHT:
            assert event.data.gost_code == "C12" and "crop" in roles
        for ref in event.data.evidence:
            data = store.get(ref.bucket, ref.key)
            assert hashlib.sha256(data).hexdigest() == ref.sha256
            assert len(data) == ref.size


def _client(replayed: Replayed, role: Role) -> tuple[TestClient, dict[str, str]]:
    app = create_app(replayed.settings)
    with session_scope(replayed.settings.db_url) as session:
        token = issue_token(session, role, f"test {role}")
    return TestClient(app), {"Authorization": f"Bearer {token}"}


def test_api_lists_events_with_presigned_urls_that_fetch_jpegs(replayed: Replayed) -> None:
    client, auth = _client(replayed, Role.OPERATOR)
    listed = client.get("/events", params={"camera_id": DEMO_CAMERA, "limit": 500}, headers=auth)
    assert listed.status_code == 200
    body = listed.json()
    assert {e["id"] for e in body["items"]} == set(replayed.summary.event_ids)
    assert client.get("/events", params={"type": "speeding"}, headers=auth).json()["total"] == 0
    for item in body["items"]:
        detail = client.get(f"/events/{item['id']}", headers=auth).json()
        assert detail["event"]["subject"] == DEMO_CAMERA
        for link in detail["evidence"]:
            fetched = httpx.get(link["url"], timeout=10)
            assert fetched.status_code == 200
            magic = b"\xff\xd8\xff" if link["content_type"] == "image/jpeg" else b"ftyp"
            assert magic in fetched.content[:8]  # JPEG, or the MP4 clip
            assert hashlib.sha256(fetched.content).hexdigest() == link["sha256"]


def test_viewers_see_events_but_not_evidence_media(replayed: Replayed) -> None:
    client, auth = _client(replayed, Role.VIEWER)
    event_id = replayed.summary.event_ids[0]
    detail = client.get(f"/events/{event_id}", headers=auth).json()
    assert detail["evidence"] and all(link["url"] is None for link in detail["evidence"])
    assert client.get(f"/events/{event_id}").status_code == 401
    detector_client, detector_auth = _client(replayed, Role.DETECTOR)
    assert detector_client.get("/events", headers=detector_auth).status_code == 403


def test_replaying_again_yields_the_same_event_ids_and_no_new_rows(replayed: Replayed) -> None:
    from detectors.replay import replay
    from registry.link import DatabaseLink
    from tests.conftest import media_dir
    from tests.integration.conftest import DEMO_CLIP, consume_until_idle

    again = replay(
        replayed.settings,
        media_dir() / DEMO_CLIP,
        DEMO_CAMERA,
        link=DatabaseLink(replayed.settings),
        progress=False,
    )
    assert again.event_ids == replayed.summary.event_ids
    stats = consume_until_idle(replayed.settings)
    with session_scope(replayed.settings.db_url) as session:
        count = session.scalar(
            select(func.count(EventRecord.id)).where(EventRecord.camera_id == DEMO_CAMERA)
        )
    assert count == replayed.summary.events
    assert stats.handled >= replayed.summary.events  # all seen again, all deduplicated
