"""`dozor camera add|update`, `dozor scene set|show` from files in a temp dir, against a real
PostgreSQL-backed registry; bad files give one clear error line and exit status 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from dozor.settings import Settings, get_settings
from dozor_cli.cli import app
from registry.bootstrap import prepare_database
from registry.db import session_scope
from registry.models import AuditEntry, Camera, SceneVersion
from tests.conftest import media_dir, temp_pg_database

pytestmark = pytest.mark.integration

STREET = {
    "id": "VLG-CAM-901",
    "kind": "street_camera",
    "name": "ул. Тестовая — пр. Ленина",
    "lat": 48.71,
    "lon": 44.51,
    "stream_main": "rtsp://viewer:s3cret@10.0.0.9:554/main",
}
UNIT = {
    **STREET,
    "id": "VLG-ENF-901",
    "kind": "enforcement_unit",
    "type_approval_number": "ГРСИ 78211-20",
    "verification_certificate": "С-ВЯ/01-01-2026/1",
    "verification_valid_until": "2027-01-01",
    "certified_codes": ["C1", "C12"],
}
SCENE = {
    "frame_width": 640,
    "frame_height": 352,
    "zones": [{"id": "walk", "kind": "crosswalk", "polygon": [[0, 250], [640, 250], [640, 300]]}],
    "lines": [
        {
            "id": "stop",
            "kind": "stop_line",
            "points": [[0, 240], [640, 240]],
            "approach": [320, 330],
        }
    ],
    "signals": [{"id": "head", "bbox": [300, 10, 320, 60], "controls": ["stop"]}],
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with temp_pg_database() as url:
        s = Settings(state_dir=tmp_path_factory.mktemp("cli"), database_url=url)
        prepare_database(s)
        yield s


@pytest.fixture
def dozor(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("DOZOR_DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("DOZOR_STATE_DIR", str(settings.state_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cameras_from_json_and_yaml_then_updated(
    dozor: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    many = tmp_path / "units.yaml"
    many.write_text(yaml.safe_dump({"cameras": [STREET, UNIT]}, allow_unicode=True))
    code, out, err = run(dozor, "camera", "add", str(many))
    assert (code, err) == (0, ""), err
    assert "2 created" in out
    again = run(dozor, "camera", "add", str(many))
    assert again[0] == 2 and "VLG-CAM-901" in again[2] and "camera update" in again[2]

    change = tmp_path / "change.json"
    change.write_text(json.dumps({"id": "VLG-CAM-901", "status": "maintenance", "lanes": 3}))
    code, out, err = run(dozor, "camera", "update", str(change))
    assert (code, out.strip()) == (0, "0 created, 1 updated, 0 unchanged"), err
    with session_scope(settings.db_url) as session:
        cam = session.get_one(Camera, "VLG-CAM-901")
        assert (cam.status, cam.lanes, cam.name) == ("maintenance", 3, STREET["name"])
        # Credentials went to their encrypted column, never into the URL column or the log.
        assert "s3cret" not in (cam.stream_main or "")
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == "VLG-CAM-901")
        ).all()
        assert [e.action for e in entries] == ["import", "import"]
        assert all(e.actor.startswith("cli:") for e in entries)
        assert "s3cret" not in json.dumps([e.after for e in entries])


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.json", '{"id": "VLG-CAM-950", "kind": ', "line 1: not valid JSON"),
        ("broken.yaml", "id: [unclosed", "not valid YAML"),
        ("scalar.json", "42", "expected a camera object"),
        (
            "bad_lat.json",
            json.dumps(
                [{**STREET, "id": "VLG-CAM-951"}, {**STREET, "id": "VLG-CAM-952", "lat": 91}]
            ),
            "unit 2 (VLG-CAM-952): lat: Input should be less than or equal to 90",
        ),
        (
            "uncertified.yaml",
            yaml.safe_dump({**UNIT, "id": "VLG-ENF-953", "certified_codes": None}),
            "an enforcement unit needs certified_codes",
        ),
        ("unknown.json", json.dumps({**STREET, "id": "VLG-CAM-954", "colour": "red"}), "colour"),
    ],
)
def test_a_bad_camera_file_is_one_line_and_exit_2(
    dozor: CliRunner, settings: Settings, tmp_path: Path, name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    code, out, err = run(dozor, "camera", "add", str(path))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"error: {path}") and expected in err, err
    with session_scope(settings.db_url) as session:
        # All or none: the valid first unit of a rejected file was not saved either.
        assert session.get(Camera, "VLG-CAM-951") is None


def test_scene_set_and_show_over_a_real_frame(
    dozor: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    cam = tmp_path / "cam.json"
    cam.write_text(json.dumps({**STREET, "id": "VLG-CAM-960"}))
    assert run(dozor, "camera", "add", str(cam))[0] == 0
    scene_file = tmp_path / "scene.yaml"
    scene_file.write_text(yaml.safe_dump(SCENE))
    code, out, err = run(dozor, "scene", "set", "VLG-CAM-960", str(scene_file))
    assert (code, out.strip()) == (0, "camera VLG-CAM-960: scene version 1"), err
    code, out, _ = run(dozor, "scene", "set", "VLG-CAM-960", str(scene_file))
    assert out.strip().endswith("scene version 2")
    with session_scope(settings.db_url) as session:
        row = session.get_one(SceneVersion, ("VLG-CAM-960", 2))
        assert row.config["lines"][0]["approach"] == [320, 330]
        assert row.created_by is not None and row.created_by.startswith("cli:")

    clip = media_dir() / "redlight_cam_platte_chelton.mp4"
    png = tmp_path / "drawn.png"
    code, out, err = run(
        dozor, "scene", "show", "VLG-CAM-960", "--frame", str(clip), "--t", "1", "--out", str(png)
    )
    assert code == 0, err
    drawn = cv2.imread(str(png))
    assert drawn is not None and drawn.shape == (352, 640, 3)
    # The stop line is drawn in red across the frame at y=240 over the real picture (the
    # signal's link to it and the approach arrow cross it in the middle).
    red = np.all(drawn[240, 0:640] == (0, 0, 255), axis=1)
    assert red.mean() > 0.9
    assert not np.all(drawn[100, 0:640] == (0, 0, 255), axis=1).any()

    # A still of the same view works as well as the video.
    still = tmp_path / "still.jpg"
    cap = cv2.VideoCapture(str(clip))
    ok, image = cap.read()
    cap.release()
    assert ok
    cv2.imwrite(str(still), image)
    assert (
        run(dozor, "scene", "show", "VLG-CAM-960", "--frame", str(still), "--out", str(png))[0] == 0
    )


@pytest.mark.parametrize(
    ("camera", "content", "expected"),
    [
        (
            "VLG-CAM-960",
            {**SCENE, "lines": [{**SCENE["lines"][0], "points": [[0, 240], [700, 240]]}]},
            "lines[stop]: lines[stop]: point (700.0, 240.0) lies outside",
        ),
        (
            "VLG-CAM-960",
            {
                **SCENE,
                "zones": [{"id": "z", "kind": "lane", "polygon": [[0, 0], [9, 9], [9, 0], [0, 9]]}],
            },
            "zones[z]: zones[z]: polygon edges 0 and 2 cross",
        ),
        ("VLG-CAM-999", SCENE, "unknown camera id: VLG-CAM-999"),
    ],
)
def test_a_bad_scene_is_one_line_and_exit_2(
    dozor: CliRunner, tmp_path: Path, camera: str, content: object, expected: str
) -> None:
    cam = tmp_path / "cam.json"
    cam.write_text(json.dumps({**STREET, "id": "VLG-CAM-960"}))
    run(dozor, "camera", "add", str(cam))
    path = tmp_path / "scene.json"
    path.write_text(json.dumps(content))
    code, out, err = run(dozor, "scene", "set", camera, str(path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err, err


def test_show_refuses_a_frame_of_another_view(dozor: CliRunner, tmp_path: Path) -> None:
    cam = tmp_path / "cam.json"
    cam.write_text(json.dumps({**STREET, "id": "VLG-CAM-960"}))
    run(dozor, "camera", "add", str(cam))
    scene = tmp_path / "scene.json"
    scene.write_text(json.dumps(SCENE))
    square = tmp_path / "square.png"
    cv2.imwrite(str(square), np.zeros((300, 300, 3), dtype=np.uint8))
    code, _, err = run(
        dozor,
        "scene",
        "show",
        "VLG-CAM-960",
        "--scene",
        str(scene),
        "--frame",
        str(square),
        "--out",
        str(tmp_path / "x.png"),
    )
    assert code == 2 and "does not have the scene's shape" in err
