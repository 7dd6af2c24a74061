"""Liveness, readiness and Prometheus metrics (unauthenticated, as probes and scrapers expect)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.orm import Session

from registry.db import schema_at_heads
from registry.deps import db
from registry.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(session: Annotated[Session, Depends(db)]) -> Health | JSONResponse:
    try:
        at_heads = schema_at_heads(session)
    except Exception as exc:  # any database failure means not ready
        body = Health(status="unavailable", checks={"database": type(exc).__name__})
        return JSONResponse(body.model_dump(), status_code=503)
    if not at_heads:
        # Serving on an old (or empty) schema would fail requests: wait for `registry migrate`.
        body = Health(status="unavailable", checks={"database": "ok", "schema": "not migrated"})
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", checks={"database": "ok", "schema": "at head"})


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
