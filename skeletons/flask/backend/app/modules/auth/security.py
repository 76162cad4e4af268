"""Password hashing (argon2id) and JWT encoding/decoding (HS256)."""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal, TypeVar

import argon2
import jwt

T = TypeVar("T")

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]


class HasherBusyError(Exception):
    """Every hashing slot stayed taken for the whole queue wait: the caller answers 503."""


class PasswordHasher:
    """argon2id hashing, off the request's greenlet when gevent serves the app.

    Each hash costs `memory_kib` of memory and a core for a while, so at most
    `concurrency` run at once (one per core by default). A caller waits at most
    `queue_seconds` for a slot, then gets HasherBusyError instead of piling up:
    a flood of logins or registrations is answered fast, and /health and the
    rest of the API keep their cores. Under gunicorn's gevent workers the hash runs
    in gevent's pool of native threads (argon2 releases the GIL), so the other
    greenlets of the worker (requests, SSE streams) go on meanwhile.
    """

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_kib: int = 65536,
        concurrency: int = 1,
        queue_seconds: float = 2.0,
    ) -> None:
        self._hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._dummy_hash: str | None = None
        self.concurrency = max(1, concurrency)
        self.queue_seconds = queue_seconds
        self._slots = threading.BoundedSemaphore(self.concurrency)

    def _run(self, work: Callable[[], T]) -> T:
        if not self._slots.acquire(timeout=self.queue_seconds):
            raise HasherBusyError()
        try:
            return _off_the_hub(work)
        finally:
            self._slots.release()

    @property
    def busy(self) -> bool:
        """Every slot is taken right now."""
        if self._slots.acquire(blocking=False):
            self._slots.release()
            return False
        return True

    def hash(self, password: str) -> str:
        return self._run(lambda: self._hasher.hash(password))

    def verify(self, password_hash: str, password: str) -> bool:
        def _verify() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
                return False

        return self._run(_verify)

    def verify_dummy(self, password: str) -> None:
        """Spend as long as a real check, so an unknown e-mail is not told apart by timing."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def _off_the_hub(work: Callable[[], T]) -> T:
    """Run CPU-bound work in gevent's native thread pool when gevent patched this process."""
    try:
        from gevent import monkey
    except ImportError:
        return work()
    if not monkey.is_module_patched("threading"):
        return work()
    import gevent

    return gevent.get_hub().threadpool.apply(work)


class TokenError(Exception):
    """A token that must not be accepted (bad signature, expired, wrong type...)."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


def hash_token(token: str) -> str:
    """What the database stores instead of a refresh token."""
    return hashlib.sha256(token.encode()).hexdigest()


def encode_token(
    *,
    secret: str,
    subject: int,
    token_type: TokenType,
    ttl_seconds: int,
    extra: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    now = now or datetime.now(UTC)
    expires_at = now + timedelta(seconds=ttl_seconds)
    jti = uuid.uuid4().hex
    claims: dict[str, Any] = {
        "sub": str(subject),
        "type": token_type,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": jti,
        **(extra or {}),
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), jti, expires_at)


def decode_token(
    token: str,
    *,
    secret: str,
    expected_type: TokenType,
    verify_exp: bool = True,
) -> dict[str, Any]:
    """The verified claims of `token`, or TokenError.

    Only HS256 is accepted (so `alg: none` and algorithm confusion fail), and
    `exp`, `iat`, `sub` and `type` must all be present. The expiry is checked on
    every call; the signature check of a token already verified with this secret
    is remembered (see `_verified_claims`).
    """
    claims = dict(_verified_claims(token, secret))
    if verify_exp:
        exp = claims["exp"]
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise TokenError("Invalid token")
        if exp <= time.time():
            raise TokenError("Token has expired")
    if claims.get("type") != expected_type:
        raise TokenError("Invalid token type")
    try:
        int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise TokenError("Invalid token subject") from exc
    return claims


@functools.lru_cache(maxsize=4096)
def _verified_claims(token: str, secret: str) -> Mapping[str, Any]:
    """The claims of a token whose signature and required claims check out (expiry aside).

    Every authenticated request verifies its access token: decoding and checking it
    costs ~0.1 ms of CPU (PyJWT checks the base64 alphabet character by character),
    a few percent of a list request. Only tokens that verified are remembered (an
    exception is never cached), keyed by the token *and* the secret, so a new secret
    trusts nothing verified with the old one; revocation is checked in the database
    on every request all the same. The mapping is read-only: callers get a copy.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "type"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise TokenError("Invalid token") from exc
    return MappingProxyType(claims)
