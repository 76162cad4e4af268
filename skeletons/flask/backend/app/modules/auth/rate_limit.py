"""Failed-login limiter, counted per (client address, e-mail) and per client address;
registrations are counted per client address with the same machinery.

After LOGIN_RATE_LIMIT failures for one (address, e-mail), or LOGIN_ADDRESS_RATE_LIMIT
failures from one address whatever the e-mails, within LOGIN_RATE_WINDOW_SECONDS,
login answers 429 until the window passes.

Every attempt *reserves* its failure atomically before the password is hashed, so
a burst of simultaneous guesses cannot all slip through between a check and a
later count: once the reservations reach a limit, further attempts are refused
at once (without hashing, and without being counted). A successful login gives
its reservations back and clears the (address, e-mail) count.

In memory for a single process; in Redis (shared by every worker, one Lua script
per attempt, atomic) when REDIS_URL is set.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from redis import Redis

from app.config import Settings


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int


@dataclass(frozen=True)
class Reservation:
    """What an admitted attempt holds: one count on each limit (released on success)."""

    limits: tuple[Limit, ...]
    stamp: float = 0.0


class LoginLimiter(Protocol):
    def reserve(self, limits: Sequence[Limit]) -> Reservation | int:
        """Count one attempt on every limit, or return the seconds to wait (nothing counted)."""
        ...

    def succeeded(self, reservation: Reservation) -> None:
        """The attempt succeeded: give its counts back and clear the first (per-account) limit."""
        ...

    def release(self, reservation: Reservation) -> None:
        """The attempt did not happen (the server was busy): give its counts back."""
        ...


def login_limits(settings: Settings, client: str, email: str) -> tuple[Limit, ...]:
    """The per-account limit first (cleared by a success), then the per-address one."""
    return (
        Limit(f"account:{client}|{email}", settings.login_rate_limit),
        Limit(f"address:{client}", settings.login_address_rate_limit),
    )


def register_limits(settings: Settings, client: str) -> tuple[Limit, ...]:
    """Registrations from one client address (counted whatever their outcome)."""
    return (Limit(f"register:{client}", settings.register_rate_limit),)


class MemoryLoginLimiter:
    """Sliding window in this process. Check and count happen under one lock (threads, greenlets)."""

    # Past this many keys, expired ones are swept (a flood from many addresses stays bounded).
    SWEEP_ABOVE = 10_000

    def __init__(self, window_seconds: int) -> None:
        self.window = window_seconds
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float] | None:
        attempts = self._attempts.get(key)
        if attempts is None:
            return None
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        if not attempts:
            del self._attempts[key]
            return None
        return attempts

    def reserve(self, limits: Sequence[Limit]) -> Reservation | int:
        with self._lock:
            return self._reserve(limits)

    def _reserve(self, limits: Sequence[Limit]) -> Reservation | int:
        now = time.monotonic()
        if len(self._attempts) > self.SWEEP_ABOVE:
            for key in list(self._attempts):
                self._live(key, now)
        wait = 0
        for limit in limits:
            attempts = self._live(limit.key, now)
            if attempts is not None and len(attempts) >= limit.limit:
                # Free once enough of the oldest failures leave the window.
                oldest = attempts[len(attempts) - limit.limit]
                wait = max(wait, max(1, math.ceil(oldest + self.window - now)))
        if wait:
            return wait
        for limit in limits:
            self._attempts.setdefault(limit.key, deque()).append(now)
        return Reservation(tuple(limits), now)

    def succeeded(self, reservation: Reservation) -> None:
        with self._lock:
            self._attempts.pop(reservation.limits[0].key, None)
            self._release(reservation)

    def release(self, reservation: Reservation) -> None:
        with self._lock:
            self._release(reservation)

    def _release(self, reservation: Reservation) -> None:
        for limit in reservation.limits:
            attempts = self._attempts.get(limit.key)
            if attempts is None:
                continue
            try:
                attempts.remove(reservation.stamp)
            except ValueError:
                pass
            if not attempts:
                del self._attempts[limit.key]


# KEYS: the counters; ARGV: the window, then one limit per key. Returns 0 when admitted
# (every counter incremented, a new one expiring after the window), else the seconds until
# the fullest counter expires (nothing incremented).
_RESERVE = """
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then
      redis.call('EXPIRE', key, ARGV[1])
      ttl = tonumber(ARGV[1])
    end
    return ttl
  end
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then
    redis.call('EXPIRE', key, ARGV[1])
  end
end
return 0
"""

# KEYS: the counters, decremented (never below 0); ARGV[1] == '1': delete the first instead.
_RELEASE = """
local first = 1
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
  first = 2
end
for i = first, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
    redis.call('DECR', KEYS[i])
  end
end
return 0
"""


class RedisLoginLimiter:
    """A fixed window per key, shared by every worker; each call is one atomic Lua script."""

    def __init__(self, redis: Redis, prefix: str, window_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:login-failures:"
        self.window = window_seconds
        self._reserve = redis.register_script(_RESERVE)
        self._release = redis.register_script(_RELEASE)

    def reserve(self, limits: Sequence[Limit]) -> Reservation | int:
        keys = [self.prefix + limit.key for limit in limits]
        wait = int(self._reserve(keys=keys, args=[self.window, *(limit.limit for limit in limits)]))
        if wait:
            return max(1, wait)
        return Reservation(tuple(limits))

    def _keys(self, reservation: Reservation) -> list[str]:
        return [self.prefix + limit.key for limit in reservation.limits]

    def succeeded(self, reservation: Reservation) -> None:
        self._release(keys=self._keys(reservation), args=["1"])

    def release(self, reservation: Reservation) -> None:
        self._release(keys=self._keys(reservation), args=["0"])


def create_login_limiter(settings: Settings, redis: Redis | None) -> LoginLimiter:
    if redis is not None:
        return RedisLoginLimiter(redis, settings.redis_prefix, settings.login_rate_window_seconds)
    return MemoryLoginLimiter(settings.login_rate_window_seconds)
