"""Stream credentials: split out of URLs, stored encrypted, handed only to code that connects.

The registry keeps each stream URL without its ``user:password@`` part and the credentials
in one Fernet token per camera (column ``cameras.stream_credentials``). No endpoint ever
returns them; detector workers that open the stream call :func:`stream_urls` in-process.

The key comes from ``DOZOR_SECRET_KEY``. Where it is unset (demo, development) a key is
generated once and kept in ``state_dir/secret.key`` with mode 0600, so a restart can still
decrypt what was stored. Production sets the variable from its secret store.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from dozor.errors import UserError
from dozor.settings import Settings
from registry.models import Camera

# What API answers show in place of stored credentials; sent back, it means "keep them".
MASK = "***"
STREAMS = ("main", "sub")


def _key_file(state_dir: Path) -> Path:
    return state_dir / "secret.key"


@lru_cache(maxsize=8)
def _generated_key(state_dir: Path) -> bytes:
    path = _key_file(state_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process generated it first; read theirs
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
    return path.read_bytes().strip()


def fernet(settings: Settings) -> Fernet:
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value().encode()
    else:
        key = _generated_key(settings.state_dir.resolve())
    try:
        return Fernet(key)
    except ValueError:
        raise UserError(
            "DOZOR_SECRET_KEY must be 32 url-safe base64-encoded bytes "
            "(make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from None


def split_userinfo(url: str) -> tuple[str, str | None]:
    """``rtsp://u:p@host/x`` -> (``rtsp://host/x``, ``u:p``); no credentials -> (url, None)."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None
    return urlunsplit(parts._replace(netloc=host)), userinfo


def masked(url: str | None, has_credentials: bool) -> str | None:
    """The URL as answers show it: ``***@`` where credentials are stored."""
    if url is None or not has_credentials:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{MASK}@{parts.netloc}"))


def _join(url: str, userinfo: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def read_credentials(settings: Settings, token: str | None) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(fernet(settings).decrypt(token.encode()))
    except InvalidToken:
        raise UserError(
            "stream credentials cannot be decrypted: DOZOR_SECRET_KEY differs from the key "
            "they were stored with"
        ) from None


def write_credentials(settings: Settings, creds: dict[str, str]) -> str | None:
    if not creds:
        return None
    return fernet(settings).encrypt(json.dumps(creds, sort_keys=True).encode()).decode()


def stream_urls(session: Session, settings: Settings, camera_id: str) -> dict[str, str]:
    """Full stream URLs of a camera, credentials included, for the process that connects.

    Never put the result into an API answer or a log line unredacted.
    """
    cam = session.get(Camera, camera_id)
    if cam is None:
        raise UserError(f"unknown camera id: {camera_id}")
    creds = read_credentials(settings, cam.stream_credentials)
    urls = {"main": cam.stream_main, "sub": cam.stream_sub}
    return {
        name: _join(url, creds[name]) if name in creds else url
        for name, url in urls.items()
        if url is not None
    }
