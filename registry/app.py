"""The registry's FastAPI application."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError

from dozor import __version__
from dozor.production import refuse_defaults
from dozor.redact import redact
from dozor.settings import Settings, get_settings
from dozor.storage import ObjectStore
from evidence.signing import load_verifier
from registry.crypto import fernet
from registry.db import session_factory
from registry.limits import BodyLimits
from registry.metrics import RequestMetrics
from registry.routes import (
    admin,
    cameras,
    cases,
    detectors,
    events,
    evidence,
    health,
    preview,
    recordings,
    review,
    scenes,
    stream,
)

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    # The schema is the migrate Job's business (registry/bootstrap.py); /readyz reports it.
    settings = settings or get_settings()
    app = FastAPI(
        title="Dozor registry",
        version=__version__,
        description="Cameras, enforcement units, scene configs and the detection event index.",
    )
    app.state.settings = settings
    app.state.sessions = session_factory(settings.db_url)
    app.state.store = ObjectStore(settings)
    if settings.env == "production":
        # A missing key is a deployment error: refuse to start, not to answer later.
        refuse_defaults(settings)
        app.state.verifier = load_verifier(settings)
        fernet(settings)
    # Added first, so the metrics middleware (outermost) counts its 401s and 413s too.
    app.add_middleware(BodyLimits, settings=settings, sessions=app.state.sessions)

    app.add_middleware(RequestMetrics)

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
    app.include_router(detectors.router)  # detector workers' signing keys
    app.include_router(scenes.router)
    app.include_router(recordings.router)  # commissioning: frames, recordings, hints
    app.include_router(review.router)  # review queue and events.csv
    app.include_router(stream.router)  # the camera wall's live feed (SSE)
    app.include_router(preview.router)  # draft scenes run on recordings
    for module in (cameras, cases, events, evidence, health):
        app.include_router(module.router)

    # The page's modules, styles and vendored Leaflet: public files, no secrets.
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app
