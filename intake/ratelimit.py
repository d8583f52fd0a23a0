"""Rate limits with the `limits` library: how many login attempts, uploads … a client or an
account may make in a moving window.

Counts live in Redis, so every API process shares them and a hit is counted atomically
(a Lua script) before the work it guards is done: forty requests sent at once cannot all
slip through between a check and an increment. When Redis is unreachable the counts fall
back to this process's memory, so an outage neither opens the gate nor closes the service.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until one more is allowed (when not allowed)


class RateLimiter:
    """``hit("5/15 minutes", "login", client, name)`` counts one and says whether it is
    within the rate; the identifiers make the key (several limits may share a rate)."""

    def __init__(self, uri: str, key_prefix: str = "intake-limits") -> None:
        if uri.startswith(("redis://", "rediss://", "unix://")):
            primary: Storage = storage_from_string(uri, key_prefix=key_prefix, wrap_exceptions=True)
        else:
            primary = storage_from_string(uri)
        self._primary = MovingWindowRateLimiter(primary)
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        self.storage = primary

    def hit(self, rate: str, *identifiers: str) -> Verdict:
        item = _rate(rate)
        try:
            return self._verdict(self._primary, item, identifiers)
        except StorageError:
            log.warning("rate limit store unavailable; counting in this process for now")
            return self._verdict(self._fallback, item, identifiers)

    def clear(self, rate: str, *identifiers: str) -> None:
        item = _rate(rate)
        for limiter in (self._primary, self._fallback):
            try:
                limiter.clear(item, *identifiers)
            except StorageError:
                log.warning("rate limit store unavailable; a count was not cleared")

    def reset(self) -> None:
        """Forget every count under this limiter's key prefix (tests, an operator)."""
        try:
            self.storage.reset()
        except StorageError:
            log.warning("rate limit store unavailable; counts not reset")

    @staticmethod
    def _verdict(
        limiter: MovingWindowRateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]
    ) -> Verdict:
        if limiter.hit(item, *identifiers):
            return Verdict(True)
        reset_at, _ = limiter.get_window_stats(item, *identifiers)
        return Verdict(False, max(1, math.ceil(reset_at - time.time())))


@lru_cache(maxsize=64)
def _rate(rate: str) -> RateLimitItem:
    return parse(rate)


@lru_cache(maxsize=8)
def limiter_for(uri: str, key_prefix: str) -> RateLimiter:
    """One limiter per store and prefix in a process (its Redis connections are pooled)."""
    return RateLimiter(uri, key_prefix)
