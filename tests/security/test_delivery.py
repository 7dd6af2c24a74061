"""Delivery refusals a fix cures stay retryable, with an alert metric; a stop request ends a
backoff wait instead of sleeping it out."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from consumers.delivery import REFUSED, CaseDelivery, DeliveryUnavailable
from consumers.enforcement import EnforcementConsumer
from consumers.loop import PoisonMessage, permanent_reason
from dozor.settings import Settings
from registry.case_book import StoredCase
from tests.unit.test_cases import sample_case


def _delivery(status: int, seen: threading.Event, **values: object) -> CaseDelivery:
    def respond(request: httpx.Request) -> httpx.Response:
        seen.set()
        return httpx.Response(status, text="no")

    settings = Settings(enforcement_endpoint="http://receiver.test/cases", **values)  # type: ignore[arg-type]
    return CaseDelivery(settings, client=httpx.Client(transport=httpx.MockTransport(respond)))


@pytest.mark.parametrize("status", [401, 403, 404])
def test_fixable_refusals_are_retryable_and_alert(status: int) -> None:
    before = REFUSED.labels(str(status))._value.get()
    d = _delivery(status, threading.Event())
    with pytest.raises(DeliveryUnavailable, match=str(status)) as info:
        d.deliver(sample_case())
    assert not isinstance(info.value, PoisonMessage)
    assert permanent_reason(info.value) is None  # the loop retries it, then the DLQ keeps it
    assert REFUSED.labels(str(status))._value.get() == before + 1


def test_a_stop_request_ends_the_backoff_wait() -> None:
    seen = threading.Event()
    # An hour between tries: only the interrupt can end the wait.
    d = _delivery(503, seen, delivery_backoff_s=3600, delivery_backoff_max_s=3600)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            d.deliver(sample_case())
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert seen.wait(30), "no delivery attempt"
    d.interrupt()
    worker.join(60)
    assert not worker.is_alive(), "the backoff wait ignored the stop request"
    assert isinstance(outcome[0], DeliveryUnavailable) and "stopped" in str(outcome[0])


@dataclass
class Book:
    """The case book's undelivered cases and what the redelivery records."""

    rows: list[StoredCase]
    updates: dict[str, dict[str, object]] = field(default_factory=dict)

    def undelivered(self) -> list[StoredCase]:
        return list(self.rows)

    def withdrawn(self, event_id: str) -> bool:
        return False

    def update(self, case_id: str, add_attempts: int = 0, **values: object) -> None:
        self.updates.setdefault(case_id, {}).update(values)


def test_cases_refused_before_a_fix_are_redelivered_after_it() -> None:
    case = sample_case()
    row = StoredCase(
        case.case_id,
        "VLG-ENF-001",
        True,
        None,
        case.model_dump(mode="json"),
        datetime.now(UTC),
        None,
    )
    book = Book([row])
    answers = iter([401, 201])
    d = CaseDelivery(
        Settings(enforcement_endpoint="http://receiver.test/cases"),
        client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(next(answers)))),
    )
    consumer = EnforcementConsumer(
        Settings(),
        cases=book,
        store=object(),
        verifier=object(),
        delivery=d,  # type: ignore[arg-type]
    )
    assert consumer.redeliver() == (0, 1)  # the token is still wrong
    assert book.updates[case.case_id]["last_error"]
    assert consumer.redeliver() == (1, 0)  # fixed: delivered
    assert book.updates[case.case_id]["delivered_at"] is not None
