"""The review queue on the real app and PostgreSQL: confirm and reject with a reason
(audited), a certified unit's violation withdrawn only before delivery, filters, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry.auth import Role
from registry.db import session_scope
from registry.models import AuditEntry, CaseRecord, EventRecord
from tests.conftest import temp_pg_database
from tests.integration.test_commission_cli import STREET, UNIT
from tests.integration.test_registry_api import Registry, open_registry

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _event(eid: str, camera: str, type_: str, category: str, minute: int) -> EventRecord:
    return EventRecord(
        id=eid,
        camera_id=camera,
        type=type_,
        category=category,
        gost_code="C12" if category == "violation" else None,
        time=T0 + timedelta(minutes=minute),
        scene_version=1,
        confidence=0.9,
        payload={},
    )


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with temp_pg_database() as url:
        r = open_registry(Path(tmp_path_factory.mktemp("review")), url)
        for unit in (STREET, UNIT):
            assert r.call("POST", "/cameras", Role.ADMIN, json=unit).status_code == 201
        with session_scope(url) as session:
            session.add_all(
                [
                    _event("ev-street", STREET["id"], "red_light", "violation", 1),
                    _event("ev-unit", UNIT["id"], "red_light", "violation", 2),
                    _event("ev-sent", UNIT["id"], "red_light", "violation", 3),
                    _event("ev-stop", STREET["id"], "stopped_vehicle", "incident", 4),
                    _event("ev-info", STREET["id"], "vehicle_count", "observation", 5),
                ]
            )
            session.add(
                CaseRecord(
                    id="ev-sent",
                    event_id="ev-sent",
                    camera_id=UNIT["id"],
                    enforceable=True,
                    payload={},
                    attempts=1,
                    published_at=T0,
                    delivered_at=T0,
                )
            )
        yield r


def queue(reg: Registry, **params: str) -> list[dict]:
    r = reg.call("GET", "/review", Role.VIEWER, params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_the_queue_holds_violations_and_incidents_pending(reg: Registry) -> None:
    items = queue(reg)
    assert [i["event_id"] for i in items] == ["ev-stop", "ev-sent", "ev-unit", "ev-street"]
    assert {i["state"] for i in items} == {"pending"}
    assert {i["event_id"]: i["case"] for i in items}["ev-sent"] == "delivered"
    assert [i["event_id"] for i in queue(reg, category="incident")] == ["ev-stop"]
    assert [i["event_id"] for i in queue(reg, camera_id=UNIT["id"])] == ["ev-sent", "ev-unit"]
    window = {
        "since": (T0 + timedelta(minutes=2)).isoformat(),
        "until": (T0 + timedelta(minutes=4)).isoformat(),
    }
    assert [i["event_id"] for i in queue(reg, **window)] == ["ev-sent", "ev-unit"]


def test_confirm_and_reject_with_a_reason_audited(reg: Registry) -> None:
    body = {"decision": "confirm", "reason": "красный, за стоп-линией"}
    assert reg.call("POST", "/review/ev-street", Role.VIEWER, json=body).status_code == 403
    done = reg.call("POST", "/review/ev-street", Role.OPERATOR, json=body)
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["reviewed_by"]) == ("confirmed", "operator-desk")
    rejected = reg.call(
        "POST", "/review/ev-stop", Role.OPERATOR, json={"decision": "reject", "reason": "тень"}
    ).json()
    assert rejected["state"] == "rejected" and rejected["reason"] == "тень"
    # A certified unit's violation is withdrawn before delivery, never after.
    withdraw = {"decision": "reject", "reason": "номер закрыт грязью"}
    assert (
        reg.call("POST", "/review/ev-unit", Role.OPERATOR, json=withdraw).json()["state"]
        == "withdrawn"
    )
    late = reg.call("POST", "/review/ev-sent", Role.OPERATOR, json=withdraw)
    assert late.status_code == 409 and "delivered" in late.text
    assert reg.call("POST", "/review/ev-info", Role.OPERATOR, json=body).status_code == 404
    assert (
        reg.call(
            "POST", "/review/ev-unit", Role.OPERATOR, json={"decision": "confirm", "reason": ""}
        ).status_code
        == 422
    )

    assert [i["event_id"] for i in queue(reg, state="pending")] == ["ev-sent"]
    assert [i["event_id"] for i in queue(reg, state="withdrawn")] == ["ev-unit"]
    with session_scope(reg.settings.db_url) as session:
        log = session.query(AuditEntry).filter(AuditEntry.action == "review").all()
        assert {(e.entity_id, e.after["state"]) for e in log} == {
            ("ev-street", "confirmed"),
            ("ev-stop", "rejected"),
            ("ev-unit", "withdrawn"),
        }
        assert all(e.actor == "operator-desk" and e.before is None for e in log)


def test_events_csv_is_the_filtered_queue(reg: Registry) -> None:
    r = reg.call("GET", "/events.csv", Role.VIEWER, params={"camera_id": STREET["id"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["event_id"] for row in rows] == ["ev-stop", "ev-street"]
    assert rows[1]["time"] == (T0 + timedelta(minutes=1)).isoformat()
    assert reg.client.get("/events.csv").status_code == 401
