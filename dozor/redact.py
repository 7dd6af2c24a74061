"""Removes credentials from URLs wherever text leaves the process (API answers, logs).

By parsing each URL rather than pattern-matching ``user:pass@``: the userinfo is everything
before the *last* ``@`` of the authority (a password may itself contain ``@``), and query
parameters that carry credentials (``?user=admin&pwd=...``, ``token=``, ...) lose their
values too. What replaces a secret is :data:`MASK`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"

# Query parameters whose values are credentials, as cameras and services name them.
SECRET_PARAMS = frozenset(
    {
        "user",
        "username",
        "login",
        "pwd",
        "pass",
        "passwd",
        "password",
        "token",
        "access_token",
        "auth",
        "authorization",
        "key",
        "apikey",
        "api_key",
        "secret",
        "sig",
        "signature",
        "credential",
        "credentials",
    }
)

# A URL inside free text: a scheme, then up to whitespace, a quote or an angle bracket.
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>`]+")
_PARAM = re.compile(r"(?P<sep>^|[&;])(?P<name>[^=&;#]*)=(?P<value>[^&;#]*)")


def is_secret_param(name: str) -> bool:
    return unquote(name).strip().lower() in SECRET_PARAMS


def split_query_secrets(query: str) -> tuple[str, dict[str, str]]:
    """``user=a&pwd=b&ch=1`` -> (``user=***&pwd=***&ch=1``, {user: a, pwd: b}), values raw."""
    found: dict[str, str] = {}

    def mask(m: re.Match[str]) -> str:
        if not is_secret_param(m["name"]):
            return m.group(0)
        found[m["name"]] = m["value"]
        return f"{m['sep']}{m['name']}={MASK}"

    return _PARAM.sub(mask, query), found


def fill_query_secrets(query: str, secrets: dict[str, str]) -> str:
    """The inverse of :func:`split_query_secrets`: each ``name=***`` gets its value back."""

    def fill(m: re.Match[str]) -> str:
        value = secrets.get(m["name"])
        if m["value"] != MASK or value is None:
            return m.group(0)
        return f"{m['sep']}{m['name']}={value}"

    return _PARAM.sub(fill, query)


def redact_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    # The authority ends at the query or fragment; its userinfo at the last '@' before that
    # (a '/' before the '@' is taken as part of a password: over-redacting is the safe side).
    end = min((i for i in (rest.find("?"), rest.find("#")) if i != -1), default=len(rest))
    at = rest.rfind("@", 0, end)
    if at != -1:
        rest = MASK + rest[at:]
    head, q, tail = rest.partition("?")
    if q:
        query, hash_, fragment = tail.partition("#")
        tail = split_query_secrets(query)[0] + hash_ + fragment
    return f"{scheme}://{head}{q}{tail}"


def redact(text: str) -> str:
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
