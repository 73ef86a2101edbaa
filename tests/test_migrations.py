"""Migrations: empty to head, no drift from the models, and a round trip with data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from crm import migrate
from crm.customers.models import Customer
from crm.db import Database
from crm.interactions.models import Interaction
from tests.client import SYSTEM
from tests.conftest import PG_URL, _fresh_postgres


@pytest.fixture
async def scratch_url(backend: str, tmp_path, database_url: str) -> AsyncIterator[str]:
    """An empty database of the backend under test, separate from the suite's one."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    url = f"{PG_URL}_migrations"
    await _fresh_postgres(url)
    yield url
    await _fresh_postgres(url, drop_only=True)


async def test_an_empty_database_migrates_to_head_without_drift(scratch_url):
    await migrate.upgrade(scratch_url)
    assert await migrate.is_current(scratch_url)
    await migrate.check(scratch_url)  # raises when models and migrations differ


async def test_downgrade_and_upgrade_keep_working_with_rows_in_the_tables(scratch_url):
    from crm.customers import service as customers
    from crm.interactions import service as interactions

    await migrate.upgrade(scratch_url)
    database = Database(scratch_url)
    try:
        async with database.transaction() as session:
            customer = await customers.create_customer(
                session, SYSTEM, {"email": "keep@example.com", "given_name": "Keep"}
            )
            assert customer.id is not None
            await interactions.log_interaction(
                session,
                SYSTEM,
                customer.id,
                {
                    "channel": "store",
                    "direction": "inbound",
                    "kind": "purchase",
                    "amount": "12.50",
                    "currency": "EUR",
                },
            )
        # Down one revision and back with rows in the tables: the rows survive.
        await migrate.downgrade(scratch_url, "-1")
        await migrate.upgrade(scratch_url)
        await migrate.check(scratch_url)
        async with database.transaction() as session:
            kept = await session.scalar(select(Customer))
            assert kept is not None and kept.email == "keep@example.com"
            assert (
                await session.scalar(select(func.count()).select_from(Interaction)) == 1
            )
            if database.sqlite:
                hits = await session.execute(
                    text(
                        "SELECT rowid FROM customer_fts "
                        "WHERE customer_fts MATCH 'keep*'"
                    )
                )
                assert [r[0] for r in hits] == [kept.id]
        # All the way down and up again on a database that held data.
        await migrate.downgrade(scratch_url, "base")
        await migrate.upgrade(scratch_url)
        await migrate.check(scratch_url)
    finally:
        await database.dispose()
