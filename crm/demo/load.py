"""Writing a plan in bulk: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from itertools import repeat
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import SystemActor
from crm.customers.models import Customer
from crm.db import Database
from crm.demo.names import STAFF
from crm.demo.plan import DemoPlan
from crm.demo.timeline import _datetimes
from crm.errors import Conflict
from crm.interactions.models import Interaction, Source
from crm.staff import service as staff_service
from crm.staff.models import StaffMember

ACTOR = SystemActor(name="demo")
# fmt: off
CUSTOMER_COLUMNS = ("id", "external_ref", "email", "email_key", "phone", "given_name",
                    "family_name", "display_name", "company", "locale", "time_zone",
                    "lifecycle_stage", "tags", "attributes", "owner_id", "search_text",
                    "created_at", "updated_at", "version")
INTERACTION_COLUMNS = ("customer_id", "occurred_at", "channel", "direction", "kind",
                       "subject", "body", "amount", "currency", "cost_to_serve",
                       "rating", "sentiment", "visibility", "source", "recorded_by",
                       "created_at", "updated_at", "version")
# fmt: on


def _money(cents: np.ndarray) -> list[Decimal | None]:
    return [None if c < 0 else Decimal(c).scaleb(-2) for c in cents.tolist()]


def _customer_rows(
    plan: DemoPlan,
    lo: int,
    hi: int,
    ids: np.ndarray,
    owners: list[int | None],
    *,
    json_text: bool,
) -> list[tuple[Any, ...]]:
    c = {k: v[lo:hi] for k, v in plan.customers.items()}

    def doc(value: Any) -> Any:  # asyncpg's COPY takes JSON as text
        return orjson.dumps(value).decode() if json_text else value

    return list(
        zip(
            ids[lo:hi].tolist(),
            *(c[k] for k in CUSTOMER_COLUMNS[1:12]),
            map(doc, c["tags"]),
            map(doc, c["attributes"]),
            [owners[s] for s in plan.owner_slot[lo:hi].tolist()],
            c["search_text"],
            c["created_at"],
            c["updated_at"],
            repeat(1),
            strict=False,  # repeat() is endless
        )
    )


def _interaction_rows(
    plan: DemoPlan, lo: int, hi: int, ids: np.ndarray
) -> list[tuple[Any, ...]]:
    c = {k: v[lo:hi] for k, v in plan.interactions.items()}
    occurred = _datetimes(c["day"])
    money = (c["amount"] >= 0) | (c["cost"] >= 0)
    return list(
        zip(
            ids[c["cust"]].tolist(),
            occurred,
            *(
                c[k].tolist()
                for k in ("channel", "direction", "kind", "subject", "body")
            ),
            _money(c["amount"]),
            list(np.where(money, plan.currency[c["cust"]], None)),
            _money(c["cost"]),
            [None if r < 0 else r for r in c["rating"].tolist()],
            [None if s != s else s for s in c["sentiment"].tolist()],  # NaN: none
            c["visibility"].tolist(),
            repeat(Source.IMPORT.value),
            repeat(ACTOR.ref),
            occurred,
            occurred,
            repeat(1),
            strict=False,  # repeat() is endless
        )
    )


async def _write(
    session: AsyncSession,
    database: Database,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> None:
    if not rows:
        return
    if database.sqlite:
        await session.execute(
            insert(table), [dict(zip(columns, row, strict=True)) for row in rows]
        )
        return
    # COPY is several times faster than executemany. It joins the session's
    # transaction, which the statements before it on this connection began.
    connection = (
        await (await session.connection()).get_raw_connection()
    ).driver_connection
    assert connection is not None
    await connection.copy_records_to_table(
        table.name, records=rows, columns=list(columns)
    )


_DEFERRABLE = """
SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY(CAST(:tables AS regclass[]))
  AND NOT i.indisprimary AND NOT i.indisunique
UNION ALL
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
              pg_get_constraintdef(c.oid))
FROM pg_constraint c
WHERE c.conrelid = ANY(CAST(:tables AS regclass[])) AND c.contype = 'f'
"""


@asynccontextmanager
async def _indexes_rebuilt_after(
    session: AsyncSession, tables: Sequence[str]
) -> AsyncIterator[None]:
    """Drop secondary indexes and foreign keys for a bulk load; rebuild them after.

    Building an index once is several times cheaper than updating it row by row
    (pg_restore loads the same way): 1M interactions load in half the time. The
    definitions are read from the catalog, so later migrations are honoured, and
    DDL is transactional: if the load fails, the rollback restores them.
    """
    found = (await session.execute(text(_DEFERRABLE), {"tables": list(tables)})).all()
    connection = await session.connection()  # DDL verbatim: no bind-parameter parsing
    for drop, _ in found:
        await connection.exec_driver_sql(drop)
    yield
    await connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    for _, create in found:
        await connection.exec_driver_sql(create)


async def _reserve_ids(session: AsyncSession, database: Database, n: int) -> np.ndarray:
    """Ids for the customers about to be written, so interactions can cite them."""
    if database.sqlite:  # the writer's BEGIN IMMEDIATE holds the lock: max+1 is ours
        top = await session.scalar(select(func.coalesce(func.max(col(Customer.id)), 0)))
        return np.arange(n, dtype="int64") + int(top or 0) + 1
    # Drawn from the sequence, so it stays right and concurrent inserts are safe.
    drawn = await session.scalars(
        text(
            "SELECT nextval(pg_get_serial_sequence('customer', 'id')) "
            "FROM generate_series(1, :n)"
        ),
        {"n": n},
    )
    return np.array(drawn.all(), dtype="int64")


async def _refuse_twice(session: AsyncSession) -> None:
    found = await session.scalar(
        select(col(Customer.id)).where(col(Customer.external_ref) == "demo-0")
    )
    if found is not None:
        raise Conflict("demo data already present")


async def _bulk_loadable(session: AsyncSession) -> bool:
    """Empty tables we own: rebuilding their indexes is cheap and hides no data."""
    for model in (Customer, Interaction):
        if await session.scalar(select(col(model.id)).limit(1)) is not None:
            return False
    owned = await session.scalar(
        text(
            "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class "
            "WHERE oid IN ('customer'::regclass, 'interaction'::regclass)"
        )
    )
    return bool(owned)


async def _ensure_staff(session: AsyncSession) -> tuple[int, list[int | None]]:
    """(members created, id per STAFF slot); members with those emails are reused."""
    found = await session.scalars(
        select(StaffMember).where(col(StaffMember.email_key).in_([s[0] for s in STAFF]))
    )
    by_email = {member.email_key: member for member in found}
    created, ids = 0, []
    for email, name, role in STAFF:
        member = by_email.get(email)
        if member is None:  # created through the service: new accounts are audited
            member = await staff_service.create_staff(
                session, ACTOR, email=email, display_name=name, role=role, password=None
            )
            created += 1
        ids.append(member.id if member.archived_at is None else None)
    return created, ids
