"""Auth business logic: no HTTP here, only users, passwords and tokens."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.common.exceptions import (
    ConflictError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthorizedError,
    ValidationError,
)
from app.config import Settings
from app.database import Database
from app.modules.auth.dtos import AuthResponse, LoginRequest, RegisterRequest, TokenPair, UserResponse
from app.modules.auth.models import RefreshToken, User
from app.modules.auth.passwords import password_weakness
from app.modules.auth.rate_limit import LoginLimiter, login_limits, register_limits
from app.modules.auth.repository import RefreshTokenRepository, UserRepository
from app.modules.auth.security import (
    HasherBusyError,
    PasswordHasher,
    TokenError,
    TokenType,
    decode_token,
    encode_token,
    hash_token,
)

log = logging.getLogger(__name__)


# Called with a family id after its tokens were revoked (logout, reuse, a disabled user), once
# the revocation is committed: the realtime module closes the sockets opened with its tokens.
RevocationListener = Callable[[str], None]

HASHER_BUSY_MESSAGE = "Too many sign-ins are being checked right now; try again in a moment"


@dataclass(frozen=True)
class AuthSession:
    """Who an access token belongs to, and the login (refresh family) it came from."""

    user: User
    family_id: str
    expires_at: datetime


class AuthService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        hasher: PasswordHasher,
        limiter: LoginLimiter,
        on_revoked: RevocationListener | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.hasher = hasher
        self.limiter = limiter
        self.on_revoked = on_revoked

    @property
    def _secret(self) -> str:
        assert self.settings.jwt_secret, "Settings.validate() guarantees a secret"
        return self.settings.jwt_secret

    # -- registration and login -------------------------------------------

    def register(self, data: RegisterRequest, client: str) -> AuthResponse:
        email = data.email  # normalised by the DTO
        weakness = password_weakness(data.password, email=email, display_name=data.display_name)
        if weakness:
            raise ValidationError(
                weakness,
                {"fields": [{"loc": ["password"], "msg": weakness, "type": "password_too_weak"}]},
            )
        # Each registration hashes a password and adds an account: REGISTER_RATE_LIMIT per
        # address and window, reserved before the hash like a login attempt (never given back).
        reservation = self.limiter.reserve(register_limits(self.settings, client))
        if isinstance(reservation, int):
            raise RateLimitedError(
                f"Too many registrations from this address; try again in {reservation} s",
                retry_after=reservation,
            )
        try:
            password_hash = self.hasher.hash(data.password)
        except HasherBusyError:
            self.limiter.release(reservation)  # nothing was hashed
            raise ServiceUnavailableError(HASHER_BUSY_MESSAGE, retry_after=1) from None
        try:
            with self.db.transaction() as session:
                users = UserRepository(session)
                if users.get_by_email(email) is not None:
                    raise ConflictError("An account with this e-mail already exists")
                user = users.add(
                    User(email=email, password_hash=password_hash, display_name=data.display_name)
                )
                pair = self._issue_pair(session, user.id, family_id=uuid.uuid4().hex)
        except IntegrityError as exc:  # two registrations racing for one e-mail
            raise ConflictError("An account with this e-mail already exists") from exc
        return AuthResponse(**pair.model_dump(), user=UserResponse.model_validate(user))

    def login(self, data: LoginRequest, client: str) -> AuthResponse:
        email = data.email  # normalised by the DTO
        # The failure is counted *before* the password is checked, atomically: simultaneous
        # guesses cannot all pass a check that only a later failure would have closed.
        reservation = self.limiter.reserve(login_limits(self.settings, client, email))
        if isinstance(reservation, int):
            raise RateLimitedError(
                f"Too many failed logins; try again in {reservation} s", retry_after=reservation
            )

        # No transaction (nor pooled connection) is held while the password is hashed.
        try:
            with self.db.transaction() as session:
                user = UserRepository(session).get_by_email(email)
        except Exception:
            self.limiter.release(reservation)  # the database failed, not the password
            raise
        try:
            if user is None or not user.is_active:
                self.hasher.verify_dummy(data.password)
                valid = False
            else:
                valid = self.hasher.verify(user.password_hash, data.password)
            new_hash: str | None = None
            if valid and user is not None and self.hasher.needs_rehash(user.password_hash):
                new_hash = self.hasher.hash(data.password)
        except HasherBusyError:
            self.limiter.release(reservation)  # the attempt did not happen
            raise ServiceUnavailableError(HASHER_BUSY_MESSAGE, retry_after=1) from None
        if not valid or user is None:
            raise UnauthorizedError("Invalid e-mail or password")  # the reserved failure stays

        with self.db.transaction() as session:
            if new_hash is not None:
                UserRepository(session).set_password_hash(user.id, new_hash)
            pair = self._issue_pair(session, user.id, family_id=uuid.uuid4().hex)
        self.limiter.succeeded(reservation)
        return AuthResponse(**pair.model_dump(), user=UserResponse.model_validate(user))

    # -- tokens -----------------------------------------------------------

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is used up and a new pair is returned.

        A token presented a second time was stolen or replayed: its whole family
        (every token descending from the same login) is revoked. So is the family of
        a user who no longer exists or was deactivated.

        Except within REFRESH_REUSE_GRACE_SECONDS of its rotation, while the login is
        still live: a page reloaded while its refresh was in flight never stored the
        answer and presents the old token again (and tabs may race). It gets a new pair
        of the same login, as with Okta's and Auth0's reuse interval; a replay after
        the grace, or after a logout, still ends the login.
        """
        claims = self._decode(refresh_token, "refresh")
        now = datetime.now(UTC)
        revoked_family: str | None = None
        failure = "Refresh token has already been used; please log in again"
        pair: TokenPair | None = None
        with self.db.transaction() as session:
            tokens = RefreshTokenRepository(session)
            stored = tokens.get_by_hash(hash_token(refresh_token))
            if stored is None or str(stored.user_id) != claims["sub"]:
                raise UnauthorizedError("Invalid refresh token")
            user = UserRepository(session).get(stored.user_id)
            if user is None or not user.is_active:
                tokens.revoke_family(stored.family_id, now)
                revoked_family = stored.family_id
                failure = "This account is disabled"
            elif stored.revoked_at is None and tokens.consume(stored.id, now):
                if stored.expires_at <= now:
                    raise UnauthorizedError("Refresh token has expired")  # rolls the use back
                pair = self._issue_pair(session, stored.user_id, family_id=stored.family_id)
            elif stored.expires_at > now and self._within_reuse_grace(tokens, stored, now):
                log.info(
                    "refresh token of family %s presented again %s after its rotation: new pair",
                    stored.family_id,
                    now - (stored.revoked_at or now),
                )
                pair = self._issue_pair(session, stored.user_id, family_id=stored.family_id)
            else:
                revoked = tokens.revoke_family(stored.family_id, now)
                log.warning(
                    "refresh token reuse for user %s: family %s revoked (%d live tokens)",
                    stored.user_id,
                    stored.family_id,
                    revoked,
                )
                revoked_family = stored.family_id
        # Raised after the transaction so the family revocation is committed.
        if revoked_family is not None:
            self._announce_revoked(revoked_family)
        if pair is None:
            raise UnauthorizedError(failure)
        return pair

    def _within_reuse_grace(
        self, tokens: RefreshTokenRepository, stored: RefreshToken, now: datetime
    ) -> bool:
        """A used token presented again soon after its rotation, its login still live."""
        grace = self.settings.refresh_reuse_grace_seconds
        # revoked_at is None here when a simultaneous request consumed it a moment ago.
        used_at = stored.revoked_at or now
        if grace <= 0 or (now - used_at).total_seconds() >= grace:
            return False
        return tokens.family_is_live(stored.family_id, now)

    def logout(self, refresh_token: str) -> None:
        """Revoke the refresh token's whole family (an expired token still logs out)."""
        self._decode(refresh_token, "refresh", verify_exp=False)
        with self.db.transaction() as session:
            tokens = RefreshTokenRepository(session)
            stored = tokens.get_by_hash(hash_token(refresh_token))
            if stored is not None:
                tokens.revoke_family(stored.family_id, datetime.now(UTC))
        if stored is not None:
            self._announce_revoked(stored.family_id)

    def authenticate(self, access_token: str) -> User:
        """The user an access token belongs to, or UnauthorizedError."""
        return (self.authenticate_session(access_token)).user

    def authenticate_session(self, access_token: str) -> AuthSession:
        """The token's user and login, checked in one query: the user exists and is active,
        and the token's refresh family was not revoked (a logout ends its access tokens too)."""
        claims = self._decode(access_token, "access")
        family_id = claims.get("fam")
        if not isinstance(family_id, str) or not family_id:
            raise UnauthorizedError("Invalid token")
        # One read on every authenticated request: no transaction around it.
        with self.db.read() as session:
            user = UserRepository(session).get_for_session(int(claims["sub"]), family_id)
        if user is None:
            raise UnauthorizedError("Invalid token")
        return AuthSession(user, family_id, datetime.fromtimestamp(claims["exp"], UTC))

    # -- helpers ----------------------------------------------------------

    def _announce_revoked(self, family_id: str) -> None:
        if self.on_revoked is None:
            return
        try:
            self.on_revoked(family_id)
        except Exception:
            # Committed already; the sockets still close when their access token expires.
            log.exception("could not announce the revocation of family %s", family_id)

    def _decode(self, token: str, expected_type: TokenType, *, verify_exp: bool = True) -> dict[str, Any]:
        try:
            return decode_token(
                token, secret=self._secret, expected_type=expected_type, verify_exp=verify_exp
            )
        except TokenError as exc:
            raise UnauthorizedError(str(exc)) from exc

    def _issue_pair(self, session: Session, user_id: int, *, family_id: str) -> TokenPair:
        access = encode_token(
            secret=self._secret,
            subject=user_id,
            token_type="access",
            ttl_seconds=self.settings.access_token_ttl_seconds,
            extra={"fam": family_id},
        )
        refresh = encode_token(
            secret=self._secret,
            subject=user_id,
            token_type="refresh",
            ttl_seconds=self.settings.refresh_token_ttl_seconds,
            extra={"fam": family_id},
        )
        RefreshTokenRepository(session).add(
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
