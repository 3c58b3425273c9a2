"""The attempt limiter: failures in a sliding window lock a key out for a while; the clock is injected."""

from __future__ import annotations

from factorytwin.auth import AttemptLimiter, LimitPolicy
from tests.unit.auth.conftest import Clock


def limiter(clock: Clock) -> AttemptLimiter:
    """Three failures within 60 s lock out for 600 s."""
    return AttemptLimiter(LimitPolicy(max_failures=3, window_s=60, lockout_s=600), clock=clock.monotonic)


def test_the_third_failure_in_the_window_locks_the_key_out_for_the_lockout_time(clock: Clock) -> None:
    lim = limiter(clock)
    lim.failure(["user:a"])
    lim.failure(["user:a"])
    assert lim.locked(["user:a"]) is None
    lim.failure(["user:a"])
    assert lim.locked(["user:a"]) == 600
    assert lim.locked(["user:b"]) is None
    clock.advance(599)
    assert lim.locked(["user:b", "user:a"]) == 1
    clock.advance(1)
    assert lim.locked(["user:a"]) is None


def test_failures_older_than_the_window_do_not_count(clock: Clock) -> None:
    lim = limiter(clock)
    lim.failure(["k"])
    lim.failure(["k"])
    clock.advance(61)
    lim.failure(["k"])
    lim.failure(["k"])
    assert lim.locked(["k"]) is None
    lim.failure(["k"])
    assert lim.locked(["k"]) is not None


def test_a_success_resets_the_count_but_not_an_active_lockout(clock: Clock) -> None:
    lim = limiter(clock)
    lim.failure(["k"])
    lim.failure(["k"])
    lim.success(["k"])
    lim.failure(["k"])
    lim.failure(["k"])
    assert lim.locked(["k"]) is None
    lim.failure(["k"])
    lim.success(["k"])
    assert lim.locked(["k"]) == 600


def test_memory_stays_bounded_under_a_flood_of_distinct_keys(clock: Clock) -> None:
    lim = limiter(clock)
    lim.MAX_KEYS = 100
    for i in range(1000):
        lim.failure([f"user:{i}"])
    assert len(lim._keys) <= 100
