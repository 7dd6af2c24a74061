"""Schemathesis against the OpenAPI schema: generated and malformed requests, no 5xx answer.

Runs on PostgreSQL, which is stricter than SQLite about what it stores (lengths, NUL bytes,
integer ranges), with a token that passes the role check so the inputs reach the handlers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from dozor.settings import Settings
from evidence.signing import load_signer
from registry.app import create_app
from registry.auth import Role
from registry.bootstrap import prepare_database
from tests.conftest import temp_pg_database
from tests.integration.test_registry_api import Registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, stack_env: Settings) -> Iterator[Registry]:
    # With the real S3 too: reference frames are stored there and read back.
    with temp_pg_database() as url:
        settings = stack_env.model_copy(
            update={"database_url": url, "state_dir": tmp_path_factory.mktemp("fuzz")}
        )
        prepare_database(settings)
        # As `dozor setup` does in development: the key pair, so the API has a public key.
        load_signer(settings)
        yield Registry(settings, TestClient(create_app(settings)))


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    """Server errors from generated requests to one operation (stops at the first one)."""
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=15,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} ({mode}): {response.text[:200]}")
            raise AssertionError(failures[-1])

    # A failure is recorded, so the caller lists every failing operation at once; an
    # operation without parameters has no malformed variant (Unsatisfiable in negative mode).
    with contextlib.suppress(AssertionError, Unsatisfiable):
        run()
    return failures


def test_no_request_makes_a_server_error(fuzzed: Registry) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = []
    for operation in operations:
        # Heartbeats admit only detectors; every other operation admits admins.
        role = Role.DETECTOR if operation.path.endswith("/heartbeat") else Role.ADMIN
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += fuzz(operation, mode, fuzzed.auth(role))
    assert failures == []
