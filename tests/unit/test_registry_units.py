"""Registry pieces without a server: credentials, health, import parsing, scene checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from contract.health import HealthState
from contract.scene import Calibration, Zone
from dozor.errors import UserError
from dozor.settings import Settings
from registry import crypto
from registry.health import derive
from registry.importer import ImportRejected, parse_csv, parse_geojson
from registry.models import CameraHealth
from registry.scenes import calibration_problem, polygon_problem


def test_credentials_split_mask_and_encrypt(tmp_path: Path) -> None:
    bare, userinfo = crypto.split_userinfo("rtsp://admin:p@ss@10.0.0.1:554/x?y=1")
    assert (bare, userinfo) == ("rtsp://10.0.0.1:554/x?y=1", "admin:p@ss")
    assert crypto.split_userinfo("rtsp://10.0.0.1/x") == ("rtsp://10.0.0.1/x", None)
    assert crypto.masked(bare, True) == "rtsp://***@10.0.0.1:554/x?y=1"
    assert crypto.masked(bare, False) == bare

    settings = Settings(state_dir=tmp_path)
    token = crypto.write_credentials(settings, {"main": "admin:p@ss"})
    assert token and "p@ss" not in token
    assert crypto.read_credentials(settings, token) == {"main": "admin:p@ss"}
    key_file = tmp_path / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    # The generated key persists: a restart (same state dir) still decrypts.
    crypto._generated_key.cache_clear()
    assert crypto.read_credentials(Settings(state_dir=tmp_path), token) == {"main": "admin:p@ss"}
    other = Settings(state_dir=tmp_path, secret_key=Fernet.generate_key().decode())
    with pytest.raises(UserError, match="cannot be decrypted"):
        crypto.read_credentials(other, token)
    with pytest.raises(UserError, match="32 url-safe base64"):
        crypto.fernet(Settings(state_dir=tmp_path, secret_key="short"))


def _beat(now: datetime, **kw: object) -> CameraHealth:
    values: dict[str, object] = {
        "camera_id": "C",
        "worker_id": "w",
        "time": now,
        "received_at": now,
        "fps_in": 25.0,
        "fps_out": 10.0,
        "queue_depth": 0,
        "last_frame_time": now,
        "errors": 0,
        **kw,
    }
    return CameraHealth(**values)


def test_health_states_follow_the_thresholds() -> None:
    s = Settings(health_offline_after_s=30, health_stale_frame_s=5, health_min_fps=2)
    now = datetime.now(UTC)
    assert derive(None, s, now)[0] is HealthState.OFFLINE
    assert derive(_beat(now), s, now) == (HealthState.ONLINE, [])
    assert derive(_beat(now), s, now + timedelta(seconds=31))[0] is HealthState.OFFLINE
    assert derive(_beat(now), s, now + timedelta(seconds=29))[0] is HealthState.ONLINE
    stale = _beat(now, last_frame_time=now - timedelta(seconds=6))
    assert derive(stale, s, now)[0] is HealthState.DEGRADED
    assert derive(_beat(now, fps_out=1.9), s, now)[0] is HealthState.DEGRADED
    assert derive(_beat(now, errors=1), s, now)[0] is HealthState.DEGRADED
    # SQLite returns naive datetimes (UTC): they compare as UTC.
    naive = _beat(now.replace(tzinfo=None), last_frame_time=now.replace(tzinfo=None))
    assert derive(naive, s, now)[0] is HealthState.ONLINE


def test_csv_rows_carry_the_line_they_start_on() -> None:
    rows = parse_csv('id,name,certified_codes\nA-1,"two\nlines",C1;C12\nA-2,x,\n')
    assert [(r.line, r.values) for r in rows] == [
        (2, {"id": "A-1", "name": "two\nlines", "certified_codes": ["C1", "C12"]}),
        (4, {"id": "A-2", "name": "x"}),
    ]
    with pytest.raises(ImportRejected) as rejected:
        parse_csv("id,colour\n")
    assert "unknown columns colour" in rejected.value.problems[0].message


def test_geojson_features_carry_their_line() -> None:
    doc = {
        "type": "FeatureCollection",
        "name": {"features": "decoy"},
        "features": [
            {
                "type": "Feature",
                "id": "A-1",
                "geometry": {"type": "Point", "coordinates": [1, 2]},
                "properties": {"name": "a", "health": "online"},
            },
            {"type": "Feature", "id": "A-2", "geometry": None, "properties": {}},
        ],
    }
    text = json.dumps(doc, indent=2)
    rows = parse_geojson(text)
    lines = text.splitlines()
    assert [lines[r.line - 1].strip() for r in rows] == ["{", "{"]
    assert '"A-1"' in lines[rows[0].line + 1] and '"A-2"' in lines[rows[1].line + 1]
    assert rows[0].values == {"id": "A-1", "name": "a", "lon": 1, "lat": 2}
    assert rows[1].values["__error__"][0] == "geometry"
    with pytest.raises(ImportRejected):
        parse_geojson('{"type": "Feature"}')


def test_polygon_and_calibration_checks() -> None:
    square = Zone(id="z", kind="lane", polygon=[(0, 0), (10, 0), (10, 10), (0, 10)])
    bow_tie = Zone(id="z", kind="lane", polygon=[(0, 0), (10, 10), (10, 0), (0, 10)])
    flat = Zone(id="z", kind="lane", polygon=[(0, 0), (5, 5), (10, 10)])
    assert polygon_problem(square) is None
    assert "cross" in (polygon_problem(bow_tie) or "")
    assert "no area" in (polygon_problem(flat) or "")
    good = Calibration(
        image_points=[(0, 0), (100, 0), (90, 50), (10, 50)],
        ground_points=[(0, 0), (10, 0), (10, 40), (0, 40)],
    )
    line = Calibration(
        image_points=[(0, 0), (1, 1), (2, 2), (3, 3)],
        ground_points=[(0, 0), (10, 0), (10, 40), (0, 40)],
    )
    assert calibration_problem(good) is None
    assert "homography" in (calibration_problem(line) or "")
