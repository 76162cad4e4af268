from __future__ import annotations

import pytest

from app.config import ConfigError, Settings, read_dotenv


def test_read_dotenv(tmp_path):
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n\nJWT_SECRET=abc\nexport REDIS_URL='redis://x:1/0'\nLOG_LEVEL=\"debug\"\nnot a pair\n"
    )
    assert read_dotenv(path) == {"JWT_SECRET": "abc", "REDIS_URL": "redis://x:1/0", "LOG_LEVEL": "debug"}
    assert read_dotenv(tmp_path / "missing") == {}


def test_settings_from_env():
    settings = Settings.from_env(
        {"APP_ENV": "production", "DATABASE_URL": "postgresql+asyncpg://u@h/d", "CORS_ORIGINS": "a, b,"}
    )
    assert settings.is_production
    assert settings.database_url == "postgresql+asyncpg://u@h/d"
    assert settings.cors_origins == ("a", "b")
    assert settings.redis_url is None


def test_bad_numbers_are_refused():
    with pytest.raises(ConfigError):
        Settings.from_env({"MAX_CONTENT_LENGTH": "lots"})


def test_production_refuses_sqlite():
    settings = Settings.from_env({"APP_ENV": "production", "DATABASE_URL": "sqlite+aiosqlite:///x.db"})
    with pytest.raises(ConfigError):
        settings.validate()
