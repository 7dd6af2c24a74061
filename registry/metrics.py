"""Request counts and latency by route, for Prometheus."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("dozor_api_requests_total", "API requests", ["route", "method", "status"])
LATENCY = Histogram("dozor_api_request_seconds", "API request latency", ["route", "method"])


class RequestMetrics:
    """Counts and times every HTTP request by its route template.

    A plain ASGI middleware: Starlette's ``@app.middleware("http")`` runs each response
    through a memory stream and a task group, which cost about as much CPU as a registry
    read itself. The router writes the matched route into the shared scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the server answers when the app raises before responding

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(path, scope["method"]).observe(time.perf_counter() - start)
            REQUESTS.labels(path, scope["method"], str(status)).inc()
