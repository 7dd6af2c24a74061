"""Bootstrap is out of runtime: the API never migrates; /readyz says when someone has."""

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import inspect

from dozor.settings import Settings
from registry.app import create_app
from registry.bootstrap import prepare_database
from registry.db import engine_for


def test_the_api_on_an_empty_database_creates_no_tables_and_is_not_ready(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    client = TestClient(create_app(settings))
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["schema"] == "not migrated"
    assert client.get("/healthz").status_code == 200
    assert inspect(engine_for(settings.db_url)).get_table_names() == []

    prepare_database(settings)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["schema"] == "at head"
    assert "cameras" in inspect(engine_for(settings.db_url)).get_table_names()
