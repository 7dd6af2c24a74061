"""Identifiers and object names every process trusts: what an id, a key or a bucket may be.

An event's id and camera name S3 prefixes and primary keys: a value that walks out of its
prefix (``../``), carries a control character or outgrows its database column must be
refused where the event is parsed, not found by the database or the object store after
retries. The lengths here are the registry's column widths (registry/models.py).
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import AfterValidator, Field

CAMERA_ID_PATTERN: Final = r"^[A-Z0-9][A-Z0-9_-]{1,31}$"
# uuid5 ids (contract.events.event_id) and any other opaque token of letters, digits, - and _:
# no '/', no '.', so never a path segment of its own.
EVENT_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
# S3 bucket naming rules (3-63 lower-case letters, digits, dots and hyphens).
BUCKET_PATTERN: Final = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
GOST_CODE_PATTERN: Final = r"^C\d{1,3}$"
OBJECT_KEY_MAX: Final = 1024
WORKER_ID_MAX: Final = 100


def no_control_chars(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    return value


def _safe_key(value: str) -> str:
    no_control_chars(value)
    if value.startswith("/") or "\\" in value:
        raise ValueError("an object key is relative and uses '/' only")
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise ValueError("an object key has no empty, '.' or '..' segments")
    return value


def _bucket(value: str) -> str:
    if ".." in value:
        raise ValueError("a bucket name has no '..'")
    return value


CameraId = Annotated[str, Field(pattern=CAMERA_ID_PATTERN, description="e.g. VLG-ENF-001")]
EventId = Annotated[str, Field(pattern=EVENT_ID_PATTERN)]
GostCode = Annotated[
    str, Field(pattern=GOST_CODE_PATTERN, description="GOST R 57144-2016 code, e.g. C12")
]
BucketName = Annotated[str, Field(pattern=BUCKET_PATTERN), AfterValidator(_bucket)]
ObjectKey = Annotated[
    str, Field(min_length=1, max_length=OBJECT_KEY_MAX), AfterValidator(_safe_key)
]
WorkerId = Annotated[
    str, Field(min_length=1, max_length=WORKER_ID_MAX), AfterValidator(no_control_chars)
]
