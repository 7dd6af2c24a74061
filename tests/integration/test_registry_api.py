"""The registry API end to end on both databases: PostgreSQL and SQLite, the real app."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from dozor.settings import Settings
from evidence.signing import load_signer
from registry.app import create_app
from registry.auth import Role, issue_token
from registry.bootstrap import prepare_database
from registry.crypto import stream_urls
from registry.db import session_scope
from registry.models import CameraLease
from tests.conftest import temp_pg_database

pytestmark = pytest.mark.integration


@dataclass
class Registry:
    settings: Settings
    client: TestClient

    def __post_init__(self) -> None:
        with session_scope(self.settings.db_url) as session:
            self.tokens = {r: issue_token(session, r, f"{r.value}-desk") for r in Role}

    def hold_lease(self, camera_id: str, worker_id: str) -> None:
        """Hand ``camera_id``'s lease to ``worker_id`` for an hour, as a claim would."""
        with session_scope(self.settings.db_url) as session:
            session.merge(
                CameraLease(
                    camera_id=camera_id,
                    worker_id=worker_id,
                    epoch=1,
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                )
            )

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def call(
        self, method: str, path: str, role: Role, headers: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        return self.client.request(
            method, path, headers={**self.auth(role), **(headers or {})}, **kw
        )


def open_registry(tmp: Path, database_url: str) -> Registry:
    settings = Settings(state_dir=tmp, database_url=database_url)
    prepare_database(settings)
    load_signer(settings)  # the development signing key `dozor setup` makes
    return Registry(settings, TestClient(create_app(settings)))


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def reg(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        yield open_registry(tmp, f"sqlite:///{tmp / 'registry.db'}")
        return
    with temp_pg_database() as url:
        yield open_registry(tmp, url)


def street(camera_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": camera_id,
        "kind": "street_camera",
        "name": f"test camera {camera_id}",
        "district": "Testovy",
        "lat": 48.71,
        "lon": 44.51,
        "heading_deg": 90,
        "lanes": 3,
        **extra,
    }


def enforcement(camera_id: str, valid_until: date, **extra: Any) -> dict[str, Any]:
    return street(
        camera_id,
        kind="enforcement_unit",
        type_approval_number="ГРСИ 78211-20",
        verification_certificate=f"С-ВЯ/{camera_id}",
        verification_valid_until=valid_until.isoformat(),
        certified_codes=["C12", "C1"],
        **extra,
    )


def test_seeded_roster_is_listed_with_lapsed_units_flagged(reg: Registry) -> None:
    page = reg.call("GET", "/cameras", Role.VIEWER, params={"limit": 500}).json()
    assert page["total"] >= 110
    ids = {c["id"] for c in page["items"]}
    assert {"VLG-CAM-001", "VLG-CAM-094", "VLG-ENF-001", "VLG-ENF-016"} <= ids
    lapsed = reg.call(
        "GET", "/cameras", Role.ENFORCEMENT, params={"verification_lapsed": True, "q": "VLG-"}
    ).json()
    assert [c["id"] for c in lapsed["items"]] == ["VLG-ENF-004", "VLG-ENF-012"]
    unit = reg.call("GET", "/cameras/VLG-ENF-004", Role.ENFORCEMENT).json()
    assert unit["verification_lapsed"] is True and unit["certified_codes"] == ["C1"]
    assert (
        reg.call("GET", "/cameras/VLG-ENF-001", Role.VIEWER).json()["verification_lapsed"] is False
    )


def test_filters_and_pagination(reg: Registry) -> None:
    def ids(**params: Any) -> list[str]:
        body = reg.call("GET", "/cameras", Role.VIEWER, params={"limit": 500, **params}).json()
        assert body["total"] == len(body["items"])
        return [c["id"] for c in body["items"]]

    enf = ids(kind="enforcement_unit", q="VLG-ENF")
    assert len(enf) == 16
    assert all(i.startswith("VLG-ENF-") for i in enf)
    assert len(ids(district="Kirovsky")) == 10
    assert len(ids(status="decommissioned", q="VLG")) == 2
    # Case-insensitive on Cyrillic on both databases.
    assert ids(q="ленина") == ids(q="ЛЕНИНА") and ids(q="ленина")
    assert ids(q="100%") == []  # LIKE wildcards are matched literally
    first = reg.call("GET", "/cameras", Role.VIEWER, params={"limit": 5, "q": "VLG"}).json()
    second = reg.call(
        "GET", "/cameras", Role.VIEWER, params={"limit": 5, "offset": 5, "q": "VLG"}
    ).json()
    assert first["total"] == second["total"] == 110
    assert [c["id"] for c in first["items"]] + [c["id"] for c in second["items"]] == sorted(
        f"VLG-CAM-{i:03d}" for i in range(1, 11)
    )
    bad = reg.call("GET", "/cameras", Role.VIEWER, params={"health": "sleepy", "limit": 0})
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("query", "health"),
        ("query", "limit"),
    }


def test_every_page_shape_reports_the_full_total(reg: Registry) -> None:
    # The count query is skipped when a page shows the last match; every shape must still
    # answer the same total.
    def page(limit: int, offset: int) -> tuple[int, int]:
        params = {"q": "VLG", "limit": limit, "offset": offset}
        body = reg.call("GET", "/cameras", Role.VIEWER, params=params).json()
        return body["total"], len(body["items"])

    assert page(500, 0) == (110, 110)  # not full: its last item is the last match
    assert page(110, 0) == (110, 110)  # exactly full: counted
    assert page(100, 0) == (110, 100)
    assert page(100, 100) == (110, 10)  # the partial last page
    assert page(5, 110) == (110, 0)  # past the end: counted
    assert page(5, 500) == (110, 0)


def test_create_get_update_delete_with_exact_errors(reg: Registry) -> None:
    created = reg.call("POST", "/cameras", Role.OPERATOR, json=street("TST-CRUD-1"))
    assert created.status_code == 201, created.text
    assert created.json()["health"] == "offline" and created.json()["status"] == "active"
    again = reg.call("POST", "/cameras", Role.OPERATOR, json=street("TST-CRUD-1"))
    assert again.status_code == 409 and "TST-CRUD-1 already exists" in again.json()["detail"]

    bad = reg.call(
        "POST",
        "/cameras",
        Role.OPERATOR,
        json=street("TST-CRUD-2", lat=91, lon=-181, lanes=0, status="broken", extra=1),
    )
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("body", "lat"),
        ("body", "lon"),
        ("body", "lanes"),
        ("body", "status"),
        ("body", "extra"),
    }
    no_cert = reg.call(
        "POST", "/cameras", Role.OPERATOR, json=street("TST-CRUD-3", kind="enforcement_unit")
    )
    assert no_cert.status_code == 422 and "verification_certificate" in no_cert.text

    changed = reg.call(
        "PATCH", "/cameras/TST-CRUD-1", Role.OPERATOR, json={"status": "maintenance", "lanes": 4}
    )
    assert changed.status_code == 200
    assert (changed.json()["status"], changed.json()["lanes"]) == ("maintenance", 4)
    assert reg.call("GET", "/cameras/TST-CRUD-1", Role.VIEWER).json()["lanes"] == 4
    became_unit = reg.call(
        "PATCH", "/cameras/TST-CRUD-1", Role.OPERATOR, json={"kind": "enforcement_unit"}
    )
    assert became_unit.status_code == 422 and "type_approval_number" in became_unit.text
    assert reg.call("PATCH", "/cameras/NOPE-1", Role.OPERATOR, json={}).status_code == 404
    assert reg.call("GET", "/cameras/NOPE-1", Role.VIEWER).status_code == 404

    assert reg.call("DELETE", "/cameras/TST-CRUD-1", Role.ADMIN).status_code == 204
    assert reg.call("GET", "/cameras/TST-CRUD-1", Role.VIEWER).status_code == 404
    assert reg.call("DELETE", "/cameras/TST-CRUD-1", Role.ADMIN).status_code == 404


def test_delete_refuses_a_camera_with_indexed_events(reg: Registry) -> None:
    reg.call("POST", "/cameras", Role.OPERATOR, json=street("TST-EVT-1"))
    with session_scope(reg.settings.db_url) as session:
        session.execute(
            text(
                "INSERT INTO events (id, camera_id, type, category, time, scene_version, "
                "confidence, payload, indexed_at) VALUES ('evt-tst-1', 'TST-EVT-1', 'red_light', "
                "'violation', :t, 1, 0.9, '{}', :t)"
            ),
            {"t": datetime.now(UTC)},
        )
    refused = reg.call("DELETE", "/cameras/TST-EVT-1", Role.ADMIN)
    assert refused.status_code == 409 and "decommissioned" in refused.json()["detail"]
    assert reg.call("GET", "/cameras/TST-EVT-1", Role.VIEWER).status_code == 200


def test_stream_credentials_are_write_only_and_encrypted(
    reg: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-pw"
    body = street(
        "TST-CRED-1",
        stream_main=f"rtsp://admin:{secret}@10.9.9.9:554/main",
        stream_sub=f"rtsp://admin:{secret}@10.9.9.9:554/sub",
    )
    caplog.set_level(logging.DEBUG)
    answers = [reg.call("POST", "/cameras", Role.ADMIN, json=body)]
    shown = answers[0].json()
    assert shown["stream_main"] == "rtsp://***@10.9.9.9:554/main"
    assert shown["stream_credentials_set"] is True
    # Sending the masked URL back keeps the credentials; a URL without them drops them.
    answers.append(
        reg.call(
            "PATCH",
            "/cameras/TST-CRED-1",
            Role.OPERATOR,
            json={"name": "renamed", **{"stream_main": shown["stream_main"]}},
        )
    )
    answers.append(
        reg.call(
            "PATCH",
            "/cameras/TST-CRED-1",
            Role.OPERATOR,
            json={"stream_main": f"rtsp://admin:{secret}@10.9.9.9:554/main", "lat": 100},
        )
    )
    assert answers[-1].status_code == 422
    for role in Role:
        answers.append(reg.call("GET", "/cameras/TST-CRED-1", role))
        answers.append(reg.call("GET", "/cameras", role, params={"q": "TST-CRED"}))
    answers.append(reg.call("GET", "/cameras.geojson", Role.ADMIN, params={"q": "TST-CRED"}))
    answers.append(reg.call("GET", "/audit", Role.ADMIN, params={"entity_id": "TST-CRED-1"}))
    for answer in answers:
        assert secret not in answer.text
    assert secret not in caplog.text
    with session_scope(reg.settings.db_url) as session:
        raw = session.execute(
            text("SELECT stream_main, stream_credentials FROM cameras WHERE id = 'TST-CRED-1'")
        ).one()
        assert raw.stream_main == "rtsp://10.9.9.9:554/main"
        assert secret not in raw.stream_credentials
        urls = stream_urls(session, reg.settings, "TST-CRED-1")
    assert urls == {
        "main": f"rtsp://admin:{secret}@10.9.9.9:554/main",
        "sub": f"rtsp://admin:{secret}@10.9.9.9:554/sub",
    }
    dropped = reg.call(
        "PATCH", "/cameras/TST-CRED-1", Role.OPERATOR, json={"stream_sub": "rtsp://10.9.9.9/sub"}
    ).json()
    assert dropped["stream_sub"] == "rtsp://10.9.9.9/sub" and dropped["stream_credentials_set"]
    nothing_to_keep = reg.call(
        "POST", "/cameras", Role.OPERATOR, json=street("TST-CRED-2", stream_main="rtsp://***@h/x")
    )
    assert nothing_to_keep.status_code == 422
    assert nothing_to_keep.json()["detail"][0]["loc"] == ["body", "stream_main"]


def test_scene_versions_append_and_never_rewrite(reg: Registry) -> None:
    reg.call("POST", "/cameras", Role.OPERATOR, json=street("TST-SCN-1"))
    assert reg.call("GET", "/cameras/TST-SCN-1/scene", Role.DETECTOR).status_code == 404
    scene = reg.call("GET", "/cameras/VLG-ENF-001/scene", Role.DETECTOR).json()["config"]
    first = reg.call("POST", "/cameras/TST-SCN-1/scenes", Role.OPERATOR, json=scene)
    assert first.status_code == 201 and first.json()["version"] == 1
    edited = {**scene, "lines": scene["lines"][:1], "signals": []}
    second = reg.call("POST", "/cameras/TST-SCN-1/scenes", Role.OPERATOR, json=edited).json()
    assert second["version"] == 2 and second["created_by"] == "operator-desk"
    assert reg.call("GET", "/cameras/TST-SCN-1/scene", Role.DETECTOR).json()["version"] == 2
    old = reg.call("GET", "/cameras/TST-SCN-1/scenes/1", Role.VIEWER).json()
    assert old["config"] == first.json()["config"]
    history = reg.call("GET", "/cameras/TST-SCN-1/scenes", Role.VIEWER).json()
    assert [h["version"] for h in history] == [1, 2]
    assert reg.call("GET", "/cameras/TST-SCN-1", Role.VIEWER).json()["scene_version"] == 2
    assert reg.call("GET", "/cameras/TST-SCN-1/scenes/3", Role.VIEWER).status_code == 404

    w, h = scene["frame_width"], scene["frame_height"]
    bow_tie = {"id": "z", "kind": "crosswalk", "polygon": [[0, 0], [10, 10], [10, 0], [0, 10]]}
    outside = {"id": "o", "kind": "lane", "polygon": [[0, 0], [w + 5, 0], [0, h]]}
    collinear = {
        "image_points": [[0, 0], [1, 1], [2, 2], [3, 3]],
        "ground_points": [[0, 0], [1, 0], [1, 1], [0, 1]],
    }
    cases = {
        "crossing edges": ({"zones": [bow_tie]}, ["body", "zones", 0, "polygon"]),
        "outside frame": ({"zones": [outside]}, ["body"]),
        "degenerate calibration": ({"calibration": collinear}, ["body", "calibration"]),
    }
    for name, (change, loc) in cases.items():
        bad = reg.call("POST", "/cameras/TST-SCN-1/scenes", Role.OPERATOR, json={**scene, **change})
        assert bad.status_code == 422, name
        assert bad.json()["detail"][0]["loc"] == loc, name
    assert len(reg.call("GET", "/cameras/TST-SCN-1/scenes", Role.VIEWER).json()) == 2


def test_heartbeats_drive_health_with_configured_thresholds(reg: Registry) -> None:
    reg.call("POST", "/cameras", Role.OPERATOR, json=street("TST-HB-1"))
    health = reg.call("GET", "/cameras/TST-HB-1/health", Role.VIEWER).json()
    assert (health["state"], health["reasons"]) == ("offline", ["no heartbeat received"])
    reg.hold_lease("TST-HB-1", "detector-desk")  # the detector token's worker
    now = datetime.now(UTC)
    beat = {
        "camera_id": "TST-HB-1",
        "worker_id": "detector-desk",
        "time": now.isoformat(),
        "fps_in": 25,
        "fps_out": 12,
        "last_frame_time": (now - timedelta(seconds=0.2)).isoformat(),
    }
    posted = reg.call("POST", "/cameras/TST-HB-1/heartbeat", Role.DETECTOR, json=beat)
    assert posted.status_code == 202 and posted.json()["state"] == "online"
    assert reg.call("GET", "/cameras", Role.VIEWER, params={"health": "online"}).json()[
        "items"
    ] == [reg.call("GET", "/cameras/TST-HB-1", Role.VIEWER).json()]
    slow = {
        **beat,
        "fps_out": 0.2,
        "errors": 3,
        "last_error": "read failed rtsp://admin:pw@10.0.0.1/x",
    }
    degraded = reg.call("POST", "/cameras/TST-HB-1/heartbeat", Role.DETECTOR, json=slow).json()
    assert degraded["state"] == "degraded" and len(degraded["reasons"]) == 2
    assert degraded["last_error"] == "read failed rtsp://***@10.0.0.1/x"
    stale = {**beat, "last_frame_time": (now - timedelta(seconds=30)).isoformat()}
    reg.call("POST", "/cameras/TST-HB-1/heartbeat", Role.DETECTOR, json=stale)
    assert reg.call("GET", "/cameras/TST-HB-1", Role.VIEWER).json()["health"] == "degraded"
    mismatch = reg.call(
        "POST", "/cameras/TST-HB-1/heartbeat", Role.DETECTOR, json={**beat, "camera_id": "X"}
    )
    assert mismatch.status_code == 422 and mismatch.json()["detail"][0]["loc"] == [
        "body",
        "camera_id",
    ]
    unknown = reg.call(
        "POST", "/cameras/NOPE-2/heartbeat", Role.DETECTOR, json={**beat, "camera_id": "NOPE-2"}
    )
    assert unknown.status_code == 404

    # The same heartbeat read with a tighter offline threshold: silence turns it offline.
    strict = Settings(
        state_dir=reg.settings.state_dir,
        database_url=reg.settings.database_url,
        health_offline_after_s=1e-9,
    )
    tight = Registry(strict, TestClient(create_app(strict)))
    gone = tight.call("GET", "/cameras/TST-HB-1/health", Role.VIEWER).json()
    assert gone["state"] == "offline" and "last heartbeat" in gone["reasons"][0]


def test_geojson_export_carries_the_required_properties(reg: Registry) -> None:
    answer = reg.call("GET", "/cameras.geojson", Role.VIEWER, params={"q": "VLG-"})
    assert answer.headers["content-type"] == "application/geo+json"
    doc = answer.json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 110
    for feature in doc["features"]:
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert 48.4 < lat < 49.0 and 44.2 < lon < 44.9  # inside Volgograd
        assert {"id", "kind", "name", "status", "health"} <= feature["properties"].keys()
    lapsed = reg.call(
        "GET", "/cameras.geojson", Role.VIEWER, params={"verification_lapsed": True, "q": "VLG-"}
    ).json()
    assert [f["id"] for f in lapsed["features"]] == ["VLG-ENF-004", "VLG-ENF-012"]


def _import(reg: Registry, body: str, content_type: str) -> Any:
    return reg.call(
        "POST",
        "/cameras/import",
        Role.ADMIN,
        content=body.encode(),
        headers={"content-type": content_type},
    )


def test_csv_import_is_all_or_nothing_and_reports_every_bad_line(reg: Registry) -> None:
    header = "id,kind,name,district,lat,lon,lanes,stream_main,certified_codes\n"
    rows = [
        "TST-IMP-1,street_camera,ok one,Kirovsky,48.6,44.4,2,rtsp://u:p@10.1.1.1/a,\n",
        "TST-IMP-2,street_camera,bad lat,Kirovsky,148.6,44.4,2,,\n",
        '"TST-IMP-3",street_camera,"multi\nline name",Kirovsky,48.6,44.4,two,,\n',
        "TST-IMP-1,street_camera,again,Kirovsky,48.6,44.4,2,,\n",
        "TST-IMP-4,enforcement_unit,no cert,Kirovsky,48.6,44.4,2,,C12;C1\n",
    ]
    rejected = _import(reg, header + "".join(rows), "text/csv")
    assert rejected.status_code == 422
    problems = [(e["line"], e["field"]) for e in rejected.json()["errors"]]
    assert problems == [(3, "lat"), (4, "lanes"), (6, "id"), (7, None)]
    assert reg.call("GET", "/cameras/TST-IMP-1", Role.VIEWER).status_code == 404

    good = header + rows[0] + "VLG-CAM-001,,,,,,6,,\n"
    accepted = _import(reg, good, "text/csv")
    assert accepted.json() == {"created": 1, "updated": 1, "unchanged": 0}
    assert reg.call("GET", "/cameras/VLG-CAM-001", Role.VIEWER).json()["lanes"] == 6
    assert reg.call("GET", "/cameras/TST-IMP-1", Role.VIEWER).json()["stream_credentials_set"]
    entries = reg.call("GET", "/audit", Role.ADMIN, params={"action": "import"}).json()["items"]
    assert {e["entity_id"] for e in entries} == {"TST-IMP-1", "VLG-CAM-001"}
    assert _import(reg, "nope,kind\n", "text/csv").json()["errors"][0]["line"] == 1
    assert _import(reg, "x", "application/pdf").status_code == 415


def test_geojson_import_round_trips_the_export_and_reports_lines(reg: Registry) -> None:
    exported = reg.call("GET", "/cameras.geojson", Role.ADMIN, params={"q": "VLG-ENF"}).text
    assert _import(reg, exported, "application/geo+json").json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 16,
    }
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "TST-GJ-1",
                "geometry": {"type": "Point", "coordinates": [44.5, 48.7]},
                "properties": {"kind": "street_camera", "name": "fine"},
            },
            {
                "type": "Feature",
                "id": "TST-GJ-2",
                "geometry": {"type": "LineString", "coordinates": []},
                "properties": {"kind": "street_camera", "name": "no point"},
            },
            {
                "type": "Feature",
                "id": "TST-GJ-3",
                "geometry": {"type": "Point", "coordinates": [44.5, 48.7]},
                "properties": {"kind": "tripod", "name": "bad kind"},
            },
        ],
    }
    rejected = _import(reg, json.dumps(doc, indent=1), "application/geo+json").json()
    lines = json.dumps(doc, indent=1).splitlines()
    for err, feature_id in zip(rejected["errors"], ["TST-GJ-2", "TST-GJ-3"], strict=True):
        # The reported line opens the bad feature: its id follows within a few lines.
        assert any(feature_id in ln for ln in lines[err["line"] - 1 : err["line"] + 3])
    assert [e["field"] for e in rejected["errors"]] == ["geometry", "kind"]
    assert reg.call("GET", "/cameras/TST-GJ-1", Role.VIEWER).status_code == 404
    assert _import(reg, "{not json", "application/geo+json").json()["errors"][0]["line"] == 1


def test_audit_log_records_who_what_and_before_after(reg: Registry) -> None:
    # Certification fields are the administrators' (tests/security/test_ownership.py).
    reg.call("POST", "/cameras", Role.ADMIN, json=enforcement("TST-AUD-1", date(2030, 1, 1)))
    reg.call("PATCH", "/cameras/TST-AUD-1", Role.ADMIN, json={"status": "maintenance"})
    reg.call("PATCH", "/cameras/TST-AUD-1", Role.ADMIN, json={"status": "maintenance"})
    reg.call("DELETE", "/cameras/TST-AUD-1", Role.ADMIN)
    log = reg.call("GET", "/audit", Role.ADMIN, params={"entity_id": "TST-AUD-1"}).json()
    assert log["total"] == 3  # the no-op patch changed nothing and is not logged
    delete, update, create = log["items"]
    assert (create["action"], create["actor"], create["role"]) == ("create", "admin-desk", "admin")
    assert create["before"] is None and create["after"]["certified_codes"] == ["C1", "C12"]
    assert (update["before"]["status"], update["after"]["status"]) == ("active", "maintenance")
    assert (delete["action"], delete["actor"], delete["after"]) == ("delete", "admin-desk", None)
    since = reg.call(
        "GET",
        "/audit",
        Role.ADMIN,
        params={"actor": "admin-desk", "entity_id": "TST-AUD-1", "since": update["at"]},
    ).json()
    assert since["total"] == 2
