"""SQLAlchemy 2 engine (sync: Flask on gunicorn's gevent workers), sessions and the declarative base.

DATABASE_URL may name the async drivers the Quart flavour uses (`postgresql+asyncpg://`,
`sqlite+aiosqlite://`): they are mapped to their sync counterparts (psycopg 3, which
cooperates with gevent by itself, and the standard library's sqlite3), so compose files,
CI and `.env` read the same everywhere.

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

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
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


@dataclass
class _Shared:
    """The session `Database.shared_reads()` opened, and whether it holds a pool slot."""

    session: Session
    holds_slot: bool = False


# The shared reads of the current request (a greenlet or thread: gevent patches contextvars), if any.
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
        if value.tzinfo is UTC:  # PostgreSQL's timestamptz in UTC
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DatabaseUnavailableError(Exception):
    """The database cannot serve requests (its file is gone, unreadable or read-only)."""


_SYNC_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "sqlite+aiosqlite": "sqlite",
}


def sync_url(url: str) -> str:
    """DATABASE_URL with the async drivers (and bare `postgresql://`) mapped to sync ones."""
    parsed = make_url(url)
    driver = _SYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        return url
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


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
        url = sync_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("postgresql"):
            # A fixed pool: requests beyond POOL_SIZE wait for a connection (a cheap greenlet
            # wait under gevent).
            # Every checkout is pinged (SQLAlchemy's pre-ping: one `SELECT 1` in autocommit), so the
            # pool recovers by itself after a server restart.
            kwargs |= {"pool_size": POOL_SIZE, "max_overflow": 0, "pool_timeout": 30, "pool_pre_ping": True}
        self.url = url
        # PostgreSQL: the pool's slots, taken first come first served (see `_slot`).
        self._slots = threading.BoundedSemaphore(POOL_SIZE) if url.startswith("postgresql") else None
        self.is_sqlite = make_url(url).drivername.startswith("sqlite")
        self.sqlite_path = sqlite_file(url)
        if self.is_sqlite:
            # Requests of one worker run in greenlets (or threads) that share connections
            # through the pool; the wait for SQLite's write lock is bounded at 5 s.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 5}
        self.engine: Engine = create_engine(url, **kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessionmaker = sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        if self.is_sqlite:
            self._install_sqlite_hooks()

    def _install_sqlite_hooks(self) -> None:
        path = self.sqlite_path
        # Set once the file has been opened: from then on a missing file is an outage, and a
        # new connection must not create an empty database in its place.
        seen = {"file": False}

        @event.listens_for(self.engine, "do_connect")
        def before_connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> None:
            if path is not None and seen["file"] and not os.path.exists(path):
                raise DatabaseUnavailableError(f"the SQLite database {path} does not exist")

        @event.listens_for(self.engine, "connect")
        def on_connect(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            if path is not None:
                seen["file"] = True
                record.info["sqlite_file"] = _file_identity(path)

        if path is None:
            return

        @event.listens_for(self.engine, "checkout")
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

    def reset_pool(self) -> None:
        """Drop idle pooled connections, so the next requests connect afresh (after an error)."""
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        shared = _SHARED_READS.get()
        if shared is not None and shared.holds_slot:
            # Never hold a read connection while waiting for a write one: with every pooled
            # connection held that way, no request could go on (the pool would be exhausted).
            shared.session.close()
            self._release_slot()
            shared.holds_slot = False
        with self._slot(), self.sessionmaker() as session, session.begin():
            yield session

    @contextmanager
    def shared_reads(self) -> Iterator[None]:
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
                shared.session.close()
            finally:
                if shared.holds_slot:
                    self._release_slot()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads that are one statement each, outside any transaction.

        The connection is in autocommit mode: no BEGIN and COMMIT round trips around a
        single SELECT (which sees one snapshot anyway). Anything that writes, or reads
        with several statements that must agree, uses `transaction()`. Inside
        `shared_reads()` the block's session is used (and stays open).
        """
        shared = _SHARED_READS.get()
        if shared is not None:
            if not shared.holds_slot:
                self._acquire_slot()
                shared.holds_slot = True
            yield shared.session
            return
        with self._slot(), self._read_sessionmaker() as session:
            yield session

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """One of the pool's slots for the block (PostgreSQL; nothing elsewhere)."""
        self._acquire_slot()
        try:
            yield
        finally:
            self._release_slot()

    def _acquire_slot(self) -> None:
        if self._slots is not None:
            self._slots.acquire()

    def _release_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()

    def ping(self) -> None:
        """Check the database as requests use it, through their pool.

        A real table is read (the schema must be there, not just a server); on SQLite the file
        must exist and a write must be accepted: the header's user_version is written back
        unchanged, which fails on a read-only file, directory or mount.
        """
        import app.models  # noqa: F401  (registers every model on Base.metadata)

        self.check_file()
        table = Base.metadata.sorted_tables[0].name
        with self.engine.connect() as conn:
            conn.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1'))
            if self.is_sqlite:
                _sqlite_write_probe(conn)

    def create_all(self) -> None:
        """Create every table directly (tests); real databases use Alembic."""
        import app.models  # noqa: F401  (registers every model on Base.metadata)

        Base.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        import app.models  # noqa: F401

        Base.metadata.drop_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_write_probe(conn: Connection) -> None:
    version = int((conn.exec_driver_sql("PRAGMA user_version")).scalar() or 0)
    # A writer holding the lock proves the file writable: wait briefly, not the full 5 s.
    conn.exec_driver_sql("PRAGMA busy_timeout = 200")
    try:
        conn.exec_driver_sql(f"PRAGMA user_version = {version}")
    except OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
    finally:
        conn.exec_driver_sql("PRAGMA busy_timeout = 5000")


def get_db() -> Database:
    """The current application's database."""
    return current_app.extensions["database"]
