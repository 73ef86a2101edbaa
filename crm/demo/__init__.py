"""Demo data: a deterministic, realistic customer base to try Mutual on.

Purchases follow a BG/NBD-like story: each buyer has a gamma-distributed purchase
rate and, after every purchase, drops out for good with a beta-distributed
probability, so some customers keep buying and others stop. November and December
sell more (thinning of the purchase process), spend per customer is lognormal, and
refunds, support contacts, campaigns, visits, feedback and notes surround it.

Everything is drawn with numpy from one seed, then written in bulk in one
transaction (a failed seed leaves nothing behind): COPY on PostgreSQL,
executemany on SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm import events
from crm.db import Database, metadata
from crm.demo import insights as demo_insights
from crm.demo import segments as demo_segments
from crm.demo import selfservice as demo_selfservice
from crm.demo.load import (
    ACTOR,
    CUSTOMER_COLUMNS,
    INTERACTION_COLUMNS,
    _bulk_loadable,
    _customer_rows,
    _ensure_staff,
    _indexes_rebuilt_after,
    _interaction_rows,
    _refuse_twice,
    _reserve_ids,
    _write,
)
from crm.demo.plan import DemoPlan, plan_demo
from crm.demo.timeline import ANCHOR, HISTORY_DAYS, RECENT_DAYS, START
from crm.errors import BadInput

__all__ = [
    "ANCHOR",
    "HISTORY_DAYS",
    "RECENT_DAYS",
    "START",
    "DemoPlan",
    "DemoSummary",
    "plan_demo",
    "seed_demo",
]

CHUNK = 5_000  # customers written, with their interactions, per round


@dataclass
class DemoSummary:
    """What a seed wrote; `staff` counts the members it created (not reused)."""

    customers: int
    interactions: int
    staff: int
    seconds: float


async def _interaction_count(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT count(*) FROM interaction")) or 0)


async def seed_demo(
    database: Database,
    *,
    customers: int = 500,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Write a demo customer base; Conflict if demo customers are already there.

    `progress` gets the number of customers written so far. Into empty tables on
    PostgreSQL the load defers index maintenance, which holds an exclusive lock on
    the customer and interaction tables until it commits.
    """
    if customers < 1:
        raise BadInput("customers must be at least 1.", field="customers")
    started = time.perf_counter()
    async with database.transaction(write=False) as session:
        await _refuse_twice(session)  # before the work, not after it
    plan = plan_demo(customers, seed)
    cust_of = plan.interactions["cust"]
    tables = metadata.tables["customer"], metadata.tables["interaction"]
    async with database.transaction() as session:
        await _refuse_twice(session)
        created, staff_ids = await _ensure_staff(session)
        owners = [*staff_ids, None]  # slot -1 is nobody
        ids = await _reserve_ids(session, database, customers)
        bulk = not database.sqlite and await _bulk_loadable(session)
        deferred = (
            _indexes_rebuilt_after(session, [t.name for t in tables])
            if bulk
            else nullcontext()
        )
        async with deferred:
            for lo in range(0, customers, CHUNK):
                hi = min(lo + CHUNK, customers)
                rows = _customer_rows(
                    plan, lo, hi, ids, owners, json_text=not database.sqlite
                )
                await _write(session, database, tables[0], CUSTOMER_COLUMNS, rows)
                first, last = np.searchsorted(cust_of, (lo, hi)).tolist()
                rows = _interaction_rows(plan, first, last, ids)
                await _write(session, database, tables[1], INTERACTION_COLUMNS, rows)
                if progress is not None:
                    progress(hi)
        if not database.sqlite:  # fresh statistics, so the first queries plan well
            await session.execute(text("ANALYZE customer, interaction"))
        summary = {"customers": customers, "interactions": int(cust_of.size)}
        await events.record(
            session,
            ACTOR,
            action="demo.seeded",
            entity_type="Demo",
            entity_id=0,
            changes=events.diff({}, {**summary, "seed": seed, "staff": created}),
        )
    # What the other domains add on top: consents and feedback first, then the
    # insights computed from all of it, then the segments that use them.
    async with database.transaction(write=False) as session:
        before = await _interaction_count(session)
    for extra in (demo_selfservice, demo_insights, demo_segments):
        await extra.seed(database, seed=seed)
    async with database.transaction(write=False) as session:
        added = await _interaction_count(session) - before  # customer feedback
    return DemoSummary(
        customers=customers,
        interactions=int(cust_of.size) + added,
        staff=created,
        seconds=time.perf_counter() - started,
    )
