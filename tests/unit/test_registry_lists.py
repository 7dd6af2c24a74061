"""The list endpoints' shortcuts: credential names without their values, counts only when
needed, pages serialised once, each camera's answer made once for what it is made of."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from contract.health import HealthState, Heartbeat
from dozor.errors import UserError
from dozor.settings import Settings
from registry import catalog, crypto
from registry.bootstrap import prepare_database
from registry.db import session_scope
from registry.health import record_heartbeat
from registry.models import Camera
from registry.paging import json_page, page_response, page_total


def test_credential_names_are_names_only_and_decrypted_once(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    token = crypto.write_credentials(settings, {"main": "admin:p@ss", "sub?pwd": "hunter2"})
    assert crypto.credential_names(settings, token) == {"main", "sub?pwd"}
    assert crypto.credential_names(settings, None) == frozenset()
    before = crypto._names.cache_info()
    assert crypto.credential_names(settings, token) == {"main", "sub?pwd"}
    assert crypto._names.cache_info().hits == before.hits + 1
    assert crypto._names.cache_info().misses == before.misses

    other = Settings(state_dir=tmp_path, secret_key=Fernet.generate_key().decode())
    with pytest.raises(UserError, match="cannot be decrypted"):
        crypto.credential_names(other, token)


def test_no_credentials_need_no_key(tmp_path: Path) -> None:
    # A list of cameras without credentials must not make (or demand) the key.
    assert crypto.credential_names(Settings(state_dir=tmp_path), None) == frozenset()
    assert not (tmp_path / "secret.key").exists()


class Item(BaseModel):
    id: str
    n: int


def test_page_response_validates_and_serialises_once() -> None:
    response = page_response(Item, [{"id": "a", "n": 1}, Item(id="b", n=2)], 7, 2, 4)
    assert response.media_type == "application/json"
    assert json.loads(response.body) == {
        "items": [{"id": "a", "n": 1}, {"id": "b", "n": 2}],
        "total": 7,
        "limit": 2,
        "offset": 4,
    }
    with pytest.raises(ValidationError):
        page_response(Item, [{"id": "a"}], 1, 1, 0)


def test_page_total_counts_only_when_the_page_cannot_tell() -> None:
    def never() -> int:
        raise AssertionError("counted")

    assert page_total(7, 50, 0, never) == 7  # not full: the last match is on it
    assert page_total(7, 50, 100, never) == 107
    assert page_total(0, 50, 0, never) == 0  # nothing matches
    assert page_total(50, 50, 0, lambda: 120) == 120  # full: more may follow
    assert page_total(0, 50, 200, lambda: 120) == 120  # past the end: the page cannot tell


def test_json_page_is_what_page_response_writes() -> None:
    items = [Item(id="a", n=1), Item(id="ж", n=2)]
    made = json_page([i.model_dump_json().encode() for i in items], 7, 2, 4)
    assert made.body == page_response(Item, items, 7, 2, 4).body
    assert made.media_type == "application/json"


def test_a_cameras_answer_is_made_once_and_follows_every_change(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'r.db'}")
    prepare_database(settings)
    one = catalog.ANSWER_ROWS.where(Camera.id == "VLG-ENF-001")

    def answer(session: Session, now: datetime) -> tuple[HealthState, dict[str, Any]]:
        [(health, body)] = catalog.answers_json(session.execute(one), settings, now)
        return health, json.loads(body)

    now = datetime.now(UTC)
    with session_scope(settings.db_url) as session:
        health, before = answer(session, now)
        made = catalog._answer_json.cache_info().misses
        assert answer(session, now) == (health, before)
        assert catalog._answer_json.cache_info().misses == made  # the same answer, kept

        cam = session.get_one(Camera, "VLG-ENF-001")
        cam.name = "renamed"
        cam.certified_codes = ["C1"]
        catalog.apply(
            cam, catalog.merge(cam, {"stream_main": "rtsp://u:p@10.0.0.9/a"}, settings), settings
        )
        session.flush()
        _, changed = answer(session, now)
        assert (changed["name"], changed["certified_codes"]) == ("renamed", ["C1"])
        assert changed["stream_main"] == "rtsp://***@10.0.0.9/a"
        assert changed["stream_credentials_set"] is True

        record_heartbeat(
            session,
            Heartbeat(
                camera_id="VLG-ENF-001",
                worker_id="w",
                time=now,
                fps_in=25,
                fps_out=10,
                last_frame_time=now,
            ),
            now,
        )
        session.flush()
        assert answer(session, now)[1]["health"] == HealthState.ONLINE
        later = now + timedelta(seconds=settings.health_offline_after_s + 1)
        assert answer(session, later)[1]["health"] == HealthState.OFFLINE
        lapse = cam.verification_valid_until
        assert lapse is not None
        assert answer(session, datetime.combine(lapse, time(), UTC) + timedelta(days=1))[1][
            "verification_lapsed"
        ]
