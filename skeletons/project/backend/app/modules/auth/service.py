"""Auth business logic: no HTTP here, only users, passwords and tokens."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.exceptions import ConflictError, RateLimitedError, UnauthorizedError
from app.config import Settings
from app.database import Database
from app.modules.auth.dtos import AuthResponse, LoginRequest, RegisterRequest, TokenPair, UserResponse
from app.modules.auth.models import RefreshToken, User
from app.modules.auth.rate_limit import LoginLimiter
from app.modules.auth.repository import RefreshTokenRepository, UserRepository
from app.modules.auth.security import (
    PasswordHasher,
    TokenError,
    TokenType,
    decode_token,
    encode_token,
    hash_token,
)

log = logging.getLogger(__name__)


class AuthService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        hasher: PasswordHasher,
        limiter: LoginLimiter,
    ) -> None:
        self.db = db
        self.settings = settings
        self.hasher = hasher
        self.limiter = limiter

    @property
    def _secret(self) -> str:
        assert self.settings.jwt_secret, "Settings.validate() guarantees a secret"
        return self.settings.jwt_secret

    # -- registration and login -------------------------------------------

    async def register(self, data: RegisterRequest) -> AuthResponse:
        email = data.email.strip().lower()
        password_hash = await self.hasher.hash(data.password)
        try:
            async with self.db.transaction() as session:
                users = UserRepository(session)
                if await users.get_by_email(email) is not None:
                    raise ConflictError("An account with this e-mail already exists")
                user = await users.add(
                    User(email=email, password_hash=password_hash, display_name=data.display_name)
                )
                pair = await self._issue_pair(session, user.id, family_id=uuid.uuid4().hex)
        except IntegrityError as exc:  # two registrations racing for one e-mail
            raise ConflictError("An account with this e-mail already exists") from exc
        return AuthResponse(**pair.model_dump(), user=UserResponse.model_validate(user))

    async def login(self, data: LoginRequest, client: str) -> AuthResponse:
        email = data.email.strip().lower()
        key = f"{client}|{email}"
        retry_after = await self.limiter.retry_after(key)
        if retry_after:
            raise RateLimitedError("Too many failed logins; try again later", retry_after=retry_after)

        pair: TokenPair | None = None
        async with self.db.transaction() as session:
            user = await UserRepository(session).get_by_email(email)
            if user is None:
                await self.hasher.verify_dummy(data.password)
            elif await self.hasher.verify(user.password_hash, data.password):
                if self.hasher.needs_rehash(user.password_hash):
                    user.password_hash = await self.hasher.hash(data.password)
                pair = await self._issue_pair(session, user.id, family_id=uuid.uuid4().hex)

        if user is None or pair is None:
            await self.limiter.record_failure(key)
            raise UnauthorizedError("Invalid e-mail or password")
        await self.limiter.reset(key)
        return AuthResponse(**pair.model_dump(), user=UserResponse.model_validate(user))

    # -- tokens -----------------------------------------------------------

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is used up and a new pair is returned.

        A token presented a second time was stolen or replayed: its whole family
        (every token descending from the same login) is revoked.
        """
        claims = self._decode(refresh_token, "refresh")
        now = datetime.now(UTC)
        reuse_detected = False
        pair: TokenPair | None = None
        async with self.db.transaction() as session:
            tokens = RefreshTokenRepository(session)
            stored = await tokens.get_by_hash(hash_token(refresh_token))
            if stored is None or str(stored.user_id) != claims["sub"]:
                raise UnauthorizedError("Invalid refresh token")
            if stored.revoked_at is not None or not await tokens.consume(stored.id, now):
                revoked = await tokens.revoke_family(stored.family_id, now)
                log.warning(
                    "refresh token reuse for user %s: family %s revoked (%d live tokens)",
                    stored.user_id,
                    stored.family_id,
                    revoked,
                )
                reuse_detected = True
            elif stored.expires_at <= now:
                raise UnauthorizedError("Refresh token has expired")
            else:
                pair = await self._issue_pair(session, stored.user_id, family_id=stored.family_id)
        # Raised after the transaction so the family revocation is committed.
        if reuse_detected or pair is None:
            raise UnauthorizedError("Refresh token has already been used; please log in again")
        return pair

    async def logout(self, refresh_token: str) -> None:
        """Revoke the refresh token's whole family (an expired token still logs out)."""
        self._decode(refresh_token, "refresh", verify_exp=False)
        async with self.db.transaction() as session:
            tokens = RefreshTokenRepository(session)
            stored = await tokens.get_by_hash(hash_token(refresh_token))
            if stored is not None:
                await tokens.revoke_family(stored.family_id, datetime.now(UTC))

    async def authenticate(self, access_token: str) -> User:
        """The user an access token belongs to, or UnauthorizedError."""
        claims = self._decode(access_token, "access")
        # One primary-key read on every authenticated request: no transaction around it.
        async with self.db.read() as session:
            user = await UserRepository(session).get(int(claims["sub"]))
        if user is None:
            raise UnauthorizedError("Invalid token")
        return user

    # -- helpers ----------------------------------------------------------

    def _decode(self, token: str, expected_type: TokenType, *, verify_exp: bool = True) -> dict[str, Any]:
        try:
            return decode_token(
                token, secret=self._secret, expected_type=expected_type, verify_exp=verify_exp
            )
        except TokenError as exc:
            raise UnauthorizedError(str(exc)) from exc

    async def _issue_pair(self, session: AsyncSession, user_id: int, *, family_id: str) -> TokenPair:
        access = encode_token(
            secret=self._secret,
            subject=user_id,
            token_type="access",
            ttl_seconds=self.settings.access_token_ttl_seconds,
        )
        refresh = encode_token(
            secret=self._secret,
            subject=user_id,
            token_type="refresh",
            ttl_seconds=self.settings.refresh_token_ttl_seconds,
            extra={"fam": family_id},
        )
        await RefreshTokenRepository(session).add(
            RefreshToken(
                user_id=user_id,
                family_id=family_id,
                token_hash=hash_token(refresh.token),
                expires_at=refresh.expires_at,
            )
        )
        return TokenPair(
            access_token=access.token,
            refresh_token=refresh.token,
            expires_in=self.settings.access_token_ttl_seconds,
        )
