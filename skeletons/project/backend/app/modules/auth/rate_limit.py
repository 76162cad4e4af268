"""Failed-login limiter: after LOGIN_RATE_LIMIT failures within
LOGIN_RATE_WINDOW_SECONDS for one (client address, e-mail), login answers 429.

In memory for a single process; in Redis (shared by every worker) when
REDIS_URL is set.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Protocol

from redis.asyncio import Redis

from app.config import Settings


class LoginLimiter(Protocol):
    async def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may try now."""
        ...

    async def record_failure(self, key: str) -> None: ...

    async def reset(self, key: str) -> None: ...


class MemoryLoginLimiter:
    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return deque()
        return failures

    async def retry_after(self, key: str) -> int:
        now = time.monotonic()
        failures = self._prune(key, now)
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[0] + self.window - now))

    async def record_failure(self, key: str) -> None:
        now = time.monotonic()
        self._prune(key, now)
        self._failures.setdefault(key, deque()).append(now)

    async def reset(self, key: str) -> None:
        self._failures.pop(key, None)


class RedisLoginLimiter:
    """A fixed window per key: INCR, with the expiry set by the first failure."""

    def __init__(self, redis: Redis, prefix: str, limit: int, window_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:login-failures:"
        self.limit = limit
        self.window = window_seconds

    async def retry_after(self, key: str) -> int:
        count = await self.redis.get(self.prefix + key)
        if count is None or int(count) < self.limit:
            return 0
        ttl = await self.redis.ttl(self.prefix + key)
        return max(1, int(ttl))

    async def record_failure(self, key: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self.prefix + key)
            pipe.expire(self.prefix + key, self.window, nx=True)
            await pipe.execute()

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)


def create_login_limiter(settings: Settings, redis: Redis | None) -> LoginLimiter:
    if redis is not None:
        return RedisLoginLimiter(
            redis, settings.redis_prefix, settings.login_rate_limit, settings.login_rate_window_seconds
        )
    return MemoryLoginLimiter(settings.login_rate_limit, settings.login_rate_window_seconds)
