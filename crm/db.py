"""Engines, sessions and the one metadata every table hangs on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata
metadata.naming_convention = NAMING_CONVENTION


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async drivers."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername != "postgresql+asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def upsert_insert(dialect: str) -> Any:
    """The INSERT construct of `dialect` that has ON CONFLICT (PostgreSQL and
    SQLite spell it alike): `upsert_insert(d)(table).on_conflict_do_update(...)`."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _sqlite_engine(url: str, *, begin: str, foreign_keys: bool) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN is ours to choose.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()
        # Case-insensitive matching beyond ASCII (crm.filtering.CaseInsensitiveLike).
        dbapi_connection.create_function(
            "mutual_fold", 1, _casefold, deterministic=True
        )
        # The API's text forms, for documents the planner has SQLite build.
        from crm.sqljson import register_sqlite_functions

        register_sqlite_functions(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def make_engine(
    url: str, *, writer: bool = False, migrating: bool = False
) -> AsyncEngine:
    """An engine for `url`; on SQLite a writer takes the write lock at BEGIN."""
    url = normalize_url(url)
    if is_sqlite(url):
        return _sqlite_engine(
            url,
            begin="BEGIN IMMEDIATE" if writer or migrating else "BEGIN",
            foreign_keys=not migrating,
        )
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        # No pre-ping: it costs BEGIN, a statement and ROLLBACK on every checkout.
        # A connection the server closed is found without a round trip instead.
        pool_recycle=1800,
        # Typo-tolerant search: "jonh" is 0.4 word-similar to "john".
        connect_args={"server_settings": {"pg_trgm.word_similarity_threshold": "0.3"}},
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Replace a pooled connection that the server has closed (a restart, an
    administrator's pg_terminate_backend, an idle timeout) before it is used.

    asyncpg notices the closed socket as soon as the event loop reads it, so this
    check is local; the pool then connects anew. A connection that dies in the
    instant between this check and its first statement fails that statement, is
    invalidated, and the operation retries once or answers DATABASE_UNAVAILABLE
    (schema/extensions.py).
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def connection_lost(exc: BaseException) -> bool:
    """Whether `exc` says a pooled connection died under a statement (the server
    restarted or ended it); SQLAlchemy has invalidated the connection already."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached: a connection that died,
    one refused or reset, or a server shutting down or starting up."""
    if connection_lost(exc) or isinstance(exc, ConnectionError):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(
        exc, "sqlstate", None
    )
    # Class 08: connection exception; 57P01-57P03: admin or crash shutdown,
    # cannot connect now (starting up).
    return isinstance(sqlstate, str) and (
        sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")
    )


class SerialSession(AsyncSession):
    """An AsyncSession whose statements take turns, and finish once started.

    GraphQL resolves sibling fields (and the DataLoaders they trigger)
    concurrently; one session has one connection, which cannot run two
    statements at once. Each database call waits for the previous one to finish.

    When a field fails, graphql-core cancels its siblings. A statement cancelled
    half-way leaves the connection unusable (the rollback that ends the
    operation then fails), so a call, once it has its turn, is shielded: it runs
    to its end while its caller stops waiting; the commit, rollback or close
    that ends the operation waits for it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn = asyncio.Lock()

    async def in_turn(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Run `call` (which uses this session's connection) in its turn."""
        return await self._in_turn(call, *args, **kwargs)

    async def _in_turn(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            async with self._turn:
                return await call(*args, **kwargs)

        return await asyncio.shield(run())

    # scalars() goes through execute(); scalar(), get(), flush()... do not.
    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await self._in_turn(super().execute, *args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await self._in_turn(super().scalar, *args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return await self._in_turn(super().get, *args, **kwargs)

    async def flush(self, *args: Any, **kwargs: Any) -> None:
        await self._in_turn(super().flush, *args, **kwargs)

    async def delete(self, *args: Any, **kwargs: Any) -> None:
        await self._in_turn(super().delete, *args, **kwargs)

    async def refresh(self, *args: Any, **kwargs: Any) -> None:
        await self._in_turn(super().refresh, *args, **kwargs)

    async def commit(self) -> None:
        await self._in_turn(super().commit)

    async def rollback(self) -> None:
        await self._in_turn(super().rollback)

    async def close(self) -> None:
        await self._in_turn(super().close)


@dataclass
class Database:
    """The engines of one deployment: reads and writes share one on PostgreSQL.

    On SQLite, writes use their own engine whose transactions start with
    BEGIN IMMEDIATE, so two writers queue on the lock instead of failing when a
    read transaction tries to upgrade.
    """

    url: str
    read_engine: AsyncEngine = field(init=False)
    write_engine: AsyncEngine = field(init=False)

    def __post_init__(self) -> None:
        self.url = normalize_url(self.url)
        self.read_engine = make_engine(self.url)
        self.write_engine = (
            make_engine(self.url, writer=True) if self.sqlite else self.read_engine
        )
        self._readers = async_sessionmaker(
            self.read_engine, expire_on_commit=False, class_=SerialSession
        )
        self._writers = async_sessionmaker(
            self.write_engine, expire_on_commit=False, class_=SerialSession
        )

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.url)

    @property
    def dialect(self) -> str:
        return self.read_engine.dialect.name

    def session(self, *, write: bool) -> AsyncSession:
        return (self._writers if write else self._readers)()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block succeeds and rolls back otherwise."""
        async with self.session(write=write) as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()
