"""In-process rate limit of login and credential attempts, with lock-out after repeated failures.

Failures are counted per key (a user name, a client address) in a sliding window; when a key reaches its limit it
is locked out for a while, whatever the password. In-process means per API instance: several instances behind a
load balancer each count on their own (documented in docs/SECURITY.md).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

Clock = Callable[[], float]
"""Monotonic seconds; ``time.monotonic`` in production, a settable fake in tests."""


class LimitPolicy(BaseModel):
    """How many failures a key may have in ``window_s`` before it is locked out for ``lockout_s``."""

    max_failures: int = Field(default=5, ge=1)
    window_s: float = Field(default=300.0, gt=0)
    lockout_s: float = Field(default=900.0, gt=0)


@dataclass
class _State:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class AttemptLimiter:
    """Counts failures per key; ``locked(keys)`` says how long until the first locked key may try again."""

    MAX_KEYS = 100_000  # bound the memory a flood of distinct names could take

    def __init__(self, policy: LimitPolicy | None = None, clock: Clock = time.monotonic) -> None:
        self.policy = policy or LimitPolicy()
        self.clock = clock
        self._keys: dict[str, _State] = {}

    def locked(self, keys: Iterable[str]) -> float | None:
        """Seconds left of the longest lock-out among ``keys``, or None when none is locked."""
        now = self.clock()
        left = [s.locked_until - now for k in keys if (s := self._keys.get(k)) and s.locked_until > now]
        return max(left) if left else None

    def failure(self, keys: Iterable[str]) -> None:
        """Record a failed attempt for each key; a key reaching the limit is locked out."""
        now = self.clock()
        for key in keys:
            state = self._keys.get(key)
            if state is None:
                if len(self._keys) >= self.MAX_KEYS:
                    self._prune(now)
                state = self._keys[key] = _State()
            while state.failures and state.failures[0] <= now - self.policy.window_s:
                state.failures.popleft()
            state.failures.append(now)
            if len(state.failures) >= self.policy.max_failures:
                state.locked_until = now + self.policy.lockout_s
                state.failures.clear()

    def success(self, keys: Iterable[str]) -> None:
        """Forget the failures of ``keys`` (a correct login resets the user's count, not an active lock-out)."""
        now = self.clock()
        for key in keys:
            state = self._keys.get(key)
            if state is not None and state.locked_until <= now:
                del self._keys[key]

    def _prune(self, now: float) -> None:
        stale = [
            k
            for k, s in self._keys.items()
            if s.locked_until <= now and (not s.failures or s.failures[-1] <= now - self.policy.window_s)
        ]
        for key in stale:
            del self._keys[key]
        if len(self._keys) >= self.MAX_KEYS:  # still full of live entries: drop the oldest half
            for key in list(self._keys)[: self.MAX_KEYS // 2]:
                del self._keys[key]
