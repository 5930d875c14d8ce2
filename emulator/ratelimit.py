"""The `/v1` rate limit (contract §1.7): a token bucket per access token id.

FastPix publishes no numbers, so the rate is ours to set (`--rate-limit N`, or the control API's settings):
N requests per second, bursts of up to N. Over the limit, the gateway answers 429 with the contract's body
and `Retry-After` in whole seconds (at least 1).
"""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # token id → (tokens left, when counted)

    def take(self, key: str, rate: float) -> int | None:
        """Spend one request of `key`'s bucket. None when allowed; else the seconds until one is free."""
        if rate <= 0:
            return None
        capacity = max(1.0, rate)
        now = time.monotonic()
        with self._lock:
            tokens, counted = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - counted) * rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / rate))

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()
