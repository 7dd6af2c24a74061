"""Request bodies: who may send one, and how large, decided before a byte of it is read.

An ASGI middleware rather than a route check: FastAPI reads and parses a body before it
resolves a route's dependencies, so without this an anonymous caller could make the server
read and parse tens of megabytes before its 401, and an authenticated one any amount.
Here a body-carrying request without a valid token gets 401 at once; one whose declared
length is over its path's limit gets 413 at once; and a streamed (chunked) body is counted
as it arrives and cut off with 413 the moment it passes the limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from anyio import to_thread
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dozor.settings import Settings
from registry.auth import lookup_token

# Paths that take files: camera imports and reference-frame uploads.
_UPLOADS = re.compile(r"^/cameras/(import|[^/]+/frames)$")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


class BodyLimits:
    def __init__(self, app: ASGIApp, settings: Settings, sessions: Callable[[], Session]) -> None:
        self.app = app
        self.settings = settings
        self.sessions = sessions

    def limit_for(self, path: str) -> int:
        if _UPLOADS.match(path):
            return self.settings.api_max_upload_bytes
        return self.settings.api_max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if not chunked and length in (None, "0"):
            await self.app(scope, receive, send)
            return
        if not await self._authenticated(headers.get("authorization", "")):
            await _answer(send, 401, "missing, invalid or revoked bearer token", auth=True)
            return
        limit = self.limit_for(scope["path"])
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _answer(send, 413, BodyTooLarge(limit).detail)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as exc:
            # Raised from inside a route that does its own error handling: answer here.
            if started:
                raise
            await _answer(send, 413, exc.detail)

    async def _authenticated(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False

        def check() -> bool:
            with self.sessions() as session:
                return lookup_token(session, token.strip()) is not None

        return await to_thread.run_sync(check)


async def _answer(send: Send, status: int, detail: str, *, auth: bool = False) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if auth:
        headers.append((b"www-authenticate", b"Bearer"))
    # The unread body is abandoned: the server closes the connection instead of draining it.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
