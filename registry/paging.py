"""The paging parameters every list endpoint takes, with the same bounds everywhere.

Bounded so that no value reaches the database that it cannot hold (SQLite's and PostgreSQL's
64-bit OFFSET) or that would make one answer huge: out of range is a 422, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Query, Response
from pydantic import BaseModel

from registry.schemas import Page

JSON = "application/json"
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def page_total(shown: int, limit: int, offset: int, count: Callable[[], int]) -> int:
    """How many items match in all: without asking ``count`` when the page shows the last one
    (it is not full, and not past the end)."""
    return offset + shown if shown < limit and (shown or offset == 0) else count()


def page_response(
    item: type[BaseModel],
    items: Sequence[BaseModel | dict[str, Any]],
    total: int,
    limit: int,
    offset: int,
) -> Response:
    """A page, validated and serialised once. Routes return this and declare
    ``response_model=Page[item]`` for the schema: FastAPI does not validate a Response again."""
    page = Page[item].model_validate(  # type: ignore[valid-type]
        {"items": items, "total": total, "limit": limit, "offset": offset}
    )
    return Response(page.model_dump_json(), media_type=JSON)


def json_page(items: Sequence[bytes], total: int, limit: int, offset: int) -> Response:
    """A page of items already serialised (each valid as the route's ``Page[item]`` item),
    as ``page_response`` would write it."""
    body = b'{"items":[%b],"total":%d,"limit":%d,"offset":%d}' % (
        b",".join(items),
        total,
        limit,
        offset,
    )
    return Response(body, media_type=JSON)
