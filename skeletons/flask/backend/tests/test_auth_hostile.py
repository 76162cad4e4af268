"""A hostile client against auth: simultaneous guesses, random e-mails, a hash flood, weak
passwords, look-alike e-mails, deleted and disabled users, tokens after logout."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import text, update

from app.config import ConfigError, Settings, secret_weakness
from app.main import create_app
from app.modules.auth.models import User
from app.modules.auth.passwords import common_passwords
from app.modules.auth.rate_limit import Limit, MemoryLoginLimiter, RedisLoginLimiter
from app.redis_client import create_redis
from tests.helpers import bearer, register, serving, simultaneously

PASSWORD = "correct horse battery"


def login(client, email: str, password: str, address: str | None = None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)


def assert_limited(response, body: dict, code: str = "RATE_LIMITED") -> None:
    assert body["success"] is False and body["error"] == code, body
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    assert body["details"]["retry_after"] == retry_after


# -- the login limit under concurrency ---------------------------------------


def test_simultaneous_guesses_cannot_pass_the_limit(app, client, settings):
    register(client, email="target@example.com", password=PASSWORD)
    # 30 wrong guesses and the right one (the last), released at once from 31 threads.
    passwords = [f"guess number {n}" for n in range(30)] + [PASSWORD]
    guesses = simultaneously(31, lambda n: login(app.test_client(), "target@example.com", passwords[n]))
    responses = guesses
    statuses = [r.status_code for r in responses]
    # Exactly `limit` attempts were checked; every other one was refused without a hash.
    assert statuses.count(401) + statuses.count(200) == settings.login_rate_limit, statuses
    assert statuses.count(429) == len(guesses) - settings.login_rate_limit
    limited = next(r for r in responses if r.status_code == 429)
    assert_limited(limited, limited.get_json())
    # Once limited, the right password is refused too until the window passes.
    if 200 not in statuses:
        assert (login(client, "target@example.com", PASSWORD)).status_code == 429


def test_registrations_from_one_address_are_limited_before_hashing(app, client, settings):
    hasher = app.extensions["password_hasher"]
    hashed = 0
    real_hash = hasher.hash

    def counting_hash(password: str) -> str:
        nonlocal hashed
        hashed += 1
        return real_hash(password)

    hasher.hash = counting_hash
    burst = simultaneously(
        settings.register_rate_limit + 5,
        lambda n: app.test_client().post(
            "/api/auth/register",
            json={"email": f"new-{n}@example.com", "password": PASSWORD, "display_name": "New"},
        ),
    )
    responses = burst
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == settings.register_rate_limit, statuses
    assert statuses.count(429) == 5
    assert hashed == settings.register_rate_limit, "refused registrations hash nothing"
    limited = next(r for r in responses if r.status_code == 429)
    body = limited.get_json()
    assert_limited(limited, body)
    assert "registrations" in body["message"]


def test_random_emails_from_one_address_are_limited(client, settings):
    statuses = []
    for _ in range(settings.login_address_rate_limit + 3):
        response = login(client, f"nobody-{uuid.uuid4().hex[:8]}@example.com", "some guess here")
        statuses.append(response.status_code)
    assert statuses.count(401) == settings.login_address_rate_limit, statuses
    assert statuses[-1] == 429
    # A real user at that address is limited too (the address is what is flooding)...
    register(client, email="neighbour@example.com", password=PASSWORD)
    response = login(client, "neighbour@example.com", PASSWORD)
    assert response.status_code == 429
    assert_limited(response, response.get_json())


def test_the_address_limit_follows_the_forwarded_client(app, make_app, settings):
    proxied = make_app(trusted_proxy_hops=1)
    with serving(proxied):
        client = proxied.test_client()
        register(client, email="victim@example.com", password=PASSWORD)
        for _ in range(settings.login_address_rate_limit):
            email = f"spray-{uuid.uuid4().hex[:8]}@example.com"
            assert (login(client, email, "guess guess", "203.0.113.9")).status_code == 401
        assert (login(client, "victim@example.com", PASSWORD, "203.0.113.9")).status_code == 429
        assert (login(client, "victim@example.com", PASSWORD, "198.51.100.1")).status_code == 200


def test_successful_logins_are_not_counted(client, settings):
    register(client, email="regular@example.com", password=PASSWORD)
    for _ in range(settings.login_address_rate_limit + 2):
        assert (login(client, "regular@example.com", PASSWORD)).status_code == 200


@pytest.fixture(params=["memory", "redis"])
def limiter(request, settings):
    if request.param == "memory":
        yield MemoryLoginLimiter(window_seconds=60)
        return
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set")
    redis = create_redis(os.environ["REDIS_URL"])
    try:
        yield RedisLoginLimiter(redis, f"{settings.redis_prefix}-unit", window_seconds=60)
    finally:
        redis.close()


def test_limiter_reserves_atomically(limiter):
    limits = (Limit("account:a|x", 3), Limit("address:a", 5))
    results = simultaneously(20, lambda _: limiter.reserve(limits))
    admitted = [r for r in results if not isinstance(r, int)]
    assert len(admitted) == 3
    assert all(isinstance(r, int) and r >= 1 for r in results if r not in admitted)
    # The address limit counts across accounts: 2 more on another account, then it is full.
    other = (Limit("account:a|y", 3), Limit("address:a", 5))
    assert not isinstance(limiter.reserve(other), int)
    last = limiter.reserve(other)
    assert not isinstance(last, int)
    assert isinstance(limiter.reserve(other), int)
    # A success gives its counts back and clears its account's count.
    limiter.succeeded(last)
    assert not isinstance(limiter.reserve(other), int)
    assert isinstance(limiter.reserve(limits), int)


def test_limiter_release_gives_the_counts_back(limiter):
    limits = (Limit("account:b|z", 1), Limit("address:b", 1))
    first = limiter.reserve(limits)
    assert not isinstance(first, int)
    assert isinstance(limiter.reserve(limits), int)
    limiter.release(first)  # e.g. the hasher was busy: the attempt never happened
    assert not isinstance(limiter.reserve(limits), int)


# -- bounded hashing -----------------------------------------------------------


def test_a_saturated_hasher_answers_503_fast(app, client):
    register(client, email="busy@example.com", password=PASSWORD)
    hasher = app.extensions["password_hasher"]
    hasher.queue_seconds = 0.05
    for _ in range(hasher.concurrency):
        hasher._slots.acquire()
    try:
        assert hasher.busy
        started = time.monotonic()
        response = login(client, "busy@example.com", PASSWORD)
        assert time.monotonic() - started < 1.0
        assert response.status_code == 503
        assert_limited(response, response.get_json(), "SERVICE_UNAVAILABLE")
        response = client.post(
            "/api/auth/register", json={"email": "later@example.com", "password": PASSWORD}
        )
        assert response.status_code == 503
    finally:
        for _ in range(hasher.concurrency):
            hasher._slots.release()
    # The refused attempts were not counted as failures.
    for _ in range(5):
        assert (login(client, "busy@example.com", PASSWORD)).status_code == 200


def test_hash_concurrency_defaults_to_the_cores():
    settings = Settings.from_env({"JWT_SECRET": "z" * 40})
    assert settings.password_hash_concurrency == len(os.sched_getaffinity(0))


# -- password strength ---------------------------------------------------------


def test_weak_passwords_are_refused(client):
    cases = [
        ("weak1@example.com", "password", None),
        ("weak2@example.com", "12345678", None),
        ("weak3@example.com", "PassWord1", None),
        ("weak4@example.com", " " * 8, None),
        ("weak5@example.com", "\t \t \t \t ", None),
        ("weak6@example.com", "abababab", None),
        ("ada.lovelace@example.com", "adalovelace1", None),
        ("ada.lovelace@example.com", "ada.lovelace@example.com", None),
        ("someone@example.com", "Grace Hopper!", "Grace Hopper"),
    ]
    for email, password, display_name in cases:
        response = client.post(
            "/api/auth/register", json={"email": email, "password": password, "display_name": display_name}
        )
        assert response.status_code == 400, password
        body = response.get_json()
        assert body["error"] == "VALIDATION_ERROR"
        [field] = body["details"]["fields"]
        assert field["loc"] == ["password"] and field["type"] == "password_too_weak", password
        assert field["msg"] and field["msg"] == body["message"]


def test_the_common_password_list_ships_with_the_project():
    passwords = common_passwords()
    assert len(passwords) >= 1_000
    assert {"password", "12345678", "iloveyou", "qwertyuiop"} <= passwords


# -- e-mail normalisation -------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ada@example.com", "ADA@EXAMPLE.COM"),
        ("ada@example.com", "\uff41\uff44\uff41@example.com"),  # full-width letters
        ("strasse@example.com", "STRASSE@example.com"),
        ("strasse@example.com", "Stra\u00dfe@example.com"),  # ß case-folds to ss
        ("cafe\u0301@example.com", "caf\u00e9@example.com"),  # combining accent vs precomposed
    ],
)
def test_look_alike_emails_are_one_account(client, first, second):
    register(client, email=first, password=PASSWORD)
    response = client.post("/api/auth/register", json={"email": second, "password": PASSWORD})
    assert response.status_code == 409
    assert (login(client, second, PASSWORD)).status_code == 200


def test_emails_with_invisible_or_control_characters_are_refused(client):
    for email in [
        "ada\u202e@example.com",  # right-to-left override
        "ad\u200ba@example.com",  # zero-width space
        "ada\u0007@example.com",  # control character
        "ada\u2028@example.com",  # line separator
        "ad a@example.com",
    ]:
        response = client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
        assert response.status_code == 400, repr(email)
        body = response.get_json()
        assert body["error"] == "VALIDATION_ERROR"
        [field] = body["details"]["fields"]
        assert field["loc"] == ["email"] and field["msg"], repr(email)
        assert (login(client, email, PASSWORD)).status_code == 400, repr(email)


def test_nul_in_credentials_is_400(client):
    # On PostgreSQL a NUL reaching the e-mail lookup was a 500.
    for path in ("/api/auth/login", "/api/auth/register"):
        response = client.post(
            path,
            data='{"email": "a\\u0000@example.com", "password": "x\\u0000 long enough"}',
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, path
        assert (response.get_json())["error"] == "VALIDATION_ERROR"


# -- deleted and disabled users, revoked logins ----------------------------------


def set_active(app, user_id: int, active: bool) -> None:
    with app.extensions["database"].transaction() as session:
        session.execute(update(User).where(User.id == user_id).values(is_active=active))


def test_a_deleted_user_can_neither_refresh_nor_use_a_token(app, client, user):
    with app.extensions["database"].transaction() as session:
        session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user["user"]["id"]})
    response = client.post("/api/auth/refresh", json={"refresh_token": user["refresh_token"]})
    assert response.status_code == 401
    assert (client.get("/api/auth/me", headers=bearer(user["access_token"]))).status_code == 401
    assert (client.get("/api/items", headers=bearer(user["access_token"]))).status_code == 401


def test_a_disabled_user_is_locked_out_everywhere(app, client):
    data = register(client, email="disabled@example.com", password=PASSWORD)
    set_active(app, data["user"]["id"], False)
    assert (client.get("/api/auth/me", headers=bearer(data["access_token"]))).status_code == 401
    response = client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert response.status_code == 401
    assert (login(client, "disabled@example.com", PASSWORD)).status_code == 401
    # Enabled again, the revoked login stays dead; a new login works.
    set_active(app, data["user"]["id"], True)
    response = client.post("/api/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert response.status_code == 401
    assert (login(client, "disabled@example.com", PASSWORD)).status_code == 200


def test_logout_ends_the_access_tokens_of_that_login_only(client):
    register(client, email="two-devices@example.com", password=PASSWORD)
    laptop = ((login(client, "two-devices@example.com", PASSWORD)).get_json())["data"]
    phone = ((login(client, "two-devices@example.com", PASSWORD)).get_json())["data"]
    client.post("/api/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    assert (client.get("/api/auth/me", headers=bearer(laptop["access_token"]))).status_code == 401
    assert (client.get("/api/auth/me", headers=bearer(phone["access_token"]))).status_code == 200


def test_refresh_token_reuse_ends_the_stolen_access_tokens(client, user):
    response = client.post("/api/auth/refresh", json={"refresh_token": user["refresh_token"]})
    rotated = (response.get_json())["data"]
    replay = client.post("/api/auth/refresh", json={"refresh_token": user["refresh_token"]})
    assert replay.status_code == 401
    for token in (user["access_token"], rotated["access_token"]):
        assert (client.get("/api/auth/me", headers=bearer(token))).status_code == 401


# -- production settings ---------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        "change-me-change-me-change-me-change-me",
        "my-super-secret-jwt-key-for-production!!",
        "a" * 64,
        "0123456701234567012345670123456",  # 31 characters
    ],
)
def test_production_refuses_weak_secrets(secret):
    assert secret_weakness(secret)
    settings = Settings(app_env="production", database_url="postgresql+asyncpg://u@h/d", jwt_secret=secret)
    with pytest.raises(ConfigError):
        settings.validate()


def test_production_accepts_a_random_secret():
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    assert secret_weakness(secret) is None
    Settings(app_env="production", database_url="postgresql+asyncpg://u@h/d", jwt_secret=secret).validate()


def test_production_does_not_read_the_development_env_file(monkeypatch):
    import app.config as config

    dev_secret = uuid.uuid4().hex + uuid.uuid4().hex
    monkeypatch.setattr(config, "read_dotenv", lambda path: {"JWT_SECRET": dev_secret, "LOG_LEVEL": "DEBUG"})
    for name in ("JWT_SECRET", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@h/d")

    monkeypatch.setenv("APP_ENV", "development")
    assert Settings.from_env().jwt_secret == dev_secret  # development: .env fills the gaps

    monkeypatch.setenv("APP_ENV", "production")
    production = Settings.from_env()
    assert production.jwt_secret is None and production.log_level == "INFO"
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        production.validate()
    # ...and the development secret is refused even when passed in the environment.
    monkeypatch.setenv("JWT_SECRET", dev_secret)
    with pytest.raises(ConfigError, match="development secret"):
        Settings.from_env().validate()
    monkeypatch.setenv("JWT_SECRET", uuid.uuid4().hex + uuid.uuid4().hex)
    Settings.from_env().validate()


def test_production_app_refuses_to_start_with_a_weak_secret(settings):
    weak = replace(settings, app_env="production", database_url="postgresql+asyncpg://u@h/d")
    weak = replace(weak, jwt_secret="x" * 40)
    with pytest.raises(ConfigError):
        create_app(weak)
