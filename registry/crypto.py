"""Stream credentials: split out of URLs, stored encrypted, handed only to code that connects.

The registry keeps each stream URL without its ``user:password@`` part, and with ``***`` for
the values of credential query parameters (``?user=admin&pwd=...``, see dozor/redact.py), and
the credentials in one Fernet token per camera (column ``cameras.stream_credentials``: the
userinfo under the stream's name, a query secret under ``<stream>?<parameter>``). No endpoint ever
returns them; detector workers that open the stream call :func:`stream_urls` in-process.

The key comes from ``DOZOR_SECRET_KEY``. Where it is unset (demo, development) a key is
generated once and kept in ``state_dir/secret.key`` with mode 0600, so a restart can still
decrypt what was stored. Production sets the variable from its secret store
(``DOZOR_ENV=production`` refuses to generate one).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from dozor.errors import UserError
from dozor.keyfile import ensure_key_file
from dozor.production import refuse_generated
from dozor.redact import MASK, fill_query_secrets, split_query_secrets
from dozor.settings import Settings
from registry.models import Camera

# MASK is what API answers show in place of stored credentials; sent back, it means "keep them".
STREAMS = ("main", "sub")


def _key_file(state_dir: Path) -> Path:
    return state_dir / "secret.key"


@lru_cache(maxsize=8)
def _generated_key(state_dir: Path) -> bytes:
    return ensure_key_file(_key_file(state_dir), Fernet.generate_key).read_bytes().strip()


def fernet(settings: Settings) -> Fernet:
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value().encode()
    else:
        if not _key_file(settings.state_dir).exists():
            refuse_generated(settings, "the stream-credential key", "DOZOR_SECRET_KEY")
        key = _generated_key(settings.state_dir.resolve())
    return _fernet(key)


@lru_cache(maxsize=8)
def _fernet(key: bytes) -> Fernet:
    # One instance per key, so that credential_names can cache on it.
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


def split_credentials(url: str) -> tuple[str, str | None, dict[str, str]]:
    """The URL as stored (no userinfo, query secrets as ``***``), its userinfo, and its query
    secrets by parameter name."""
    bare, userinfo = split_userinfo(url)
    parts = urlsplit(bare)
    query, secrets = split_query_secrets(parts.query)
    return urlunsplit(parts._replace(query=query)), userinfo, secrets


def query_key(stream: str, param: str) -> str:
    """Where a stream's query secret is kept among the camera's credentials."""
    return f"{stream}?{param}"


def masked(url: str | None, has_credentials: bool) -> str | None:
    """The URL as answers show it: ``***@`` where credentials are stored."""
    if url is None or not has_credentials:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{MASK}@{parts.netloc}"))


def _join(url: str, stream: str, creds: dict[str, str]) -> str:
    parts = urlsplit(url)
    if stream in creds:
        parts = parts._replace(netloc=f"{creds[stream]}@{parts.netloc}")
    prefix = query_key(stream, "")
    secrets = {k.removeprefix(prefix): v for k, v in creds.items() if k.startswith(prefix)}
    return urlunsplit(parts._replace(query=fill_query_secrets(parts.query, secrets)))


def read_credentials(settings: Settings, token: str | None) -> dict[str, str]:
    return _decrypt(fernet(settings), token) if token else {}


def credential_names(settings: Settings, token: str | None) -> frozenset[str]:
    """Which credentials ``token`` holds (``main``, ``sub?pwd``, ...), not their values: what
    answers need to mask URLs."""
    return _names(fernet(settings), token) if token else frozenset()


@lru_cache(maxsize=4096)
def _names(key: Fernet, token: str) -> frozenset[str]:
    # A token never changes (new credentials are a new token), so no entry goes stale; only
    # the names are kept, never a secret.
    return frozenset(_decrypt(key, token))


def _decrypt(key: Fernet, token: str) -> dict[str, str]:
    try:
        return json.loads(key.decrypt(token.encode()))
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
    return {name: _join(url, name, creds) for name, url in urls.items() if url is not None}
