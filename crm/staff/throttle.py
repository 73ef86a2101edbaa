"""Failed sign-ins per (email, client address), counted in a sliding window.

The store is this process's memory, on purpose: no table and no migration for a
counter that may be lost on restart. With several workers each one throttles on
its own, so a client spread over N workers gets up to N x `max_failures` tries
per window; put a shared limiter (proxy, Redis) in front when that matters.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60
MAX_KEYS = 10_000

Key = tuple[str, str]


class SignInThrottle:
    """At most `max_failures` failed sign-ins per key in `window` seconds.

    Memory is bounded: past `max_keys` keys the least recently used is forgotten.
    """

    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._failures: OrderedDict[Key, deque[float]] = OrderedDict()

    @staticmethod
    def key(email: object, client: str | None) -> Key:
        text = email.strip().lower()[:320] if isinstance(email, str) else ""
        return text, client or ""

    def retry_after(self, key: Key) -> int | None:
        """Seconds until `key` may try again, or None when it may try now."""
        failures = self._recent(key)
        if failures is None or len(failures) < self.max_failures:
            return None
        return max(1, math.ceil(failures[0] + self.window - self.clock()))

    def failed(self, key: Key) -> None:
        failures = self._recent(key)
        if failures is None:
            failures = self._failures[key] = deque()
        failures.append(self.clock())
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, key: Key) -> None:
        self._failures.pop(key, None)

    def clear(self) -> None:
        self._failures.clear()

    def _recent(self, key: Key) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures


sign_in_throttle = SignInThrottle()
