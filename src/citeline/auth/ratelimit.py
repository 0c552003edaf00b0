"""Rate limits per API key (or per user for access tokens), one per route class, via `limits`.

The in-memory store counts per process; `CITELINE_RATE_LIMIT_STORAGE=redis://host:port` shares the
counters, so a limit holds across every API process. With auth off nothing is limited (one local user).
"""

from __future__ import annotations

import math
import time

from fastapi.concurrency import run_in_threadpool
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from citeline.auth.principal import Principal
from citeline.core.errors import RateLimitedError


class RateLimiter:
    def __init__(
        self, limits: dict[str, str], storage_url: str = "memory://", *, enabled: bool = True
    ) -> None:
        self.items: dict[str, RateLimitItem] = {kind: parse(spec) for kind, spec in limits.items()}
        self.enabled = enabled
        self.remote = not storage_url.startswith("memory://")  # a network call: keep it off the event loop
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    async def ahit(self, kind: str, principal: Principal) -> None:
        """``hit`` from async code: on the event loop for the in-memory counter, in a worker thread
        when the counter is remote (a network call)."""
        if self.remote:
            await run_in_threadpool(self.hit, kind, principal)
        else:
            self.hit(kind, principal)

    def hit(self, kind: str, principal: Principal) -> None:
        """Count one call of ``kind``; 429 with Retry-After once the caller is over the limit."""
        if not self.enabled:
            return
        item = self.items[kind]
        if self._limiter.hit(item, kind, principal.limit_key):
            return
        reset = self._limiter.get_window_stats(item, kind, principal.limit_key).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        raise RateLimitedError(
            f"Rate limit of {item} for {kind} exceeded; retry in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
