"""The list endpoints' shortcuts: credential names without their values, counts only when
needed, pages serialised once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import BaseModel, ValidationError

from dozor.errors import UserError
from dozor.settings import Settings
from registry import crypto
from registry.paging import page_response, page_total


def test_credential_names_are_names_only_and_decrypted_once(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    token = crypto.write_credentials(settings, {"main": "admin:p@ss", "sub?pwd": "hunter2"})
    assert crypto.credential_names(settings, token) == {"main", "sub?pwd"}
    assert crypto.credential_names(settings, None) == frozenset()
    before = crypto._names.cache_info()
    assert crypto.credential_names(settings, token) == {"main", "sub?pwd"}
    assert crypto._names.cache_info().hits == before.hits + 1
    assert crypto._names.cache_info().misses == before.misses

    other = Settings(state_dir=tmp_path, secret_key=Fernet.generate_key().decode())
    with pytest.raises(UserError, match="cannot be decrypted"):
        crypto.credential_names(other, token)


def test_no_credentials_need_no_key(tmp_path: Path) -> None:
    # A list of cameras without credentials must not make (or demand) the key.
    assert crypto.credential_names(Settings(state_dir=tmp_path), None) == frozenset()
    assert not (tmp_path / "secret.key").exists()


class Item(BaseModel):
    id: str
    n: int


def test_page_response_validates_and_serialises_once() -> None:
    response = page_response(Item, [{"id": "a", "n": 1}, Item(id="b", n=2)], 7, 2, 4)
    assert response.media_type == "application/json"
    assert json.loads(response.body) == {
        "items": [{"id": "a", "n": 1}, {"id": "b", "n": 2}],
        "total": 7,
        "limit": 2,
        "offset": 4,
    }
    with pytest.raises(ValidationError):
        page_response(Item, [{"id": "a"}], 1, 1, 0)


def test_page_total_counts_only_when_the_page_cannot_tell() -> None:
    def never() -> int:
        raise AssertionError("counted")

    assert page_total(7, 50, 0, never) == 7  # not full: the last match is on it
    assert page_total(7, 50, 100, never) == 107
    assert page_total(0, 50, 0, never) == 0  # nothing matches
    assert page_total(50, 50, 0, lambda: 120) == 120  # full: more may follow
    assert page_total(0, 50, 200, lambda: 120) == 120  # past the end: the page cannot tell
