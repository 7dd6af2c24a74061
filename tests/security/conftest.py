"""A registry API served for real (uvicorn in its own process) on SQLite, for probes that
need a socket: bodies sent slowly, connections held open, the server's memory."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dozor.settings import Settings
from registry.auth import Role, issue_token
from registry.bootstrap import prepare_database
from registry.db import session_scope
from tests.conftest import settings_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    settings: Settings
    base: str
    port: int
    pid: int
    tokens: dict[Role, str]

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("served")
    port = _free_port()
    settings = Settings(state_dir=tmp, database_url=f"sqlite:///{tmp / 'registry.db'}")
    prepare_database(settings)
    with session_scope(settings.db_url) as session:
        tokens = {r: issue_token(session, r, f"{r.value}-probe") for r in Role}
    log = (tmp / "api.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dozor_cli.cli", "registry", "serve", "--port", str(port)],
        env=settings_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, (tmp / "api.log").read_text()
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "API did not come up"
        time.sleep(0.2)
    try:
        yield Served(settings, base, port, proc.pid, tokens)
    finally:
        proc.terminate()
        proc.wait(30)
