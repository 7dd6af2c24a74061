"""Credentials in stream URLs: redacted by parsing the URL (a password may contain '@',
credentials may sit in the query string), and query-string credentials encrypted at rest
like userinfo."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dozor.logs import _Formatter
from dozor.redact import redact
from dozor.settings import Settings
from registry.app import create_app
from registry.auth import Role, issue_token
from registry.bootstrap import prepare_database
from registry.crypto import stream_urls
from registry.db import session_scope
from registry.models import AuditEntry, Camera

AT_PASSWORD = "rtsp://admin:p@ss@10.0.0.5:554/ch1"
QUERY = "http://10.0.0.6/cgi-bin/snapshot.cgi?channel=1&user=admin&pwd=hunter2&token=t0k"


def test_a_password_with_an_at_sign_is_redacted_whole() -> None:
    shown = redact(f"cannot open {AT_PASSWORD}: timeout")
    assert shown == "cannot open rtsp://***@10.0.0.5:554/ch1: timeout"


def test_query_string_credentials_are_redacted_and_the_rest_kept() -> None:
    shown = redact(f'{{"url": "{QUERY}"}}')
    assert "admin" not in shown and "hunter2" not in shown and "t0k" not in shown
    assert "channel=1&user=***&pwd=***&token=***" in shown
    assert redact(shown) == shown


def test_log_lines_redact_both() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "%s and %s", (AT_PASSWORD, QUERY), None
    )
    line = _Formatter("%(message)s").format(record)
    assert "p@ss" not in line and "ss@" not in line and "hunter2" not in line


@pytest.mark.integration
def test_query_credentials_are_encrypted_at_rest_and_never_answered(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'r.db'}")
    prepare_database(settings)
    with session_scope(settings.db_url) as session:
        admin = {"Authorization": f"Bearer {issue_token(session, Role.ADMIN, 'a')}"}
    client = TestClient(create_app(settings))
    camera = {
        "id": "SEC-RED-001",
        "kind": "street_camera",
        "name": "redaction probe",
        "lat": 48.7,
        "lon": 44.5,
        "stream_main": QUERY,
        "stream_sub": AT_PASSWORD,
    }
    created = client.post("/cameras", json=camera, headers=admin)
    assert created.status_code == 201, created.text
    for answer in (created, client.get("/cameras/SEC-RED-001", headers=admin)):
        body = answer.text
        assert "hunter2" not in body and "t0k" not in body and "p@ss" not in body
        assert answer.json()["stream_main"].endswith("channel=1&user=***&pwd=***&token=***")
    with session_scope(settings.db_url) as session:
        row = session.get(Camera, "SEC-RED-001")
        assert row is not None
        stored = f"{row.stream_main} {row.stream_sub} {row.stream_credentials}"
        audit = " ".join(str(a.after) for a in session.scalars(select(AuditEntry)))
        # Only the process that connects gets them back, exactly as given.
        assert stream_urls(session, settings, "SEC-RED-001") == {
            "main": QUERY,
            "sub": AT_PASSWORD,
        }
    for text in (stored, audit):
        assert "hunter2" not in text and "t0k" not in text and "p@ss" not in text
    # Sent back masked, the stored secrets are kept; a new value replaces them.
    shown = client.get("/cameras/SEC-RED-001", headers=admin).json()["stream_main"]
    assert (
        client.patch("/cameras/SEC-RED-001", json={"stream_main": shown}, headers=admin).status_code
        == 200
    )
    with session_scope(settings.db_url) as session:
        assert stream_urls(session, settings, "SEC-RED-001")["main"] == QUERY
    # A validation error echoing the URL back redacts it whole.
    bad = client.patch(
        "/cameras/SEC-RED-001",
        json={"stream_main": "ftp://admin:p@ss@10.0.0.5/x?pwd=hunter2"},
        headers=admin,
    )
    assert bad.status_code == 422
    assert "p@ss" not in bad.text and "ss@" not in bad.text and "hunter2" not in bad.text
