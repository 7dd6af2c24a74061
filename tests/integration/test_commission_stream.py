"""The camera wall's SSE feed on the real app and PostgreSQL: a heartbeat turns a camera
online on an open stream, without a reload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from registry.auth import Role
from tests.conftest import temp_pg_database
from tests.integration.test_commission_cli import STREET
from tests.integration.test_registry_api import Registry, open_registry

pytestmark = pytest.mark.integration
CAM = "VLG-CAM-990"


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with temp_pg_database() as url:
        r = open_registry(Path(tmp_path_factory.mktemp("wall")), url)
        assert r.call("POST", "/cameras", Role.ADMIN, json={**STREET, "id": CAM}).status_code == 201
        yield r


def events(lines: Iterator[str]) -> Iterator[tuple[str, dict]]:
    name = None
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: ") and name:
            yield name, json.loads(line.removeprefix("data: "))


def test_a_heartbeat_reaches_an_open_stream(reg: Registry) -> None:
    params = {"access_token": reg.tokens[Role.VIEWER], "until_s": 60}
    with reg.client.stream("GET", "/stream", params=params) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        feed = events(r.iter_lines())
        name, first = next(feed)
        assert name == "snapshot"
        (mine,) = [c for c in first["cameras"] if c["camera_id"] == CAM]
        assert (mine["state"], mine["reasons"]) == ("offline", ["no heartbeat received"])
        reg.hold_lease(CAM, "detector-desk")  # the detector token's worker
        now = datetime.now(UTC).isoformat()
        beat = {
            "camera_id": CAM,
            "worker_id": "detector-desk",
            "time": now,
            "fps_in": 25,
            "fps_out": 8,
            "last_frame_time": now,
        }
        assert (
            reg.call("POST", f"/cameras/{CAM}/heartbeat", Role.DETECTOR, json=beat).status_code
            == 202
        )
        name, changed = next(feed)
        assert name == "camera"
        assert (changed["camera_id"], changed["state"], changed["fps"]) == (CAM, "online", 8)
        assert changed["snapshot_url"] == f"/cameras/{CAM}/snapshot"


def test_the_stream_needs_a_human_token(reg: Registry) -> None:
    assert reg.client.get("/stream").status_code == 401
    assert reg.client.get("/stream", params={"access_token": "dz_nope"}).status_code == 401
    detector = {"access_token": reg.tokens[Role.DETECTOR]}
    assert reg.client.get("/stream", params=detector).status_code == 403
