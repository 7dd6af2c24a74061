"""HTTP delivery of cases to a downstream enforcement system.

POST the case as JSON with ``Idempotency-Key: <case id>``. 2xx means accepted; 409 means the
receiver already holds that key (we crashed between its answer and our record of it), which
is also delivered. Connection errors, timeouts, 429 and 5xx are retried with exponential
backoff and jitter (dozor.backoff). 401, 403 and 404 are refusals a fix on either side cures
(a rotated token, a moved endpoint): they count on an alert metric and the case stays
retryable (the consumer's bounded retries, then the DLQ and ``dozor dlq replay``). Any other
answer is a refusal that retrying cannot fix. A stop request (SIGTERM) ends a backoff wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client import Counter

from consumers.loop import PoisonMessage
from contract.cases import CASE_SCHEMA_VERSION, Case
from dozor.backoff import backoff_delay
from dozor.settings import Settings

log = logging.getLogger(__name__)

_RETRYABLE = frozenset({429, 500, 502, 503, 504})
# Refusals a configuration fix cures: alert, keep the case, try again later.
_FIXABLE = frozenset({401, 403, 404})

REFUSED = Counter(
    "dozor_delivery_refused_total",
    "Cases the enforcement endpoint refused with 401, 403 or 404 (kept for retry)",
    ["status"],
)


class DeliveryRefused(PoisonMessage):
    """The endpoint rejected the case (4xx other than 409/429): retrying will not help."""


class DeliveryUnavailable(RuntimeError):
    """Every attempt of this try failed transiently; the consumer retries the message later."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


@dataclass(frozen=True)
class Delivered:
    status: int
    attempts: int


def _retry_after(response: httpx.Response, cap_s: float) -> float | None:
    value = response.headers.get("retry-after", "")
    return min(cap_s, float(value)) if value.isdigit() else None


class CaseDelivery:
    def __init__(
        self,
        settings: Settings,
        client: httpx.Client | None = None,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if not settings.enforcement_endpoint:
            raise ValueError("DOZOR_ENFORCEMENT_ENDPOINT is not set")
        self.endpoint = settings.enforcement_endpoint
        self.attempts = settings.delivery_attempts
        self.base_s = settings.delivery_backoff_s
        self.cap_s = settings.delivery_backoff_max_s
        self._stop = threading.Event()
        self.sleep = sleep or self._stop.wait
        headers = {
            "Content-Type": "application/json",
            "X-Dozor-Case-Schema": CASE_SCHEMA_VERSION,
        }
        if settings.enforcement_token is not None:
            headers["Authorization"] = f"Bearer {settings.enforcement_token.get_secret_value()}"
        self.client = client or httpx.Client(timeout=settings.delivery_timeout_s)
        self.headers = headers

    def deliver(self, case: Case) -> Delivered:
        body = case.model_dump_json().encode()
        headers = {**self.headers, "Idempotency-Key": case.case_id}
        last = ""
        for attempt in range(self.attempts):
            try:
                response = self.client.post(self.endpoint, content=body, headers=headers)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                delay = backoff_delay(attempt, self.base_s, self.cap_s)
            else:
                if response.is_success or response.status_code == 409:
                    return Delivered(response.status_code, attempt + 1)
                if response.status_code in _FIXABLE:
                    REFUSED.labels(str(response.status_code)).inc()
                    raise DeliveryUnavailable(
                        f"case {case.case_id}: endpoint answered {response.status_code} "
                        "(check DOZOR_ENFORCEMENT_ENDPOINT and DOZOR_ENFORCEMENT_TOKEN)",
                        attempt + 1,
                    )
                if response.status_code not in _RETRYABLE:
                    raise DeliveryRefused(
                        f"case {case.case_id}: endpoint answered {response.status_code}: "
                        f"{response.text[:200]}"
                    )
                last = f"HTTP {response.status_code}"
                delay = _retry_after(response, self.cap_s) or backoff_delay(
                    attempt, self.base_s, self.cap_s
                )
            if attempt + 1 < self.attempts:
                self.sleep(delay)
                if self._stop.is_set():
                    raise DeliveryUnavailable(
                        f"case {case.case_id}: stopped while waiting to retry ({last})",
                        attempt + 1,
                    )
        log.warning(
            "delivery failed %d times (%s)",
            self.attempts,
            last,
            extra={"camera_id": case.location.camera_id, "event_id": case.event_id},
        )
        raise DeliveryUnavailable(
            f"case {case.case_id}: not delivered after {self.attempts} attempts ({last})",
            self.attempts,
        )

    def interrupt(self) -> None:
        """End a backoff wait now (from a signal handler): the case stays to be retried."""
        self._stop.set()

    def close(self) -> None:
        self.client.close()
