"""Exponential backoff, one formula for every retry: stream reconnects, case delivery, findings."""

from __future__ import annotations

import random

_RNG = random.Random()


def backoff_cap(attempt: int, initial_s: float, max_s: float) -> float:
    """The longest wait after ``attempt`` failures (0-based): doubles per failure, capped."""
    return min(max_s, initial_s * 2**attempt)


def backoff_delay(attempt: int, initial_s: float, max_s: float, rng: random.Random = _RNG) -> float:
    """A jittered wait drawn from the upper half of the cap, so retries spread out but the
    delay never collapses to zero."""
    cap = backoff_cap(attempt, initial_s, max_s)
    return rng.uniform(cap / 2, cap)
