"""SQLAlchemy 2 async engine, sessions and the declarative base.

One `Database` per application, created at startup and disposed at shutdown
(see `app.main`). Services open a transaction with `db.transaction()`; the
repositories they build receive the session and never commit themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from quart import current_app
from sqlalchemy import DateTime, MetaData, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names: the Alembic migrations and the models agree
# on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Connections per worker process (PostgreSQL): 2 workers hold 20 of the server's 100.
POOL_SIZE = 10


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones and returns naive values; this type stores UTC and
    always hands back an aware datetime, so the API sends `...Z`/`+00:00`
    whichever database is behind it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("postgresql"):
            # A fixed pool: requests beyond POOL_SIZE wait for a connection (cheap in asyncio).
            # Overflow connections would be opened and closed again under load, each one a TCP
            # and TLS negotiation and an authentication: measured, that churn cost more than
            # the queries themselves at 50 concurrent requests (docs/benchmarks.md of fsi).
            # No pre-ping: with asyncpg it is BEGIN, a ping and ROLLBACK (three round trips) on
            # every checkout, ~20 % of an authenticated list request's CPU. A connection that a
            # server restart broke fails its statement once (a disconnect error); SQLAlchemy then
            # invalidates every pooled connection, and later checkouts connect afresh.
            kwargs |= {"pool_pre_ping": False, "pool_size": POOL_SIZE, "max_overflow": 0}
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessionmaker = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads that are one statement each, outside any transaction.

        The connection is in autocommit mode: no BEGIN and COMMIT round trips around a
        single SELECT (which sees one snapshot anyway). Anything that writes, or reads
        with several statements that must agree, uses `transaction()`.
        """
        async with self._read_sessionmaker() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def create_all(self) -> None:
        """Create every table directly (tests); real databases use Alembic."""
        import app.models  # noqa: F401  (registers every model on Base.metadata)

        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    async def drop_all(self) -> None:
        import app.models  # noqa: F401

        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)

    async def dispose(self) -> None:
        await self.engine.dispose()


def get_db() -> Database:
    """The current application's database."""
    return current_app.extensions["database"]
