"""Preview before saving: the demo clip run against its scene as a draft, on the real app,
the real model and PostgreSQL; the red light is found and drawn, nothing is stored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from dozor.settings import Settings
from registry.app import create_app
from registry.auth import Role
from registry.bootstrap import prepare_database
from registry.db import session_scope
from registry.models import EventRecord, SceneVersion
from registry.seed import SEED_DIR
from tests.conftest import model_path, temp_pg_database
from tests.integration.conftest import DEMO_CLIP
from tests.integration.test_commission_cli import STREET
from tests.integration.test_registry_api import Registry

pytestmark = pytest.mark.integration
CAM = "VLG-CAM-995"
SCENE = json.loads((SEED_DIR / "scenes" / "redlight_cam_platte_chelton.json").read_text())


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    from fastapi.testclient import TestClient

    tmp = Path(tmp_path_factory.mktemp("preview"))
    with temp_pg_database() as url:
        settings = Settings(
            state_dir=tmp, database_url=url, model=model_path(), yolo_config_dir=tmp / "yolo"
        )
        prepare_database(settings)
        r = Registry(settings, TestClient(create_app(settings)))
        assert r.call("POST", "/cameras", Role.ADMIN, json={**STREET, "id": CAM}).status_code == 201
        yield r


def test_preview_finds_and_draws_the_red_light(reg: Registry) -> None:
    body = {"scene": SCENE, "recording": DEMO_CLIP}
    started = reg.call("POST", f"/cameras/{CAM}/scenes/preview", Role.OPERATOR, json=body)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] == "running"
    busy = reg.call("POST", f"/cameras/{CAM}/scenes/preview", Role.OPERATOR, json=body)
    assert busy.status_code == 429
    deadline = time.monotonic() + 600
    while job["state"] == "running":
        assert time.monotonic() < deadline, "preview did not finish"
        time.sleep(1)
        job = reg.call("GET", f"/preview/{job['job_id']}", Role.OPERATOR).json()
    assert job["state"] == "done", job["error"]
    red = [e for e in job["events"] if e["type"] == "red_light"]
    assert red, job["events"]
    # The labelled red-light runner of this clip crosses at about 7.5 s.
    assert any(abs(e["time_s"] - 7.5) < 1.5 for e in red), red
    shot = reg.call("GET", red[0]["image"], Role.OPERATOR)
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(shot.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (SCENE["frame_height"], SCENE["frame_width"], 3)
    # Nothing was saved or indexed: a preview publishes nothing.
    with session_scope(reg.settings.db_url) as session:
        assert session.query(SceneVersion).filter_by(camera_id=CAM).count() == 0
        assert session.query(EventRecord).filter_by(camera_id=CAM).count() == 0
    print(f"preview of {DEMO_CLIP}: {job['elapsed_s']} s, {len(job['events'])} events")


def test_preview_refuses_what_it_cannot_run(reg: Registry) -> None:
    url = f"/cameras/{CAM}/scenes/preview"
    small = {
        **SCENE,
        "frame_width": 320,
        "frame_height": 176,
        "zones": [],
        "lines": [],
        "signals": [],
    }
    wrong = reg.call("POST", url, Role.OPERATOR, json={"scene": small, "recording": DEMO_CLIP})
    assert wrong.status_code == 422 and "640x352" in wrong.text
    sneaky = reg.call("POST", url, Role.OPERATOR, json={"scene": SCENE, "recording": "../x.mp4"})
    assert sneaky.status_code == 400
    assert (
        reg.call(
            "POST", url, Role.VIEWER, json={"scene": SCENE, "recording": DEMO_CLIP}
        ).status_code
        == 403
    )
    assert reg.call("GET", "/preview/" + "0" * 32, Role.OPERATOR).status_code == 404
