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
from tests.helpers import TEST_JWT_SECRET, bearer, register, serving, simultaneously


def b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(user_id: int, **overrides) -> dict:
    now = int(time.time())
    return {"sub": str(user_id), "type": "access", "iat": now, "exp": now + 300} | overrides


def me(client, token: str):
    return client.get("/api/auth/me", headers=bearer(token))


# -- registration --------------------------------------------------------


def test_register_returns_tokens_and_user(client):
    response = client.post(
        "/api/auth/register",
        json={"email": "Ada@Example.com", "password": "a long password", "display_name": "Ada"},
    )
    assert response.status_code == 201
    body = response.get_json()
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


def test_register_twice_is_409(client):
    register(client, email="bob@example.com")
    response = client.post(
        "/api/auth/register", json={"email": "BOB@example.com", "password": "another password"}
    )
    assert response.status_code == 409
    assert (response.get_json())["error"] == "CONFLICT"


def test_register_validates_fields(client):
    response = client.post("/api/auth/register", json={"email": "not-an-email", "password": "short"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "VALIDATION_ERROR"
    assert {tuple(f["loc"]) for f in body["details"]["fields"]} == {("email",), ("password",)}


def test_passwords_are_argon2_and_refresh_tokens_hashed(app, client):
    data = register(client, email="carol@example.com")
    with app.extensions["database"].transaction() as session:
        user = session.scalar(select(User).where(User.email == "carol@example.com"))
        tokens = list(session.scalars(select(RefreshToken)))
    assert user.password_hash.startswith("$argon2id$")
    assert len(tokens) == 1
    assert tokens[0].token_hash == hash_token(data["refresh_token"])
    assert data["refresh_token"] not in {t.token_hash for t in tokens}


# -- login ---------------------------------------------------------------


def test_login_and_me(client):
    register(client, email="dave@example.com", password="dave's password")
    response = client.post(
        "/api/auth/login", json={"email": "dave@example.com", "password": "dave's password"}
    )
    assert response.status_code == 200
    data = (response.get_json())["data"]
    me_response = me(client, data["access_token"])
    assert me_response.status_code == 200
    assert (me_response.get_json())["data"]["email"] == "dave@example.com"


def test_login_failures_look_alike(client):
    register(client, email="erin@example.com")
    wrong_password = client.post(
        "/api/auth/login", json={"email": "erin@example.com", "password": "wrong password"}
    )
    unknown_user = client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "wrong password"}
    )
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert (wrong_password.get_json())["message"] == (unknown_user.get_json())["message"]


def test_login_is_rate_limited_after_repeated_failures(client, settings):
    register(client, email="frank@example.com", password="frank's password")
    for _ in range(settings.login_rate_limit):
        response = client.post("/api/auth/login", json={"email": "frank@example.com", "password": "guess"})
        assert response.status_code == 401
    # Now even the right password is refused until the window passes.
    response = client.post(
        "/api/auth/login", json={"email": "frank@example.com", "password": "frank's password"}
    )
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) > 0
    # Another account from the same client is not affected.
    register(client, email="grace@example.com", password="grace's password")
    response = client.post(
        "/api/auth/login", json={"email": "grace@example.com", "password": "grace's password"}
    )
    assert response.status_code == 200


def test_behind_a_proxy_the_limit_is_per_forwarded_client(app, make_app, settings):
    proxied = make_app(trusted_proxy_hops=1)  # same database as `app`
    with serving(proxied):
        client = proxied.test_client()
        register(client, email="ivan@example.com", password="ivan's password")

        def login(address: str, password: str) -> int:
            response = client.post(
                "/api/auth/login",
                json={"email": "ivan@example.com", "password": password},
                headers={"X-Forwarded-For": address},
            )
            return response.status_code

        for _ in range(settings.login_rate_limit):
            assert login("203.0.113.7", "guess") == 401
        assert login("203.0.113.7", "ivan's password") == 429
        assert login("198.51.100.4", "ivan's password") == 200


# -- access tokens -------------------------------------------------------


def test_me_requires_a_token(client):
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert (response.get_json())["error"] == "UNAUTHORIZED"


def test_expired_access_token_is_rejected(client, user):
    past = int(time.time()) - 3600
    token = jwt.encode(claims(user["user"]["id"], iat=past, exp=past + 60), TEST_JWT_SECRET, "HS256")
    response = me(client, token)
    assert response.status_code == 401
    assert "expired" in (response.get_json())["message"].lower()


def test_tampered_access_token_is_rejected(client, user):
    header, payload, signature = user["access_token"].split(".")
    other_id = user["user"]["id"] + 1
    forged_payload = b64(claims(other_id))
    assert (me(client, f"{header}.{forged_payload}.{signature}")).status_code == 401
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert (me(client, f"{header}.{payload}.{flipped}")).status_code == 401


def test_alg_none_token_is_rejected(client, user):
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(user['user']['id']))}."
    assert (me(client, token)).status_code == 401


def test_token_signed_with_another_secret_is_rejected(client, user):
    token = jwt.encode(claims(user["user"]["id"]), "x" * 64, "HS256")
    assert (me(client, token)).status_code == 401


def test_token_without_required_claims_is_rejected(client, user):
    incomplete = claims(user["user"]["id"])
    del incomplete["type"]
    token = jwt.encode(incomplete, TEST_JWT_SECRET, "HS256")
    assert (me(client, token)).status_code == 401


def test_a_token_verified_once_still_expires_and_binds_to_its_secret(client, user, monkeypatch):
    """The signature check of a verified token is remembered; its expiry and secret are not."""
    from app.modules.auth import security

    token = user["access_token"]
    assert (me(client, token)).status_code == 200
    assert (me(client, token)).status_code == 200  # now from the cache
    with pytest.raises(security.TokenError):
        security.decode_token(token, secret="y" * 64, expected_type="access")
    with pytest.raises(security.TokenError, match="type"):
        security.decode_token(token, secret=TEST_JWT_SECRET, expected_type="refresh")
    later = time.time() + 24 * 3600
    monkeypatch.setattr(security.time, "time", lambda: later)
    response = me(client, token)
    assert response.status_code == 401
    assert "expired" in (response.get_json())["message"].lower()
    # A caller changing the returned claims does not change what the next caller sees.
    monkeypatch.undo()
    claims_seen = security.decode_token(token, secret=TEST_JWT_SECRET, expected_type="access")
    claims_seen["sub"] = "999999"
    assert (me(client, token)).status_code == 200


def test_refresh_token_is_not_an_access_token(client, user):
    assert (me(client, user["refresh_token"])).status_code == 401


def test_access_token_cannot_refresh(client, user):
    response = client.post("/api/auth/refresh", json={"refresh_token": user["access_token"]})
    assert response.status_code == 401


# -- refresh rotation and logout -----------------------------------------


def refresh(client, token: str):
    return client.post("/api/auth/refresh", json={"refresh_token": token})


def test_refresh_rotates_the_pair(client, user):
    response = refresh(client, user["refresh_token"])
    assert response.status_code == 200
    pair = (response.get_json())["data"]
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["refresh_token"] != user["refresh_token"]
    assert (me(client, pair["access_token"])).status_code == 200
    # The next rotation works from the new token.
    assert (refresh(client, pair["refresh_token"])).status_code == 200


def test_reusing_a_refresh_token_revokes_its_family(client, user):
    first = ((refresh(client, user["refresh_token"])).get_json())["data"]
    # The old token comes back (stolen, or replayed): refused...
    replay = refresh(client, user["refresh_token"])
    assert replay.status_code == 401
    assert (replay.get_json())["error"] == "UNAUTHORIZED"
    # ...and the legitimate successor is revoked with it.
    assert (refresh(client, first["refresh_token"])).status_code == 401


def test_one_refresh_token_presented_at_once_rotates_once(app, client, user):
    """Eight requests with one refresh token, released together: one rotation at most; the
    others are reuse, which ends the login, so the pair that one got is dead as well."""
    results = simultaneously(8, lambda _: refresh(app.test_client(), user["refresh_token"]))
    statuses = [r.status_code for r in results]
    assert statuses.count(200) <= 1, statuses
    assert statuses.count(401) == len(statuses) - statuses.count(200), statuses
    for response in results:
        if response.status_code == 200:
            pair = response.get_json()["data"]
            assert refresh(client, pair["refresh_token"]).status_code == 401
            assert me(client, pair["access_token"]).status_code == 401
    assert me(client, user["access_token"]).status_code == 401


def test_a_token_presented_again_soon_after_its_rotation_gets_a_new_pair(app, make_app):
    """A reload that lost the rotation's answer presents the old token again: the login lives."""
    graced = make_app(refresh_reuse_grace_seconds=10)
    with serving(graced):
        client = graced.test_client()
        user = register(client, email="grace@example.com", password="grace's password")
        first = ((refresh(client, user["refresh_token"])).get_json())["data"]
        replay = refresh(client, user["refresh_token"])
        assert replay.status_code == 200
        again = (replay.get_json())["data"]
        assert again["refresh_token"] not in {first["refresh_token"], user["refresh_token"]}
        # Both successors work: the login was not ended.
        assert (refresh(client, again["refresh_token"])).status_code == 200
        assert (refresh(client, first["refresh_token"])).status_code == 200
        assert (me(client, again["access_token"])).status_code == 200


def test_after_the_grace_or_a_logout_a_used_token_still_ends_the_login(app, make_app):
    graced = make_app(refresh_reuse_grace_seconds=10)
    with serving(graced):
        client = graced.test_client()
        user = register(client, email="late@example.com", password="late's password")
        first = ((refresh(client, user["refresh_token"])).get_json())["data"]
        # The rotation happened a minute ago.
        with graced.extensions["database"].transaction() as session:
            session.execute(
                update(RefreshToken)
                .where(RefreshToken.token_hash == hash_token(user["refresh_token"]))
                .values(revoked_at=datetime.now(UTC) - timedelta(seconds=60))
            )
        assert (refresh(client, user["refresh_token"])).status_code == 401
        assert (refresh(client, first["refresh_token"])).status_code == 401, "the login ended"

        login = client.post(
            "/api/auth/login", json={"email": "late@example.com", "password": "late's password"}
        )
        other = (login.get_json())["data"]
        rotated = ((refresh(client, other["refresh_token"])).get_json())["data"]
        logout = client.post("/api/auth/logout", json={"refresh_token": rotated["refresh_token"]})
        assert logout.status_code == 200
        # Within the grace, but the login was ended by the logout: no new pair.
        assert (refresh(client, other["refresh_token"])).status_code == 401


def test_reuse_does_not_touch_other_sessions(client):
    register(client, email="heidi@example.com", password="heidi's password")
    login = lambda: client.post(  # noqa: E731
        "/api/auth/login", json={"email": "heidi@example.com", "password": "heidi's password"}
    )
    laptop = ((login()).get_json())["data"]
    phone = ((login()).get_json())["data"]
    refresh(client, laptop["refresh_token"])
    refresh(client, laptop["refresh_token"])  # reuse: the laptop family dies
    assert (refresh(client, phone["refresh_token"])).status_code == 200


def test_logout_revokes_the_family(client, user):
    rotated = ((refresh(client, user["refresh_token"])).get_json())["data"]
    response = client.post("/api/auth/logout", json={"refresh_token": rotated["refresh_token"]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True and body["data"] is None
    assert (refresh(client, rotated["refresh_token"])).status_code == 401


def test_garbage_refresh_token_is_401(client):
    response = refresh(client, "not.a.token")
    assert response.status_code == 401
    response = client.post("/api/auth/logout", json={"refresh_token": "not.a.token"})
    assert response.status_code == 401


def test_expired_refresh_token_is_rejected(client, user):
    past = int(time.time()) - 3600
    token = jwt.encode(
        claims(user["user"]["id"], type="refresh", iat=past, exp=past + 60, fam="x"), TEST_JWT_SECRET, "HS256"
    )
    assert (refresh(client, token)).status_code == 401


def test_app_refuses_to_start_without_a_strong_secret(settings):
    for secret in (None, "short"):
        with pytest.raises(ConfigError):
            create_app(settings.replace(app_env="development", jwt_secret=secret))
