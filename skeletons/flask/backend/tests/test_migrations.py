"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import app.models  # noqa: F401
from app.database import Base, sync_url

BACKEND = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    config = Config(str(BACKEND / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def schema_state(url: str) -> tuple[list, set[str]]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
            return diff, set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def check_round_trip(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "head")
    diff, tables = schema_state(url)
    assert diff == [], f"migrations and models differ: {diff}"
    assert set(Base.metadata.tables) <= tables
    command.downgrade(config, "base")
    _, tables = schema_state(url)
    assert tables <= {"alembic_version"}
    command.upgrade(config, "head")


def test_migrations_match_models_on_sqlite(tmp_path):
    check_round_trip(f"sqlite+aiosqlite:///{tmp_path}/migrations.db")


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="DATABASE_URL is not a PostgreSQL URL",
)
def test_migrations_match_models_on_postgresql():
    """Runs in a scratch database created next to DATABASE_URL's, then dropped."""
    base = make_url(os.environ["DATABASE_URL"])
    scratch = f"migrations_{uuid.uuid4().hex[:12]}"

    def admin(sql: str) -> None:
        url = sync_url(base.render_as_string(hide_password=False))
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()

    try:
        admin(f'CREATE DATABASE "{scratch}"')
    except Exception as exc:  # no CREATEDB privilege: nothing to test against
        pytest.skip(f"cannot create a scratch database: {exc}")
    try:
        check_round_trip(base.set(database=scratch).render_as_string(hide_password=False))
    finally:
        admin(f'DROP DATABASE IF EXISTS "{scratch}"')
