"""Removes credentials from URLs wherever text leaves the process (API answers, logs)."""

import re

# user:password@ (or user@) right after a URL scheme.
_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact(text: str) -> str:
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)
