"""Extremes the API must refuse with a 4xx, cheaply, on both databases: paging numbers,
malformed imports, scenes built to burn CPU."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dozor.settings import Settings
from registry.app import create_app
from registry.auth import Role, issue_token
from registry.bootstrap import prepare_database
from registry.db import session_scope
from tests.conftest import temp_pg_database

pytestmark = pytest.mark.integration


class Api:
    def __init__(self, tmp: Path, url: str) -> None:
        settings = Settings(state_dir=tmp, database_url=url)
        prepare_database(settings)
        with session_scope(settings.db_url) as session:
            self.token = issue_token(session, Role.ADMIN, "bounds-probe")
        self.app = create_app(settings)
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.headers = {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        yield Api(tmp, f"sqlite:///{tmp / 'registry.db'}")
        return
    with temp_pg_database() as url:
        yield Api(tmp, url)


def _paged_paths(api: Api) -> list[str]:
    paths = []
    for path, ops in api.app.openapi()["paths"].items():
        params = {p["name"] for p in ops.get("get", {}).get("parameters", [])}
        if {"limit", "offset"} <= params:
            paths.append(path.replace("{camera_id}", "VLG-CAM-001"))
    return paths


@pytest.mark.parametrize("param", ["offset", "limit"])
@pytest.mark.parametrize("value", [10**20, 2**63, -1])
def test_paging_out_of_range_is_422_on_every_list(api: Api, param: str, value: int) -> None:
    paths = _paged_paths(api)
    assert {"/events", "/cases", "/cameras", "/audit"} <= set(paths)
    answers = {p: api.client.get(p, params={param: value}, headers=api.headers) for p in paths}
    assert {p: a.status_code for p, a in answers.items()} == dict.fromkeys(paths, 422)


@pytest.mark.parametrize(
    "properties",
    [
        {"id": ["VLG-CAM-001"], "kind": "street_camera", "name": "x"},
        {"id": {"a": 1}, "kind": "street_camera", "name": "x"},
        {"id": "VLG-CAM-001", "kind": {}, "name": 1, "lanes": [1]},
    ],
)
def test_malformed_geojson_import_is_422(api: Api, properties: dict[str, object]) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [44.5, 48.7]},
                "properties": properties,
            }
        ],
    }
    answer = api.client.post(
        "/cameras/import",
        content=json.dumps(doc),
        headers={**api.headers, "Content-Type": "application/geo+json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["line"] >= 1


def _circle(n: int) -> list[list[float]]:
    return [
        [960 + 500 * math.cos(2 * math.pi * i / n), 540 + 500 * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]


def test_a_240kb_polygon_is_refused_by_its_vertex_cap(api: Api) -> None:
    scene = {
        "frame_width": 1920,
        "frame_height": 1080,
        "zones": [{"id": "z", "kind": "lane", "polygon": _circle(6000)}],
    }
    assert len(json.dumps(scene)) > 240_000
    for path in ("/cameras/VLG-CAM-001/scenes/validate", "/cameras/VLG-CAM-001/scenes"):
        answer = api.client.post(path, json=scene, headers=api.headers)
        assert "at most 200 items" in answer.text, (path, answer.status_code, answer.text[:300])


def test_many_zones_are_capped_in_total(api: Api) -> None:
    zones = [{"id": f"z{i}", "kind": "lane", "polygon": _circle(150)} for i in range(20)]
    scene = {"frame_width": 1920, "frame_height": 1080, "zones": zones}
    answer = api.client.post(
        "/cameras/VLG-CAM-001/scenes/validate", json=scene, headers=api.headers
    )
    assert answer.status_code == 200 and not answer.json()["valid"]
    assert "at most 2000 per scene" in answer.text
