"""Tokens expire, can be listed and revoked from the command line; the SQLite registry file
is readable by its owner only."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dozor.settings import Settings
from registry.app import create_app
from registry.auth import Role, issue_token
from registry.bootstrap import prepare_database
from registry.db import session_scope
from tests.conftest import settings_env

pytestmark = pytest.mark.integration


def _dozor(settings: Settings, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dozor_cli.cli", *args],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(state_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'r.db'}")
    prepare_database(settings)
    return settings


def test_an_expired_token_is_refused(settings: Settings) -> None:
    with session_scope(settings.db_url) as session:
        expired = issue_token(session, Role.ADMIN, "old", ttl=timedelta(seconds=-1))
        fresh = issue_token(session, Role.ADMIN, "new", ttl=timedelta(hours=1))
    client = TestClient(create_app(settings))
    assert client.get("/cameras", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    assert client.get("/cameras", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_cli_issues_with_expiry_lists_and_revokes(settings: Settings) -> None:
    token = _dozor(
        settings, "registry", "token", "--role", "viewer", "--name", "desk", "--ttl", "2h"
    )
    forever = _dozor(settings, "registry", "token", "--role", "admin", "--ttl", "never")
    listing = _dozor(settings, "registry", "token", "list")
    assert token not in listing and forever not in listing  # only hashes are kept
    rows = [line.split("\t") for line in listing.splitlines()]
    desk = next(r for r in rows if r[2] == "desk")
    assert desk[1] == "viewer" and desk[4] != "expires never" and desk[5] == "revoked -"
    assert any(r[1] == "admin" and r[4] == "expires never" for r in rows)
    client = TestClient(create_app(settings))
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/cameras", headers=auth).status_code == 200
    assert "revoked token" in _dozor(settings, "registry", "token", "revoke", desk[0])
    assert client.get("/cameras", headers=auth).status_code == 401
    # Without --ttl, the settings' default lifetime applies.
    _dozor(settings, "registry", "token", "--role", "viewer", "--name", "default")
    line = next(
        ln
        for ln in _dozor(settings, "registry", "token", "list").splitlines()
        if "\tdefault\t" in ln
    )
    assert "expires never" not in line


def test_the_sqlite_file_is_owner_only(settings: Settings, tmp_path: Path) -> None:
    mode = stat.S_IMODE((tmp_path / "r.db").stat().st_mode)
    assert mode == 0o600, oct(mode)
