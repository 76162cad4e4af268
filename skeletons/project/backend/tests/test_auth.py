"""Registration, login, tokens: the happy paths and the attacks."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select, update

from app.config import ConfigError
from app.main import create_app
from app.modules.auth.models import RefreshToken, User
from app.modules.auth.security import hash_token
from tests.helpers import TEST_JWT_SECRET, bearer, register


def b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(user_id: int, **overrides) -> dict:
    now = int(time.time())
    return {"sub": str(user_id), "type": "access", "iat": now, "exp": now + 300} | overrides


async def me(client, token: str):
    return await client.get("/api/auth/me", headers=bearer(token))


# -- registration --------------------------------------------------------


async def test_register_returns_tokens_and_user(client):
    response = await client.post(
        "/api/auth/register",
        json={"email": "Ada@Example.com", "password": "a long password", "display_name": "Ada"},
    )
    assert response.status_code == 201
    body = await response.get_json()
    assert body["success"] is True and body["message"] is None
    data = body["data"]
    assert set(data) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == 900
    user = data["user"]
    assert set(user) == {"id", "email", "display_name", "created_at"}
    assert user["email"] == "ada@example.com"  # normalised
    assert user["display_name"] == "Ada"
    assert datetime.fromisoformat(user["created_at"]).tzinfo is not None


async def test_register_twice_is_409(client):
    await register(client, email="bob@example.com")
    response = await client.post(
        "/api/auth/register", json={"email": "BOB@example.com", "password": "another password"}
    )
    assert response.status_code == 409
    assert (await response.get_json())["error"] == "CONFLICT"


async def test_register_validates_fields(client):
    response = await client.post("/api/auth/register", json={"email": "not-an-email", "password": "short"})
    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"] == "VALIDATION_ERROR"
    assert {tuple(f["loc"]) for f in body["details"]["fields"]} == {("email",), ("password",)}


async def test_passwords_are_argon2_and_refresh_tokens_hashed(app, client):
    data = await register(client, email="carol@example.com")
    async with app.extensions["database"].transaction() as session:
        user = await session.scalar(select(User).where(User.email == "carol@example.com"))
        tokens = list(await session.scalars(select(RefreshToken)))
    assert user.password_hash.startswith("$argon2id$")
    assert len(tokens) == 1
    assert tokens[0].token_hash == hash_token(data["refresh_token"])
    assert data["refresh_token"] not in {t.token_hash for t in tokens}


# -- login ---------------------------------------------------------------


async def test_login_and_me(client):
    await register(client, email="dave@example.com", password="dave's password")
    response = await client.post(
        "/api/auth/login", json={"email": "dave@example.com", "password": "dave's password"}
    )
    assert response.status_code == 200
    data = (await response.get_json())["data"]
    me_response = await me(client, data["access_token"])
    assert me_response.status_code == 200
    assert (await me_response.get_json())["data"]["email"] == "dave@example.com"


async def test_login_failures_look_alike(client):
    await register(client, email="erin@example.com")
    wrong_password = await client.post(
        "/api/auth/login", json={"email": "erin@example.com", "password": "wrong password"}
    )
    unknown_user = await client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "wrong password"}
    )
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert (await wrong_password.get_json())["message"] == (await unknown_user.get_json())["message"]


async def test_login_is_rate_limited_after_repeated_failures(client, settings):
    await register(client, email="frank@example.com", password="frank's password")
    for _ in range(settings.login_rate_limit):
        response = await client.post(
            "/api/auth/login", json={"email": "frank@example.com", "password": "guess"}
        )
        assert response.status_code == 401
    # Now even the right password is refused until the window passes.
    response = await client.post(
        "/api/auth/login", json={"email": "frank@example.com", "password": "frank's password"}
    )
    assert response.status_code == 429
    body = await response.get_json()
    assert body["error"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) > 0
    # Another account from the same client is not affected.
    await register(client, email="grace@example.com", password="grace's password")
    response = await client.post(
        "/api/auth/login", json={"email": "grace@example.com", "password": "grace's password"}
    )
    assert response.status_code == 200


async def test_behind_a_proxy_the_limit_is_per_forwarded_client(app, make_app, settings):
    proxied = make_app(trusted_proxy_hops=1)  # same database as `app`
    async with proxied.test_app():
        client = proxied.test_client()
        await register(client, email="ivan@example.com", password="ivan's password")

        async def login(address: str, password: str) -> int:
            response = await client.post(
                "/api/auth/login",
                json={"email": "ivan@example.com", "password": password},
                headers={"X-Forwarded-For": address},
            )
            return response.status_code

        for _ in range(settings.login_rate_limit):
            assert await login("203.0.113.7", "guess") == 401
        assert await login("203.0.113.7", "ivan's password") == 429
        assert await login("198.51.100.4", "ivan's password") == 200


# -- access tokens -------------------------------------------------------


async def test_me_requires_a_token(client):
    response = await client.get("/api/auth/me")
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "UNAUTHORIZED"


async def test_expired_access_token_is_rejected(client, user):
    past = int(time.time()) - 3600
    token = jwt.encode(claims(user["user"]["id"], iat=past, exp=past + 60), TEST_JWT_SECRET, "HS256")
    response = await me(client, token)
    assert response.status_code == 401
    assert "expired" in (await response.get_json())["message"].lower()


async def test_tampered_access_token_is_rejected(client, user):
    header, payload, signature = user["access_token"].split(".")
    other_id = user["user"]["id"] + 1
    forged_payload = b64(claims(other_id))
    assert (await me(client, f"{header}.{forged_payload}.{signature}")).status_code == 401
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert (await me(client, f"{header}.{payload}.{flipped}")).status_code == 401


async def test_alg_none_token_is_rejected(client, user):
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(user['user']['id']))}."
    assert (await me(client, token)).status_code == 401


async def test_token_signed_with_another_secret_is_rejected(client, user):
    token = jwt.encode(claims(user["user"]["id"]), "x" * 64, "HS256")
    assert (await me(client, token)).status_code == 401


async def test_token_without_required_claims_is_rejected(client, user):
    incomplete = claims(user["user"]["id"])
    del incomplete["type"]
    token = jwt.encode(incomplete, TEST_JWT_SECRET, "HS256")
    assert (await me(client, token)).status_code == 401


async def test_a_token_verified_once_still_expires_and_binds_to_its_secret(client, user, monkeypatch):
    """The signature check of a verified token is remembered; its expiry and secret are not."""
    from app.modules.auth import security

    token = user["access_token"]
    assert (await me(client, token)).status_code == 200
    assert (await me(client, token)).status_code == 200  # now from the cache
    with pytest.raises(security.TokenError):
        security.decode_token(token, secret="y" * 64, expected_type="access")
    with pytest.raises(security.TokenError, match="type"):
        security.decode_token(token, secret=TEST_JWT_SECRET, expected_type="refresh")
    later = time.time() + 24 * 3600
    monkeypatch.setattr(security.time, "time", lambda: later)
    response = await me(client, token)
    assert response.status_code == 401
    assert "expired" in (await response.get_json())["message"].lower()
    # A caller changing the returned claims does not change what the next caller sees.
    monkeypatch.undo()
    claims_seen = security.decode_token(token, secret=TEST_JWT_SECRET, expected_type="access")
    claims_seen["sub"] = "999999"
    assert (await me(client, token)).status_code == 200


async def test_refresh_token_is_not_an_access_token(client, user):
    assert (await me(client, user["refresh_token"])).status_code == 401


async def test_access_token_cannot_refresh(client, user):
    response = await client.post("/api/auth/refresh", json={"refresh_token": user["access_token"]})
    assert response.status_code == 401


# -- refresh rotation and logout -----------------------------------------


async def refresh(client, token: str):
    return await client.post("/api/auth/refresh", json={"refresh_token": token})


async def test_refresh_rotates_the_pair(client, user):
    response = await refresh(client, user["refresh_token"])
    assert response.status_code == 200
    pair = (await response.get_json())["data"]
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["refresh_token"] != user["refresh_token"]
    assert (await me(client, pair["access_token"])).status_code == 200
    # The next rotation works from the new token.
    assert (await refresh(client, pair["refresh_token"])).status_code == 200


async def test_reusing_a_refresh_token_revokes_its_family(client, user):
    first = (await (await refresh(client, user["refresh_token"])).get_json())["data"]
    # The old token comes back (stolen, or replayed): refused...
    replay = await refresh(client, user["refresh_token"])
    assert replay.status_code == 401
    assert (await replay.get_json())["error"] == "UNAUTHORIZED"
    # ...and the legitimate successor is revoked with it.
    assert (await refresh(client, first["refresh_token"])).status_code == 401


async def test_a_token_presented_again_soon_after_its_rotation_gets_a_new_pair(app, make_app):
    """A reload that lost the rotation's answer presents the old token again: the login lives."""
    graced = make_app(refresh_reuse_grace_seconds=10)
    async with graced.test_app():
        client = graced.test_client()
        user = await register(client, email="grace@example.com", password="grace's password")
        first = (await (await refresh(client, user["refresh_token"])).get_json())["data"]
        replay = await refresh(client, user["refresh_token"])
        assert replay.status_code == 200
        again = (await replay.get_json())["data"]
        assert again["refresh_token"] not in {first["refresh_token"], user["refresh_token"]}
        # Both successors work: the login was not ended.
        assert (await refresh(client, again["refresh_token"])).status_code == 200
        assert (await refresh(client, first["refresh_token"])).status_code == 200
        assert (await me(client, again["access_token"])).status_code == 200


async def test_after_the_grace_or_a_logout_a_used_token_still_ends_the_login(app, make_app):
    graced = make_app(refresh_reuse_grace_seconds=10)
    async with graced.test_app():
        client = graced.test_client()
        user = await register(client, email="late@example.com", password="late's password")
        first = (await (await refresh(client, user["refresh_token"])).get_json())["data"]
        # The rotation happened a minute ago.
        async with graced.extensions["database"].transaction() as session:
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.token_hash == hash_token(user["refresh_token"]))
                .values(revoked_at=datetime.now(UTC) - timedelta(seconds=60))
            )
        assert (await refresh(client, user["refresh_token"])).status_code == 401
        assert (await refresh(client, first["refresh_token"])).status_code == 401, "the login ended"

        login = await client.post(
            "/api/auth/login", json={"email": "late@example.com", "password": "late's password"}
        )
        other = (await login.get_json())["data"]
        rotated = (await (await refresh(client, other["refresh_token"])).get_json())["data"]
        logout = await client.post("/api/auth/logout", json={"refresh_token": rotated["refresh_token"]})
        assert logout.status_code == 200
        # Within the grace, but the login was ended by the logout: no new pair.
        assert (await refresh(client, other["refresh_token"])).status_code == 401


async def test_reuse_does_not_touch_other_sessions(client):
    await register(client, email="heidi@example.com", password="heidi's password")
    login = lambda: client.post(  # noqa: E731
        "/api/auth/login", json={"email": "heidi@example.com", "password": "heidi's password"}
    )
    laptop = (await (await login()).get_json())["data"]
    phone = (await (await login()).get_json())["data"]
    await refresh(client, laptop["refresh_token"])
    await refresh(client, laptop["refresh_token"])  # reuse: the laptop family dies
    assert (await refresh(client, phone["refresh_token"])).status_code == 200


async def test_logout_revokes_the_family(client, user):
    rotated = (await (await refresh(client, user["refresh_token"])).get_json())["data"]
    response = await client.post("/api/auth/logout", json={"refresh_token": rotated["refresh_token"]})
    assert response.status_code == 200
    body = await response.get_json()
    assert body["success"] is True and body["data"] is None
    assert (await refresh(client, rotated["refresh_token"])).status_code == 401


async def test_garbage_refresh_token_is_401(client):
    response = await refresh(client, "not.a.token")
    assert response.status_code == 401
    response = await client.post("/api/auth/logout", json={"refresh_token": "not.a.token"})
    assert response.status_code == 401


async def test_expired_refresh_token_is_rejected(client, user):
    past = int(time.time()) - 3600
    token = jwt.encode(
        claims(user["user"]["id"], type="refresh", iat=past, exp=past + 60, fam="x"), TEST_JWT_SECRET, "HS256"
    )
    assert (await refresh(client, token)).status_code == 401


def test_app_refuses_to_start_without_a_strong_secret(settings):
    for secret in (None, "short"):
        with pytest.raises(ConfigError):
            create_app(settings.replace(app_env="development", jwt_secret=secret))
