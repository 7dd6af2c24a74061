"""The scene editor's API: validation per geometry without saving, version history, the diff
between versions, roles; against the real app on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry.auth import Role
from tests.conftest import temp_pg_database
from tests.integration.test_commission_cli import SCENE, STREET
from tests.integration.test_registry_api import Registry, open_registry

pytestmark = pytest.mark.integration
CAM = "VLG-CAM-970"


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with temp_pg_database() as url:
        r = open_registry(Path(tmp_path_factory.mktemp("api")), url)
        assert (
            r.call("POST", "/cameras", Role.OPERATOR, json={**STREET, "id": CAM}).status_code == 201
        )
        yield r


def test_validate_names_each_geometry_and_saves_nothing(reg: Registry) -> None:
    ok = reg.call("POST", f"/cameras/{CAM}/scenes/validate", Role.OPERATOR, json=SCENE)
    assert ok.status_code == 200 and ok.json() == {"valid": True, "errors": []}
    draft: dict[str, Any] = {
        **SCENE,
        "zones": [{"id": "z", "kind": "no_stopping", "polygon": [[0, 0], [9, 9], [9, 0], [0, 9]]}],
    }
    bad = reg.call("POST", f"/cameras/{CAM}/scenes/validate", Role.OPERATOR, json=draft).json()
    assert bad["valid"] is False
    assert [(e["geometry"], e["kind"], e["id"]) for e in bad["errors"]] == [
        ("zones[z]", "zone", "z")
    ]
    draft = {**SCENE, "signals": [{"id": "head", "bbox": [1, 1, 5, 5], "controls": ["gone"]}]}
    bad = reg.call("POST", f"/cameras/{CAM}/scenes/validate", Role.OPERATOR, json=draft).json()
    assert bad["errors"][0]["geometry"] == "signals[head]" and "gone" in bad["errors"][0]["msg"]
    assert reg.call("GET", f"/cameras/{CAM}/scenes", Role.VIEWER).json() == []
    assert (
        reg.call("POST", f"/cameras/{CAM}/scenes/validate", Role.VIEWER, json=SCENE).status_code
        == 403
    )
    missing = reg.call("POST", "/cameras/VLG-CAM-404/scenes/validate", Role.OPERATOR, json=SCENE)
    assert missing.status_code == 404


def test_versions_history_and_diff(reg: Registry) -> None:
    first = reg.call("POST", f"/cameras/{CAM}/scenes", Role.OPERATOR, json=SCENE)
    assert first.status_code == 201 and first.json()["reference_frame"] is None
    changed = {
        **SCENE,
        "lines": [{**SCENE["lines"][0], "points": [[0, 230], [640, 230]]}],
        "zones": [],
        "signals": [{**SCENE["signals"][0]}, {"id": "head2", "bbox": [400, 10, 420, 60]}],
    }
    assert reg.call("POST", f"/cameras/{CAM}/scenes", Role.ADMIN, json=changed).status_code == 201
    history = reg.call("GET", f"/cameras/{CAM}/scenes", Role.VIEWER).json()
    assert [h["version"] for h in history] == [1, 2]
    assert [h["created_by"] for h in history] == ["operator-desk", "admin-desk"]
    diff = reg.call("GET", f"/cameras/{CAM}/scenes/diff?from=1&to=2", Role.VIEWER).json()
    assert (diff["from"], diff["to"]) == (1, 2)
    assert [a["geometry"] for a in diff["added"]] == ["signals[head2]"]
    assert [r["geometry"] for r in diff["removed"]] == ["zones[walk]"]
    assert [c["geometry"] for c in diff["changed"]] == ["lines[stop]"]
    assert diff["changed"][0]["after"]["points"] == [[0.0, 230.0], [640.0, 230.0]]
    assert (
        reg.call("GET", f"/cameras/{CAM}/scenes/diff?from=1&to=9", Role.VIEWER).status_code == 404
    )
    # A version saved without a reference frame has none to show.
    assert reg.call("GET", f"/cameras/{CAM}/scenes/1/frame", Role.VIEWER).status_code == 404


def test_a_scene_cannot_name_a_frame_the_camera_does_not_have(reg: Registry) -> None:
    r = reg.call(
        "POST", f"/cameras/{CAM}/scenes?reference_frame={'a' * 64}", Role.OPERATOR, json=SCENE
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "reference_frame"]
