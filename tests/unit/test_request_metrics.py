"""Every request is counted and timed by its route template and status."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from registry.metrics import LATENCY, REQUESTS, RequestMetrics


def _count(route: str, method: str, status: str) -> float:
    return REQUESTS.labels(route, method, status)._value.get()


def test_requests_are_counted_by_route_template_and_status() -> None:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "missing":
            raise HTTPException(404, "no such thing")
        return {"id": thing_id}

    @app.get("/broken")
    def broken() -> None:
        raise RuntimeError("a fault")

    app.add_middleware(RequestMetrics)
    client = TestClient(app, raise_server_exceptions=False)
    before = {
        key: _count(*key)
        for key in [
            ("/things/{thing_id}", "GET", "200"),
            ("/things/{thing_id}", "GET", "404"),
            ("/broken", "GET", "500"),
            ("unmatched", "GET", "404"),
        ]
    }
    timed = LATENCY.labels("/things/{thing_id}", "GET")._sum.get()
    for path in ("/things/a", "/things/b", "/things/missing", "/broken", "/nowhere"):
        client.get(path)
    after = {key: _count(*key) for key in before}
    assert [after[k] - before[k] for k in before] == [2, 1, 1, 1]
    assert LATENCY.labels("/things/{thing_id}", "GET")._sum.get() > timed
