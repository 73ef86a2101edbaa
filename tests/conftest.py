"""Fixtures: every test runs on SQLite and on PostgreSQL, migrated with alembic.

PostgreSQL is taken from MUTUAL_TEST_POSTGRES_URL (default: the local server,
user postgres). When it cannot be reached the PostgreSQL half is skipped, unless
CI=true or MUTUAL_TEST_REQUIRE_POSTGRES=1, where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

import crm.models  # noqa: F401
from crm import migrate
from crm.actors import SystemActor
from crm.db import Database, metadata

# One database per test process, so that two runs on one server never collide.
PG_URL = os.environ.get(
    "MUTUAL_TEST_POSTGRES_URL",
    f"postgresql://postgres@127.0.0.1:5432/mutual_test_{os.getpid()}",
)
REQUIRE_PG = os.environ.get("CI") == "true" or os.environ.get(
    "MUTUAL_TEST_REQUIRE_POSTGRES"
) in ("1", "true")
BACKENDS = [
    b
    for b in os.environ.get("MUTUAL_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b
]


async def _fresh_postgres(url: str, *, drop_only: bool = False) -> None:
    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database="postgres",
        timeout=5,
    )
    try:
        name = parsed.database
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    if backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = PG_URL
        try:
            await _fresh_postgres(url)
        except (OSError, asyncpg.PostgresError) as exc:
            if REQUIRE_PG:
                pytest.fail(f"PostgreSQL is required but unreachable: {exc}")
            pytest.skip(f"PostgreSQL unreachable ({exc}); set MUTUAL_TEST_POSTGRES_URL")
    await migrate.upgrade(url)
    yield url
    if backend == "postgresql":
        await _fresh_postgres(url, drop_only=True)


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


_existing_tables: dict[str, set[str]] = {}


async def wipe(database: Database) -> None:
    """Empty every table (DELETE: on small tables far faster than TRUNCATE).

    Only tables the migrations created: a model whose migration is not written yet
    then fails its own tests, not everyone's."""
    async with database.transaction() as session:
        if database.url not in _existing_tables:
            names = await session.run_sync(
                lambda s: inspect(s.connection()).get_table_names()
            )
            _existing_tables[database.url] = set(names)
        existing = _existing_tables[database.url]
        for table in reversed(metadata.sorted_tables):
            if table.name in existing:
                await session.execute(text(f"DELETE FROM {table.name}"))


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    """The migrated database, empty at the start of each test."""
    await wipe(database)
    yield database


@pytest.fixture
def system_actor() -> SystemActor:
    return SystemActor(name="tests")


TEST_SECRET = "test-secret-key-for-the-suite-only"


def make_app(database: Database, *, planner: bool = True):  # type: ignore[no-untyped-def]
    """The ASGI app the suite talks to, over `database`; `planner=False` resolves
    every field on its own (the reference path)."""
    from api.app import create_app
    from api.settings import Settings

    settings = Settings(
        secret_key=TEST_SECRET, environment="development", planner=planner
    )
    assert settings.planner is planner
    return create_app(settings, database=database)


@pytest.fixture(scope="session")
def app(database: Database):  # type: ignore[no-untyped-def]
    return make_app(database)


@pytest.fixture
async def api(app, db):  # type: ignore[no-untyped-def]
    """A GraphQL client over the real ASGI app (see tests/client.py)."""
    import httpx

    from tests.client import Api

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mutual.test"
    ) as http:
        yield Api(http, app, db)
