"""Bodies are bounded and authenticated before they are read (registry/limits.py)."""

from __future__ import annotations

import select
import socket
import time

import httpx
import pytest

from registry.auth import Role
from tests.security.conftest import Served

pytestmark = pytest.mark.integration

MB64 = 64 * 1024 * 1024


def _status(sock: socket.socket) -> int:
    """The status of the answer, which must come without the body having been sent."""
    sock.settimeout(30)
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "connection closed without an answer"
        head += chunk
    return int(head.split(b" ", 2)[1])


def _open(served: Served, headers: dict[str, str]) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=30)
    lines = ["POST /cameras HTTP/1.1", f"Host: 127.0.0.1:{served.port}"]
    lines += [f"{k}: {v}" for k, v in {"Content-Type": "application/json", **headers}.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def test_anonymous_64mb_body_gets_401_before_a_byte_is_read(served: Served) -> None:
    with _open(served, {"Content-Length": str(MB64)}) as sock:
        assert _status(sock) == 401


def test_invalid_token_gets_401_before_the_body(served: Served) -> None:
    with _open(served, {"Content-Length": str(MB64), "Authorization": "Bearer dz_forged"}) as s:
        assert _status(s) == 401


def test_declared_64mb_body_gets_413_unread(served: Served) -> None:
    auth = f"Bearer {served.tokens[Role.ADMIN]}"
    with _open(served, {"Content-Length": str(MB64), "Authorization": auth}) as sock:
        assert _status(sock) == 413


def test_streamed_64mb_body_is_cut_off_with_413_and_memory_stays_flat(served: Served) -> None:
    before = served.rss_kib()
    auth = f"Bearer {served.tokens[Role.ADMIN]}"
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with _open(served, {"Transfer-Encoding": "chunked", "Authorization": auth}) as sock:
        sock.setblocking(False)
        deadline = time.monotonic() + 120
        while sent < MB64 and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1)
            if readable:
                break
            if writable:
                try:
                    sent += sock.send(frame)
                except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                    break
        assert _status(sock) == 413
    assert sent < MB64 / 4, f"the server read {sent} bytes before refusing"
    grown_mib = (served.rss_kib() - before) / 1024
    assert grown_mib < 16, f"server memory grew {grown_mib:.0f} MiB"


def test_a_body_within_the_limit_still_works(served: Served) -> None:
    answer = httpx.get(
        f"{served.base}/cameras/VLG-CAM-001",
        headers={"Authorization": f"Bearer {served.tokens[Role.VIEWER]}"},
    )
    assert answer.status_code == 200
    patch = httpx.patch(
        f"{served.base}/cameras/VLG-CAM-001",
        json={"name": "probe " * 10},
        headers={"Authorization": f"Bearer {served.tokens[Role.OPERATOR]}"},
    )
    assert patch.status_code == 200, patch.text
