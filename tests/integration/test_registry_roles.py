"""Every endpoint x every role (and no token): the exact answer each one gets.

The table must name every operation in the OpenAPI schema, so a new endpoint without an
entry here fails the test until someone decides who may call it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence.signing import Signer
from registry.auth import Role
from tests.integration.test_registry_api import Registry, open_registry, street

pytestmark = pytest.mark.integration

V, A, D = Role.VIEWER, Role.ADMIN, Role.DETECTOR
HUMANS = {V, Role.OPERATOR, A, Role.ENFORCEMENT}
EVERYONE = {*HUMANS, D}
EDITORS = {Role.OPERATOR, A}
EVIDENCE = {Role.OPERATOR, A, Role.ENFORCEMENT}
PUBLIC = None  # no token needed

SCENE = {
    "frame_width": 640,
    "frame_height": 360,
    "lines": [{"id": "stop", "kind": "stop_line", "points": [[10, 300], [600, 300]]}],
}


def beat(camera_id: str) -> dict[str, Any]:
    return {
        "camera_id": camera_id,
        "worker_id": "detector-desk",  # the detector token's worker, holding the lease
        "time": "2026-01-01T00:00:00Z",
        "fps_in": 25,
        "fps_out": 10,
    }


Request = Callable[[Role], dict[str, Any]]

# A detector key registered by the fixture (revoked by the matrix) and one to register.
REVOCABLE = Signer(Ed25519PrivateKey.generate()).verifier
ENROLLED = Signer(Ed25519PrivateKey.generate()).verifier.public_pem()

# (method, path template) -> (who is admitted, status for them, request for a role)
MATRIX: dict[tuple[str, str], tuple[set[Role] | None, int, Request]] = {
    ("GET", "/cameras"): (EVERYONE, 200, lambda r: {"url": "/cameras"}),
    ("POST", "/cameras"): (
        EDITORS,
        201,
        lambda r: {"url": "/cameras", "json": street(f"MX-NEW-{r.value.upper()}")},
    ),
    ("GET", "/cameras.geojson"): (HUMANS, 200, lambda r: {"url": "/cameras.geojson"}),
    ("POST", "/cameras/import"): (
        {A},
        200,
        lambda r: {
            "url": "/cameras/import",
            "content": b"id,kind,name,lat,lon\nMX-IMP-1,street_camera,imported,48.7,44.5\n",
            "headers": {"content-type": "text/csv"},
        },
    ),
    ("GET", "/cameras/{camera_id}"): (EVERYONE, 200, lambda r: {"url": "/cameras/VLG-CAM-010"}),
    ("PATCH", "/cameras/{camera_id}"): (
        EDITORS,
        200,
        lambda r: {"url": "/cameras/VLG-CAM-010", "json": {"lanes": 2}},
    ),
    ("DELETE", "/cameras/{camera_id}"): (
        {A},
        204,
        lambda r: {"url": f"/cameras/MX-DEL-{r.value.upper()}"},
    ),
    ("GET", "/cameras/{camera_id}/health"): (
        EVERYONE,
        200,
        lambda r: {"url": "/cameras/VLG-CAM-010/health"},
    ),
    ("POST", "/cameras/{camera_id}/heartbeat"): (
        {D},
        202,
        lambda r: {"url": "/cameras/VLG-CAM-010/heartbeat", "json": beat("VLG-CAM-010")},
    ),
    ("GET", "/cameras/{camera_id}/scene"): (
        EVERYONE,
        200,
        lambda r: {"url": "/cameras/VLG-ENF-001/scene"},
    ),
    ("GET", "/cameras/{camera_id}/scenes"): (
        EVERYONE,
        200,
        lambda r: {"url": "/cameras/VLG-ENF-001/scenes"},
    ),
    ("POST", "/cameras/{camera_id}/scenes"): (
        EDITORS,
        201,
        lambda r: {"url": "/cameras/VLG-CAM-010/scenes", "json": SCENE},
    ),
    ("POST", "/detectors/{worker_id}/keys"): (
        {A},
        201,
        lambda r: {"url": "/detectors/w-matrix/keys", "json": {"public_key_pem": ENROLLED}},
    ),
    ("GET", "/detectors/keys"): ({A}, 200, lambda r: {"url": "/detectors/keys"}),
    ("POST", "/detectors/keys/{key_id}/revoke"): (
        {A},
        200,
        lambda r: {"url": f"/detectors/keys/{REVOCABLE.key_id}/revoke"},
    ),
    ("GET", "/cameras/{camera_id}/scenes/{version}"): (
        EVERYONE,
        200,
        lambda r: {"url": "/cameras/VLG-ENF-001/scenes/1"},
    ),
    ("POST", "/cameras/{camera_id}/scenes/validate"): (
        EDITORS,
        200,
        lambda r: {"url": "/cameras/VLG-CAM-010/scenes/validate", "json": SCENE},
    ),
    ("GET", "/cameras/{camera_id}/scenes/diff"): (
        EVERYONE,
        200,
        lambda r: {"url": "/cameras/VLG-ENF-001/scenes/diff?from=1&to=1"},
    ),
    ("GET", "/cameras/{camera_id}/scenes/{version}/frame"): (
        EVERYONE,
        404,
        lambda r: {"url": "/cameras/VLG-ENF-001/scenes/1/frame"},
    ),
    ("POST", "/cameras/{camera_id}/scenes/preview"): (
        EDITORS,
        404,
        lambda r: {
            "url": "/cameras/VLG-CAM-010/scenes/preview",
            "json": {"scene": SCENE, "recording": "no-such-clip.mp4"},
        },
    ),
    ("GET", "/preview/{job_id}"): (EDITORS, 404, lambda r: {"url": f"/preview/{'0' * 32}"}),
    ("GET", "/preview/{job_id}/events/{index}.jpg"): (
        EDITORS,
        404,
        lambda r: {"url": f"/preview/{'0' * 32}/events/0.jpg"},
    ),
    ("GET", "/cameras/{camera_id}/frames"): (
        EVERYONE,
        200,
        lambda r: {"url": "/cameras/VLG-CAM-010/frames"},
    ),
    ("POST", "/cameras/{camera_id}/frames"): (
        EDITORS,
        422,
        lambda r: {"url": "/cameras/VLG-CAM-010/frames", "json": {"source": "recording"}},
    ),
    ("GET", "/cameras/{camera_id}/frames/{frame_id}"): (
        EVERYONE,
        404,
        lambda r: {"url": f"/cameras/VLG-CAM-010/frames/{'0' * 64}"},
    ),
    ("GET", "/cameras/{camera_id}/snapshot"): (
        HUMANS,
        404,  # no stream to grab from; never a network call in this test
        lambda r: {"url": "/cameras/MX-NO-STREAM/snapshot"},
    ),
    ("GET", "/recordings"): (HUMANS, 200, lambda r: {"url": "/recordings"}),
    ("GET", "/recordings/{name}/frame"): (
        HUMANS,
        404,
        lambda r: {"url": "/recordings/no-such-clip.mp4/frame"},
    ),
    ("GET", "/scene-hints"): (HUMANS, 200, lambda r: {"url": "/scene-hints"}),
    ("GET", "/ui-config"): (PUBLIC, 200, lambda r: {"url": "/ui-config"}),
    ("GET", "/review"): (HUMANS, 200, lambda r: {"url": "/review"}),
    ("POST", "/review/{event_id}"): (
        EDITORS,
        404,
        lambda r: {"url": "/review/none", "json": {"decision": "confirm", "reason": "seen"}},
    ),
    ("GET", "/events.csv"): (HUMANS, 200, lambda r: {"url": "/events.csv"}),
    ("GET", "/stream"): (HUMANS, 200, lambda r: {"url": "/stream?until_s=0.01"}),
    ("GET", "/audit"): ({A}, 200, lambda r: {"url": "/audit"}),
    ("GET", "/events"): (HUMANS, 200, lambda r: {"url": "/events"}),
    ("GET", "/events/{event_id}"): (HUMANS, 404, lambda r: {"url": "/events/none"}),
    ("GET", "/events/{event_id}/verify"): (
        EVIDENCE,
        404,
        lambda r: {"url": "/events/none/verify"},
    ),
    ("GET", "/evidence/public-key"): (EVERYONE, 200, lambda r: {"url": "/evidence/public-key"}),
    ("GET", "/cases"): (EVIDENCE, 200, lambda r: {"url": "/cases"}),
    ("GET", "/cases/{case_id}"): (EVIDENCE, 404, lambda r: {"url": "/cases/none"}),
    ("GET", "/healthz"): (PUBLIC, 200, lambda r: {"url": "/healthz"}),
    ("GET", "/readyz"): (PUBLIC, 200, lambda r: {"url": "/readyz"}),
    ("GET", "/metrics"): (PUBLIC, 200, lambda r: {"url": "/metrics"}),
}


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    tmp: Path = tmp_path_factory.mktemp("roles")
    registry = open_registry(tmp, f"sqlite:///{tmp / 'registry.db'}")
    for role in Role:
        camera = street(f"MX-DEL-{role.value.upper()}")
        assert registry.call("POST", "/cameras", A, json=camera).status_code == 201
    assert registry.call("POST", "/cameras", A, json=street("MX-NO-STREAM")).status_code == 201
    registry.hold_lease("VLG-CAM-010", "detector-desk")
    key = {"public_key_pem": REVOCABLE.public_pem(), "scope": "replay"}
    assert registry.call("POST", "/detectors/w-old/keys", A, json=key).status_code == 201
    return registry


def test_matrix_names_every_operation(reg: Registry) -> None:
    operations = {
        (method.upper(), path)
        for path, item in reg.client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in item
    }
    assert operations == set(MATRIX)


@pytest.mark.parametrize(("method", "path"), list(MATRIX))
def test_every_role_gets_its_answer(reg: Registry, method: str, path: str) -> None:
    admitted, ok, make = MATRIX[(method, path)]
    answers = {}
    for role in [None, *Role]:
        req = make(role or V)
        headers = {**(reg.auth(role) if role else {}), **req.pop("headers", {})}
        answers[role] = reg.client.request(method, headers=headers, **req).status_code
    expected = {
        role: ok if admitted is None or role in admitted else (401 if role is None else 403)
        for role in [None, *Role]
    }
    assert answers == expected


def test_bad_and_revoked_tokens_are_refused(reg: Registry) -> None:
    bad = reg.client.get("/cameras", headers={"Authorization": "Bearer dz_not-a-token"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    basic = reg.client.get("/cameras", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401
