"""Log lines as key=value pairs, with camera and event ids wherever they are known."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from dozor.redact import redact

_CONTEXT_KEYS = ("camera_id", "event_id", "worker_id", "topic", "partition", "offset")


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        ctx = " ".join(
            f"{k}={getattr(record, k)}"
            for k in _CONTEXT_KEYS
            if getattr(record, k, None) is not None
        )
        # Stream credentials must never reach a log line, whoever formatted the message.
        return redact(f"{base} {ctx}" if ctx else base)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when the record comes, not at set-up: a caller
    that swaps stderr for a buffer and closes it afterwards (a test runner, a CLI wrapper)
    must not leave every later log line failing on a closed file."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup(level: str = "INFO") -> None:
    handler = _StderrHandler()
    handler.setFormatter(_Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kafka", "urllib3", "ultralytics", "alembic", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
