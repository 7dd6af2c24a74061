"""The one way the enforcement consumer reaches the registry: its case book.

Like ``detectors.boundary``: the consumer takes a :class:`CaseBook`, the command layer hands
it the registry's implementation (``registry.case_book.DatabaseCaseBook``), so the consumer
imports no ORM model or session and the book could live behind an API instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from contract.cases import Case


class CaseRow(Protocol):
    """A stored case and how far it got."""

    @property
    def id(self) -> str: ...

    @property
    def camera_id(self) -> str: ...

    @property
    def enforceable(self) -> bool: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def payload(self) -> dict[str, Any]: ...

    @property
    def published_at(self) -> datetime | None: ...

    @property
    def delivered_at(self) -> datetime | None: ...


class CaseBook(Protocol):
    def get(self, case_id: str) -> CaseRow | None: ...

    def add(self, case: Case, event_id: str, camera_id: str) -> CaseRow:
        """Store a new case; the one already stored if another consumer stored it first."""
        ...

    def update(self, case_id: str, add_attempts: int = 0, **values: object) -> None:
        """Count delivery attempts and set the case's progress columns."""
        ...

    def review_gate(self, event_id: str, camera_id: str, signed_json: str) -> str | None:
        """Why the violation waits for an operator (registry/review.py), or None to go on."""
        ...

    def undelivered(self) -> list[CaseRow]:
        """Enforceable cases published but not delivered yet, oldest first."""
        ...

    def withdrawn(self, event_id: str) -> bool:
        """True when an operator withdrew the violation."""
        ...
