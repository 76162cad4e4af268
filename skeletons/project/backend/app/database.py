"""SQLAlchemy 2 async engine, sessions and the declarative base.

One `Database` per application, created at startup and disposed at shutdown
(see `app.main`). Services open a transaction with `db.transaction()`; the
repositories they build receive the session and never commit themselves.

SQLite: every connection enforces foreign keys (`PRAGMA foreign_keys=ON`); the
file is checked on every checkout, so a deleted database is reported (503)
instead of silently re-created, and a replaced file (restored from a backup) is
reopened instead of served from the old inode. PostgreSQL: connections are
pinged before use, so the pool recovers by itself after a server restart.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quart import current_app
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError, InvalidatePoolError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

# Deterministic constraint names: the Alembic migrations and the models agree
# on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


@dataclass
class _Shared:
    """The session `Database.shared_reads()` opened, and whether it holds a pool slot."""

    session: AsyncSession
    holds_slot: bool = False


# The shared reads of the current task (a request), if any.
_SHARED_READS: ContextVar[_Shared | None] = ContextVar("shared_reads", default=None)

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
        if value.tzinfo is UTC:  # PostgreSQL's timestamptz, as asyncpg returns it
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DatabaseUnavailableError(Exception):
    """The database cannot serve requests (its file is gone, unreadable or read-only)."""


def sqlite_file(url: str) -> str | None:
    """The file path of a SQLite URL, or None (another database, or in memory)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return None
    return os.path.abspath(database)


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("postgresql"):
            # A fixed pool: requests beyond POOL_SIZE wait for a connection (cheap in asyncio).
            # Overflow connections would be opened and closed again under load, each one a TCP
            # and TLS negotiation and an authentication: measured, that churn cost more than
            # the queries themselves at 50 concurrent requests (docs/benchmarks.md of fsi).
            # Every checkout is pinged (see `_install_postgresql_ping`), so the first request on
            # a connection a server restart broke does not fail.
            kwargs |= {"pool_size": POOL_SIZE, "max_overflow": 0}
        self.url = url
        # PostgreSQL: a request waits for one of POOL_SIZE slots, first come first served, before
        # it takes a pooled connection. The pool's own wait (an asyncio.Queue) lets a newcomer
        # take a connection that was just handed to a waiter, which goes to the back of the line
        # again: under load a few requests waited seconds (p99 ~1 s at 50 connections) while the
        # median was 80 ms. asyncio.Semaphore serves its waiters in order.
        self._slots = asyncio.Semaphore(POOL_SIZE) if url.startswith("postgresql") else None
        self.is_sqlite = make_url(url).drivername.startswith("sqlite")
        self.sqlite_path = sqlite_file(url)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessionmaker = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        if self.is_sqlite:
            self._install_sqlite_hooks()
        elif self.engine.dialect.driver == "asyncpg":
            _install_postgresql_ping(self.engine)

    def _install_sqlite_hooks(self) -> None:
        path = self.sqlite_path
        # Set once the file has been opened: from then on a missing file is an outage, and a
        # new connection must not create an empty database in its place.
        seen = {"file": False}

        @event.listens_for(self.engine.sync_engine, "do_connect")
        def before_connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> None:
            if path is not None and seen["file"] and not os.path.exists(path):
                raise DatabaseUnavailableError(f"the SQLite database {path} does not exist")

        @event.listens_for(self.engine.sync_engine, "connect")
        def on_connect(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            if path is not None:
                seen["file"] = True
                record.info["sqlite_file"] = _file_identity(path)

        if path is None:
            return

        @event.listens_for(self.engine.sync_engine, "checkout")
        def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
            current = _file_identity(path)
            if current is None:
                raise DatabaseUnavailableError(f"the SQLite database {path} does not exist")
            if record.info.get("sqlite_file") != current:
                # The file was replaced (restored, moved): this connection still reads the old
                # one. The pool discards it and connects again, to the file now at `path`.
                raise DisconnectionError("the SQLite database file was replaced")

    def check_file(self) -> None:
        """SQLite only: the file must exist and be writable, as requests need it."""
        path = self.sqlite_path
        if path is None:
            return
        if not os.path.exists(path):
            raise DatabaseUnavailableError(f"the SQLite database {path} does not exist")
        directory = os.path.dirname(path)
        if not os.access(path, os.R_OK | os.W_OK) or not os.access(directory, os.W_OK):
            raise DatabaseUnavailableError(f"the SQLite database {path} is not writable")

    async def reset_pool(self) -> None:
        """Drop idle pooled connections, so the next requests connect afresh (after an error)."""
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        shared = _SHARED_READS.get()
        if shared is not None and shared.holds_slot:
            # Never hold a read connection while waiting for a write one: with every pooled
            # connection held that way, no request could go on (the pool would be exhausted).
            await shared.session.close()
            self._release_slot()
            shared.holds_slot = False
        async with self._slot(), self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def shared_reads(self) -> AsyncIterator[None]:
        """Within this block, every `read()` of the current task uses one session.

        A GET checks its token and reads its page through one pooled connection: one checkout
        (and its ping) instead of two. The connection goes back to the pool when the block
        ends, or before a `transaction()` starts.
        """
        if _SHARED_READS.get() is not None:
            yield
            return
        shared = _Shared(self._read_sessionmaker())
        token = _SHARED_READS.set(shared)
        try:
            yield
        finally:
            _SHARED_READS.reset(token)
            try:
                await shared.session.close()
            finally:
                if shared.holds_slot:
                    self._release_slot()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads that are one statement each, outside any transaction.

        The connection is in autocommit mode: no BEGIN and COMMIT round trips around a
        single SELECT (which sees one snapshot anyway). Anything that writes, or reads
        with several statements that must agree, uses `transaction()`. Inside
        `shared_reads()` the block's session is used (and stays open).
        """
        shared = _SHARED_READS.get()
        if shared is not None:
            if not shared.holds_slot:
                await self._acquire_slot()
                shared.holds_slot = True
            yield shared.session
            return
        async with self._slot(), self._read_sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """One of the pool's slots for the block (PostgreSQL; nothing elsewhere)."""
        await self._acquire_slot()
        try:
            yield
        finally:
            self._release_slot()

    async def _acquire_slot(self) -> None:
        if self._slots is not None:
            await self._slots.acquire()

    def _release_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()

    async def ping(self) -> None:
        """Check the database as requests use it, through their pool.

        A real table is read (the schema must be there, not just a server); on SQLite the file
        must exist and a write must be accepted: the header's user_version is written back
        unchanged, which fails on a read-only file, directory or mount.
        """
        import app.models  # noqa: F401  (registers every model on Base.metadata)

        self.check_file()
        table = Base.metadata.sorted_tables[0].name
        async with self.engine.connect() as conn:
            await conn.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1'))
            if self.is_sqlite:
                await _sqlite_write_probe(conn)

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


def _install_postgresql_ping(engine: AsyncEngine) -> None:
    """Ping every pooled connection on checkout with one round trip; on failure reconnect.

    SQLAlchemy's `pool_pre_ping` does the same with asyncpg as three round trips (BEGIN, an
    empty query, ROLLBACK: made for PgBouncer's transaction mode, which this app does not use)
    and measured ~20 % of an authenticated list request's CPU. Here the empty query runs alone.
    A failed ping invalidates the whole pool (a restart broke every connection, not just this
    one), and the pool connects afresh for this checkout: the request does not fail.
    A connection just opened is not pinged.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        record.info["fresh"] = True

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.pop("fresh", False):
            return
        try:
            await_only(record.driver_connection.fetchrow(";"))
        except Exception as exc:
            raise InvalidatePoolError(f"the connection failed its ping: {exc!r}") from exc


async def _sqlite_write_probe(conn: AsyncConnection) -> None:
    version = int((await conn.exec_driver_sql("PRAGMA user_version")).scalar() or 0)
    # A writer holding the lock proves the file writable: wait briefly, not the full 5 s.
    await conn.exec_driver_sql("PRAGMA busy_timeout = 200")
    try:
        await conn.exec_driver_sql(f"PRAGMA user_version = {version}")
    except OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
    finally:
        await conn.exec_driver_sql("PRAGMA busy_timeout = 5000")


def get_db() -> Database:
    """The current application's database."""
    return current_app.extensions["database"]
