"""The camera wall's live feed: Server-Sent Events with every camera's state, then each change.

State is derived as /cameras/{id}/health derives it (a silent worker turns a camera
offline without anyone writing), so the feed re-derives every few seconds and sends what
changed. EventSource cannot send headers: the token may come as ``?access_token=``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import func, select

from dozor.settings import Settings
from registry.auth import ANY_HUMAN, Role, lookup_token
from registry.db import as_utc
from registry.health import derive, health_rows
from registry.models import Camera, EventRecord
from registry.routes.cameras import settings_of

router = APIRouter(tags=["wall"])
_bearer = HTTPBearer(auto_error=False)
POLL_S = 2.0
PING_S = 15.0


def _viewer(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    access_token: Annotated[str | None, Query(max_length=200)] = None,
) -> Role:
    token = creds.credentials if creds is not None else access_token
    if not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    with request.app.state.sessions() as session:
        row = lookup_token(session, token)
    if row is None:
        raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    role = Role(row.role)
    if role not in ANY_HUMAN:
        raise HTTPException(403, f"role {role} may not do this")
    return role


def wall(request: Request, settings: Settings) -> dict[str, dict[str, Any]]:
    """Every camera's state for the wall, keyed by id."""
    now = datetime.now(UTC)
    with request.app.state.sessions() as session:
        ids = list(session.scalars(select(Camera.id).order_by(Camera.id)))
        health = health_rows(session)
        latest = (
            select(EventRecord.camera_id, func.max(EventRecord.time).label("t"))
            .group_by(EventRecord.camera_id)
            .subquery()
        )
        last: dict[str, EventRecord] = {}
        for ev in session.scalars(
            select(EventRecord).join(
                latest,
                (EventRecord.camera_id == latest.c.camera_id) & (EventRecord.time == latest.c.t),
            )
        ):
            last[ev.camera_id] = ev
    out = {}
    for cid in ids:
        row = health.get(cid)
        state, reasons = derive(row, settings, now)
        ev = last.get(cid)
        out[cid] = {
            "camera_id": cid,
            "state": state.value,
            "reasons": reasons,
            "fps": row.fps_out if row else None,
            "last_heartbeat": as_utc(row.received_at).isoformat() if row else None,
            "last_event": (
                {"id": ev.id, "type": ev.type, "time": as_utc(ev.time).isoformat()} if ev else None
            ),
            "snapshot_url": f"/cameras/{cid}/snapshot",
        }
    return out


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    _role: Annotated[Role, Depends(_viewer)],
    settings: Annotated[Settings, Depends(settings_of)],
    until_s: Annotated[
        float, Query(gt=0, le=3600, description="End after this long (EventSource reconnects).")
    ] = 300,
) -> StreamingResponse:
    """``snapshot`` (every camera), then a ``camera`` event whenever one's state, reasons,
    fps or last event changes; a comment line every 15 s keeps proxies from closing it."""

    async def events() -> AsyncIterator[str]:
        sent = await run_in_threadpool(wall, request, settings)
        yield _sse("snapshot", {"cameras": list(sent.values())})
        end = time.monotonic() + until_s
        pinged = time.monotonic()
        while time.monotonic() < end and not await request.is_disconnected():
            await asyncio.sleep(POLL_S)
            now_state = await run_in_threadpool(wall, request, settings)
            for cid, cam in now_state.items():
                if sent.get(cid) != cam:
                    yield _sse("camera", {**cam, "updated_at": datetime.now(UTC).isoformat()})
            for cid in set(sent) - set(now_state):
                yield _sse("removed", {"camera_id": cid})
            sent = now_state
            if time.monotonic() - pinged > PING_S:
                pinged = time.monotonic()
                yield ": ping\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
