import random

from dozor.backoff import backoff_cap, backoff_delay


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(a, 0.5, 30, rng) for a in range(10)]
    for attempt, delay in enumerate(delays):
        cap = min(30, 0.5 * 2**attempt)
        assert cap / 2 <= delay <= cap
    assert len({round(backoff_delay(3, 0.5, 30, rng), 6) for _ in range(20)}) > 1


def test_the_cap_doubles_per_failure_and_stops_at_the_maximum() -> None:
    assert [backoff_cap(a, 0.5, 3.0) for a in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_the_shared_generator_spreads_retries() -> None:
    delays = [backoff_delay(10, 0.5, 30) for _ in range(200)]
    assert max(delays) <= 30 and min(delays) >= 15
    assert len(set(delays)) > 100
