"""One-time tickets for Server-Sent Events streams.

EventSource cannot send an Authorization header, and an access token must never go in a
URL (it would end up in access logs and browser history). So the client exchanges its
access token for a ticket (POST /api/realtime/ticket, with the Bearer header) and opens
the stream with `?ticket=`: a random value, valid for SSE_TICKET_TTL_SECONDS and for one
stream only. Only its SHA-256 is stored: in Redis (`GETDEL`, atomic, shared by every
worker) when REDIS_URL is set, else in this process.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from typing import Protocol

from redis import Redis


@dataclass(frozen=True)
class Ticket:
    """Whom a ticket was issued to: the user, the login, and when the access token expires."""

    user_id: int
    family_id: str
    access_expires_at: float


class TicketStore(Protocol):
    def issue(self, ticket: Ticket, ttl_seconds: int) -> str: ...

    def redeem(self, value: str) -> Ticket | None:
        """The ticket's holder, once: None for an unknown, expired or already used ticket."""
        ...


def _key(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class MemoryTicketStore:
    # Past this many tickets, expired ones are swept.
    SWEEP_ABOVE = 10_000

    def __init__(self) -> None:
        self._tickets: dict[str, tuple[Ticket, float]] = {}
        self._lock = threading.Lock()

    def issue(self, ticket: Ticket, ttl_seconds: int) -> str:
        value = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            if len(self._tickets) > self.SWEEP_ABOVE:
                for key in [k for k, (_, until) in self._tickets.items() if until <= now]:
                    del self._tickets[key]
            self._tickets[_key(value)] = (ticket, now + ttl_seconds)
        return value

    def redeem(self, value: str) -> Ticket | None:
        with self._lock:
            found = self._tickets.pop(_key(value), None)
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]


class RedisTicketStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:sse-ticket:"

    def issue(self, ticket: Ticket, ttl_seconds: int) -> str:
        value = secrets.token_urlsafe(32)
        self.redis.set(self.prefix + _key(value), json.dumps(asdict(ticket)), ex=ttl_seconds)
        return value

    def redeem(self, value: str) -> Ticket | None:
        raw = self.redis.getdel(self.prefix + _key(value))
        if raw is None:
            return None
        return Ticket(**json.loads(raw))


def create_ticket_store(redis: Redis | None, prefix: str) -> TicketStore:
    if redis is not None:
        return RedisTicketStore(redis, prefix)
    return MemoryTicketStore()
