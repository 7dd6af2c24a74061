"""The paging parameters every list endpoint takes, with the same bounds everywhere.

Bounded so that no value reaches the database that it cannot hold (SQLite's and PostgreSQL's
64-bit OFFSET) or that would make one answer huge: out of range is a 422, never a 500.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
