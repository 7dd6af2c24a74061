"""Registry API under uvicorn, driven from this (second) process: req/s, p50, p99 and the
server's CPU per request for each endpoint, each as a ratio to a bare FastAPI endpoint served
by the same server in the same run (interleaved in rounds). The registry holds the seeded
cameras and 200 indexed events.

Usage (from the repo root): python -m bench.registry_bench [--requests 2000] [--concurrency 16]
[--rounds 10] [--database-url postgresql://...]   (default: a fresh SQLite file in a temporary
directory). Linux only (the server's CPU time comes from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from contract.events import (
    Category,
    DetectionEvent,
    DetectorInfo,
    EventData,
    EventType,
    EvidenceRef,
    EvidenceRole,
    event_id,
)
from dozor.settings import Settings, get_settings
from registry.app import create_app
from registry.auth import Role, issue_token
from registry.bootstrap import prepare_database
from registry.db import session_scope
from registry.event_index import index_event

EVENTS = 200


def bench_app() -> FastAPI:
    """The real registry app plus one bare endpoint: no auth, no database, a tiny JSON."""
    app = create_app(get_settings())

    @app.get("/bench/bare", include_in_schema=False)
    def bare() -> dict[str, str]:
        return {"status": "ok"}

    return app


def bench_event(n: int) -> DetectionEvent:
    """The ``n``-th red-light violation of an indexed day, as the evidence consumer keeps it."""
    eid = event_id("bench", n)
    return DetectionEvent(
        id=eid,
        source="dozor://detector/bench",
        type=EventType.RED_LIGHT,
        time=datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(minutes=n),
        subject=f"VLG-ENF-{1 + n % 16:03d}",
        data=EventData(
            category=Category.VIOLATION,
            gost_code="C12",
            scene_version=1,
            confidence=0.8,
            frame_index=n,
            offset_s=n / 8,
            evidence=[
                EvidenceRef(
                    role=EvidenceRole.OVERVIEW,
                    bucket="dozor-evidence",
                    key=f"VLG-ENF-001/bench/{eid}/overview.jpg",
                    sha256="0" * 64,
                    size=40_000,
                    content_type="image/jpeg",
                )
            ],
            detector=DetectorInfo(
                model_name="yolo11n_int8.tflite",
                model_sha256="0" * 64,
                software_version="bench",
                worker_id="bench",
            ),
            source_uri="rtsp://camera/main",
        ),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Tally:
    """One endpoint's requests so far: how many, the seconds spent driving them, the server's
    CPU seconds meanwhile, and each request's latency."""

    requests: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _drive(
    client: httpx.AsyncClient, path: str, n: int, concurrency: int, server: int, tally: Tally
) -> None:
    remaining = iter(range(n))

    async def worker() -> None:
        for _ in remaining:
            t = time.perf_counter()
            r = await client.get(path)
            tally.latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")

    cpu, started = _cpu_seconds(server), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    tally.seconds += time.perf_counter() - started
    tally.server_cpu += _cpu_seconds(server) - cpu
    tally.requests += n


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0


async def _run(base: str, token: str, server: int, n: int, concurrency: int, rounds: int) -> None:
    targets = {
        "bare FastAPI": "/bench/bare",
        "GET /cameras (110)": "/cameras?limit=500",
        "GET /cameras/{id}": "/cameras/VLG-ENF-001",
        "GET /cameras filtered": "/cameras?kind=enforcement_unit&verification_lapsed=false",
        "GET /events (50)": "/events?limit=50",
    }
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency)
    results = {name: Tally() for name in targets}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        for path in targets.values():
            await _drive(client, path, min(100, n), concurrency, server, Tally())  # warm up
        # In rounds, every endpoint in each: a machine whose load changes during the run
        # (shared CPUs) then skews all endpoints alike, not whichever ran at the busy moment.
        for i in range(rounds):
            share = n // rounds + (i < n % rounds)
            for name, path in targets.items():
                await _drive(client, path, share, concurrency, server, results[name])
    bare = results["bare FastAPI"]
    bare_rps, bare_cpu = bare.requests / bare.seconds, bare.server_cpu / bare.requests
    bare_p50, bare_p99 = _pct(bare.latencies, 50), _pct(bare.latencies, 99)
    print(
        f"{n} requests per endpoint in {rounds} rounds, {concurrency} concurrent, "
        "one uvicorn worker"
    )
    print(
        f"{'endpoint':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>7}"
        "  vs bare: rps p50 p99 cpu"
    )
    for name, t in results.items():
        rps, cpu = t.requests / t.seconds, t.server_cpu / t.requests
        p50, p99 = _pct(t.latencies, 50), _pct(t.latencies, 99)
        print(
            f"{name:24} {rps:8.0f} {p50:8.2f} {p99:8.2f} {cpu * 1000:7.2f}  "
            f"x{rps / bare_rps:.2f} x{p50 / bare_p50:.1f} x{p99 / bare_p99:.1f} "
            f"x{cpu / bare_cpu:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            state_dir=Path(tmp),
            database_url=args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}",
        )
        prepare_database(settings)
        with session_scope(settings.db_url) as session:
            token = issue_token(session, Role.VIEWER, "bench")
            for n in range(EVENTS):
                index_event(session, bench_event(n))
        port = _free_port()
        env = {**os.environ, "DOZOR_STATE_DIR": tmp, "DOZOR_DATABASE_URL": settings.db_url}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.registry_bench:bench_app",
                "--factory",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            asyncio.run(_run(base, token, server.pid, args.requests, args.concurrency, args.rounds))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
