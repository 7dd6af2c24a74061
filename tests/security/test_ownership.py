"""Who may speak for a camera: heartbeats only from the worker holding its lease;
an enforcement unit's certification only from administrators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from registry.auth import Role, issue_token
from registry.db import session_scope
from tests.integration.test_registry_api import Registry, enforcement, open_registry, street

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    tmp: Path = tmp_path_factory.mktemp("ownership")
    yield open_registry(tmp, f"sqlite:///{tmp / 'registry.db'}")


def _beat(camera_id: str, worker_id: str) -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    return {
        "camera_id": camera_id,
        "worker_id": worker_id,
        "time": now,
        "fps_in": 25,
        "fps_out": 10,
    }


def test_a_heartbeat_from_a_worker_without_the_lease_is_403(reg: Registry) -> None:
    assert reg.call("POST", "/cameras", Role.ADMIN, json=street("SEC-HB-1")).status_code == 201
    with session_scope(reg.settings.db_url) as session:
        other = {"Authorization": f"Bearer {issue_token(session, Role.DETECTOR, 'w-other')}"}
    url = "/cameras/SEC-HB-1/heartbeat"
    # Nobody holds the lease: nobody may report.
    assert (
        reg.call("POST", url, Role.DETECTOR, json=_beat("SEC-HB-1", "detector-desk")).status_code
        == 403
    )
    reg.hold_lease("SEC-HB-1", "detector-desk")
    # Another worker's token, in its own name or spoofing the holder's: refused.
    assert reg.client.post(url, headers=other, json=_beat("SEC-HB-1", "w-other")).status_code == 403
    assert (
        reg.client.post(url, headers=other, json=_beat("SEC-HB-1", "detector-desk")).status_code
        == 403
    )
    # The holder's own token: accepted.
    held = reg.call("POST", url, Role.DETECTOR, json=_beat("SEC-HB-1", "detector-desk"))
    assert held.status_code == 202 and held.json()["worker_id"] == "detector-desk"


@pytest.mark.parametrize(
    "change",
    [
        {"verification_valid_until": "2099-12-31"},
        {"verification_certificate": "С-ВЯ/FORGED"},
        {"type_approval_number": "ГРСИ 00000-00"},
        {"certified_codes": ["C1", "C12", "C13"]},
    ],
)
def test_only_administrators_change_certification(reg: Registry, change: dict[str, object]) -> None:
    unit = "SEC-ENF-1"
    if reg.call("GET", f"/cameras/{unit}", Role.ADMIN).status_code == 404:
        created = reg.call("POST", "/cameras", Role.ADMIN, json=enforcement(unit, date(2027, 1, 1)))
        assert created.status_code == 201
    before = reg.call("GET", f"/cameras/{unit}", Role.ADMIN).json()
    refused = reg.call("PATCH", f"/cameras/{unit}", Role.OPERATOR, json=change)
    assert refused.status_code == 403, refused.text
    assert reg.call("GET", f"/cameras/{unit}", Role.ADMIN).json() == before
    # Other fields stay the operators'.
    assert (
        reg.call("PATCH", f"/cameras/{unit}", Role.OPERATOR, json={"lanes": 2}).status_code == 200
    )
    assert reg.call("PATCH", f"/cameras/{unit}", Role.ADMIN, json=change).status_code == 200


def test_operators_cannot_create_a_certified_unit(reg: Registry) -> None:
    body = enforcement("SEC-ENF-2", date(2030, 1, 1))
    assert reg.call("POST", "/cameras", Role.OPERATOR, json=body).status_code == 403
    assert reg.call("GET", "/cameras/SEC-ENF-2", Role.ADMIN).status_code == 404
