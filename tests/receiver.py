"""A tiny downstream enforcement endpoint for the tests, run as a real process.

It answers POST /cases like a careful receiver would: the first request with an
Idempotency-Key is accepted (201), a repeat gets 409. Every request is appended to a JSON
lines journal before the answer is sent, and the journal is reread on start, so a killed
and restarted receiver still knows the keys it accepted. ``PUT /_status`` with a status
code in the body makes it answer that code to every case until switched back to 201.

    python -m tests.receiver --port P --journal FILE [--status 500]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock

import httpx

ACCEPTED = 201


def _serve(port: int, journal: Path, status: int) -> None:
    lock = Lock()
    accepted = {
        rec["key"]
        for rec in map(json.loads, journal.read_text().splitlines() if journal.exists() else [])
        if rec["status"] == ACCEPTED
    }
    mode = {"status": status}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, code: int) -> None:
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self._answer(200)

        def do_PUT(self) -> None:
            mode["status"] = int(self.rfile.read(int(self.headers["Content-Length"])))
            self._answer(204)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers.get("Idempotency-Key", "")
            with lock:
                code = mode["status"]
                if code == ACCEPTED and key in accepted:
                    code = 409
                rec = {
                    "key": key,
                    "status": code,
                    "case_id": body.get("case_id"),
                    "event_id": body.get("event_id"),
                    "enforceable": body.get("enforceable"),
                    "schema": self.headers.get("X-Dozor-Case-Schema"),
                }
                with journal.open("a") as f:
                    f.write(json.dumps(rec) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                if code == ACCEPTED:
                    accepted.add(key)
            self._answer(code)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """Starts, kills and restarts the receiver process; reads its journal."""

    def __init__(self, journal: Path, port: int | None = None) -> None:
        self.journal = journal
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/cases"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, status: int = ACCEPTED) -> Receiver:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.receiver",
                "--port",
                str(self.port),
                "--journal",
                str(self.journal),
                "--status",
                str(status),
            ],
            cwd=Path(__file__).parents[1],
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=0.5)
                return self
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("test receiver did not start") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no goodbye, as when the downstream host dies."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def set_status(self, status: int) -> None:
        httpx.put(f"http://127.0.0.1:{self.port}/_status", content=str(status)).raise_for_status()

    def records(self) -> list[dict[str, object]]:
        if not self.journal.exists():
            return []
        return [json.loads(line) for line in self.journal.read_text().splitlines()]

    def accepted(self) -> list[str]:
        """Keys the receiver accepted, once per acceptance (a key twice = a double delivery)."""
        return [str(r["key"]) for r in self.records() if r["status"] == ACCEPTED]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--status", type=int, default=ACCEPTED)
    args = parser.parse_args()
    _serve(args.port, args.journal, args.status)
