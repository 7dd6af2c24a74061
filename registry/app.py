"""The registry's FastAPI application."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import DataError

from dozor import __version__
from dozor.redact import redact
from dozor.settings import Settings, get_settings
from dozor.storage import ObjectStore
from registry.db import migrate, session_factory, session_scope
from registry.routes import admin, cameras, cases, events, evidence, health, scenes
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

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Errors echo the input back; stream URLs in it must not carry their credentials.
        detail = json.loads(redact(json.dumps(jsonable_encoder(exc.errors()))))
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (out of range, NUL byte) is bad input, not a fault.
        reason = str(exc.orig).splitlines()[0] if exc.orig else "invalid value"
        return JSONResponse({"detail": f"value not storable: {redact(reason)}"}, status_code=422)

    app.include_router(cameras.geojson_router)
    app.include_router(admin.router)
    app.include_router(scenes.router)
    for module in (cameras, cases, events, evidence, health):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app
