"""Reference frames for the scene editor, against the real app, PostgreSQL and S3: a server
recording's frame, an upload, kept in S3 with the scene version; unsafe names refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from contract.scene import LineKind, ZoneKind
from detectors.replay import load_camera
from detectors.sources import FileSource
from dozor.settings import Settings, get_settings
from dozor_cli.cli import app
from registry.app import create_app
from registry.auth import Role
from registry.db import session_scope
from registry.link import DatabaseLink
from registry.models import SceneVersion
from tests.conftest import media_dir, settings_env
from tests.integration.conftest import DEMO_CLIP
from tests.integration.test_commission_cli import SCENE, STREET
from tests.integration.test_registry_api import Registry

pytestmark = pytest.mark.integration
CAM = "VLG-CAM-980"


@pytest.fixture(scope="module")
def reg(stack_env: Settings) -> Iterator[Registry]:
    r = Registry(stack_env, TestClient(create_app(stack_env)))
    r.call("DELETE", f"/cameras/{CAM}", Role.ADMIN)
    assert r.call("POST", "/cameras", Role.OPERATOR, json={**STREET, "id": CAM}).status_code == 201
    yield r


def test_recordings_are_listed_and_give_frames(reg: Registry) -> None:
    listed = reg.call("GET", "/recordings", Role.VIEWER).json()
    demo = next(r for r in listed if r["name"] == DEMO_CLIP)
    assert (demo["width"], demo["height"]) == (640, 352) and demo["duration_s"] > 1
    r = reg.call("GET", f"/recordings/{DEMO_CLIP}/frame?t=1.5", Role.VIEWER)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (352, 640, 3)
    for bad in ("..%2F..%2Fetc%2Fpasswd", "..mp4", ".hidden.mp4"):
        assert reg.call("GET", f"/recordings/{bad}/frame", Role.VIEWER).status_code in (400, 404)
    assert reg.call("GET", "/recordings/nope.mp4/frame", Role.VIEWER).status_code == 404
    assert reg.call("GET", f"/recordings/{DEMO_CLIP}/frame?t=9999", Role.VIEWER).status_code == 422
    assert reg.client.get("/recordings").status_code == 401


def test_a_frame_is_kept_with_the_scene_version(reg: Registry) -> None:
    made = reg.call(
        "POST",
        f"/cameras/{CAM}/frames",
        Role.OPERATOR,
        json={"source": "recording", "name": DEMO_CLIP, "t": 2},
    )
    assert made.status_code == 201, made.text
    frame = made.json()
    assert (frame["width"], frame["height"], frame["source"]) == (640, 352, "recording")
    assert (
        reg.call("POST", f"/cameras/{CAM}/frames", Role.VIEWER, json={"source": "live"}).status_code
        == 403
    )
    saved = reg.call(
        "POST",
        f"/cameras/{CAM}/scenes?reference_frame={frame['frame_id']}",
        Role.OPERATOR,
        json=SCENE,
    )
    assert saved.status_code == 201 and saved.json()["reference_frame"] == frame["frame_id"]
    version = saved.json()["version"]
    stored = reg.call("GET", f"/cameras/{CAM}/scenes/{version}/frame", Role.VIEWER)
    same = reg.call("GET", frame["url"], Role.VIEWER)
    assert stored.status_code == 200 and stored.content == same.content
    assert [
        f["frame_id"] for f in reg.call("GET", f"/cameras/{CAM}/frames", Role.VIEWER).json()
    ] == [frame["frame_id"]]

    # Replays and workers get it through the boundary and register frames against it.
    link = DatabaseLink(reg.settings)
    assert link.reference_frame(CAM, version) == stored.content
    camera = load_camera(link, CAM, FileSource(media_dir() / DEMO_CLIP))
    assert camera.reference is not None and camera.reference.shape == (352, 640, 3)
    assert link.reference_frame(CAM, version + 99) is None


def test_an_uploaded_image_becomes_a_frame(reg: Registry) -> None:
    ok, png = cv2.imencode(".png", np.full((352, 640, 3), 90, np.uint8))
    assert ok
    r = reg.call(
        "POST", f"/cameras/{CAM}/frames", Role.OPERATOR, files={"file": ("view.png", png.tobytes())}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["source"], r.json()["detail"]) == ("upload", "view.png")
    junk = reg.call(
        "POST", f"/cameras/{CAM}/frames", Role.OPERATOR, files={"file": ("x.png", b"not a picture")}
    )
    assert junk.status_code == 422
    # A frame of another size cannot back a scene drawn for 640x352.
    ok, small = cv2.imencode(".png", np.zeros((100, 100, 3), np.uint8))
    fid = reg.call(
        "POST", f"/cameras/{CAM}/frames", Role.OPERATOR, files={"file": ("s.png", small.tobytes())}
    ).json()["frame_id"]
    bad = reg.call(
        "POST", f"/cameras/{CAM}/scenes?reference_frame={fid}", Role.OPERATOR, json=SCENE
    )
    assert bad.status_code == 422 and "100x100" in bad.text


def test_hints_and_page_settings(reg: Registry) -> None:
    hints = reg.call("GET", "/scene-hints", Role.VIEWER).json()
    assert hints["test_point"]["point"] == "bottom_centre"
    assert set(hints["zones"]) == set(ZoneKind)
    assert set(hints["lines"]) == set(LineKind)
    assert hints["lines"]["stop_line"]["needs_approach"] is True
    ui = reg.client.get("/ui-config").json()
    assert ui["time_zone"] == "Europe/Volgograd" and ui["map_tile_url"] is None


def test_scene_set_keeps_a_reference_frame_from_the_command_line(
    reg: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in settings_env(reg.settings).items():
        if name.startswith("DOZOR_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        scene = tmp_path / "scene.json"
        scene.write_text(json.dumps(SCENE))
        args = ["scene", "set", CAM, str(scene), "--frame", str(media_dir() / DEMO_CLIP)]
        result = CliRunner().invoke(app, [*args, "--t", "2"])
        assert result.exit_code == 0, result.stderr
        version = int(result.stdout.rsplit(" ", 1)[1])
        with session_scope(reg.settings.db_url) as session:
            row = session.get_one(SceneVersion, (CAM, version))
            assert row.reference_frame is not None
        stored = reg.call("GET", f"/cameras/{CAM}/scenes/{version}/frame", Role.VIEWER)
        assert stored.status_code == 200
        assert DatabaseLink(reg.settings).reference_frame(CAM, version) == stored.content
        small = tmp_path / "small.png"
        cv2.imwrite(str(small), np.zeros((10, 10, 3), np.uint8))
        bad = CliRunner().invoke(app, ["scene", "set", CAM, str(scene), "--frame", str(small)])
        assert bad.exit_code == 2 and "10x10, but the scene is drawn for 640x352" in bad.stderr
    finally:
        get_settings.cache_clear()


def test_a_dead_stream_is_a_clear_answer_without_its_credentials(reg: Registry) -> None:
    dead = {**STREET, "id": "VLG-CAM-981", "stream_main": "rtsp://op:s3cret@127.0.0.1:9/none"}
    reg.call("DELETE", "/cameras/VLG-CAM-981", Role.ADMIN)
    assert reg.call("POST", "/cameras", Role.ADMIN, json=dead).status_code == 201
    first = reg.call("GET", "/cameras/VLG-CAM-981/snapshot", Role.VIEWER)
    assert first.status_code == 424 and "no frame from" in first.text
    again = reg.call("POST", "/cameras/VLG-CAM-981/frames", Role.OPERATOR, json={"source": "live"})
    # Asked again within the retry interval: answered at once, from the first failure.
    assert again.status_code == 424 and "ago" in again.text
    assert "s3cret" not in first.text + again.text
