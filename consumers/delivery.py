"""HTTP delivery of cases to a downstream enforcement system.

POST the case as JSON with ``Idempotency-Key: <case id>``. 2xx means accepted; 409 means the
receiver already holds that key (we crashed between its answer and our record of it), which
is also delivered. Connection errors, timeouts, 429 and 5xx are retried with exponential
backoff and full jitter; any other answer is a refusal that retrying cannot fix.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from consumers.loop import PoisonMessage
from contract.cases import CASE_SCHEMA_VERSION, Case
from dozor.settings import Settings

log = logging.getLogger(__name__)

_RETRYABLE = frozenset({429, 500, 502, 503, 504})


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


def backoff_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(cap_s, base_s * 2**attempt))


def _retry_after(response: httpx.Response, cap_s: float) -> float | None:
    value = response.headers.get("retry-after", "")
    return min(cap_s, float(value)) if value.isdigit() else None


class CaseDelivery:
    def __init__(
        self,
        settings: Settings,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.enforcement_endpoint:
            raise ValueError("DOZOR_ENFORCEMENT_ENDPOINT is not set")
        self.endpoint = settings.enforcement_endpoint
        self.attempts = settings.delivery_attempts
        self.base_s = settings.delivery_backoff_s
        self.cap_s = settings.delivery_backoff_max_s
        self.sleep = sleep
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

    def close(self) -> None:
        self.client.close()
