"""The registry's FastAPI application."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from prometheus_client import Counter, Histogram

from dozor import __version__
from dozor.settings import Settings, get_settings
from dozor.storage import ObjectStore
from registry.db import migrate, session_factory, session_scope
from registry.routes import cameras, events, health
from registry.seed import seed_if_empty

STATIC = Path(__file__).parent / "static"

REQUESTS = Counter("dozor_api_requests_total", "API requests", ["route", "method", "status"])
LATENCY = Histogram("dozor_api_request_seconds", "API request latency", ["route", "method"])


def prepare_database(settings: Settings) -> None:
    """Migrate to the newest schema and seed the roster into an empty registry."""
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        seed_if_empty(session)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    prepare_database(settings)
    app = FastAPI(
        title="Dozor registry",
        version=__version__,
        description="Cameras, enforcement units, scene configs and the detection event index.",
    )
    app.state.settings = settings
    app.state.sessions = session_factory(settings.db_url)
    app.state.store = ObjectStore(settings)

    @app.middleware("http")
    async def _metrics(request: Request, call_next):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        LATENCY.labels(path, request.method).observe(time.perf_counter() - start)
        REQUESTS.labels(path, request.method, str(response.status_code)).inc()
        return response

    for module in (cameras, events, health):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app
