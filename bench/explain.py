"""EXPLAIN (ANALYZE, BUFFERS) of the SQL behind each list path.

The statements are not written here: the service functions the resolvers call run
with a SystemActor while a `before_cursor_execute` listener records what they send,
and each recorded statement is then explained with its own parameters. When the
services change, the plans here change with them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.database import ACTOR, Fixtures
from bench.scenarios import ACTIVE_BUYERS_WHERE, RECENT_VIP_WHERE, domain_where
from crm.customers import service as customer_service
from crm.db import Database
from crm.interactions import service as interaction_service
from crm.pagination import PageRequest, count

SEQ_SCAN = re.compile(r"Seq Scan on (customer|interaction)\b(?: (\w+))?")
SLOW_MS = 20.0  # an execution slower than this is called out
LIMIT_MS = 120_000  # per statement: a runaway plan fails instead of stalling
MANY_REMOVED = 10_000  # rows read and thrown away by one plan node


@dataclass
class Plan:
    path: str
    statement: str
    sql: str
    plan: str
    service_ms: float | None = None  # the whole service call, Python included
    planning_ms: float | None = None
    execution_ms: float | None = None
    flags: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "statement": self.statement,
            "service_ms": self.service_ms,
            "planning_ms": self.planning_ms,
            "execution_ms": self.execution_ms,
            "flags": self.flags,
            "sql": self.sql,
            "plan": self.plan,
        }


def _flags(plan: str, execution_ms: float | None) -> list[str]:
    flags = []
    for table, alias in sorted(set(SEQ_SCAN.findall(plan))):
        flags.append(f"Seq Scan on {table}" + (f" ({alias})" if alias else ""))
    if "JIT:" in plan:
        flags.append("JIT compiled")
    if re.search(r"Sort Method: external|Disk:", plan):
        flags.append("sort spilled to disk")
    removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
    if removed and max(removed) >= MANY_REMOVED:
        flags.append(f"filter discarded {max(removed):,} rows")
    if execution_ms is not None and execution_ms > SLOW_MS:
        flags.append(f"slow (> {SLOW_MS:.0f} ms)")
    return flags


def _label(index: int, sql: str) -> str:
    """A name for a statement the path was not expected to send."""
    table = re.search(r"\bFROM\s+(\w+)", sql)
    return f"#{index + 1} from {table.group(1) if table else '?'}"


def _number(pattern: str, plan: str) -> float | None:
    found = re.search(pattern, plan)
    return float(found.group(1)) if found else None


@contextmanager
def captured(database: Database) -> Any:
    """Record (SQL, parameters) of every statement sent while the block runs."""
    statements: list[tuple[str, Any]] = []

    def record(
        _conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool
    ) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((sql, params))

    engine = database.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


Work = Callable[[AsyncSession], Awaitable[Any]]


async def slowest_prefix(database: Database, fx: Fixtures) -> str:
    """The seeded surname prefix whose search takes longest (best of two tries)."""
    took: dict[str, float] = {}
    async with database.session(write=False) as session:
        for _ in range(2):
            for prefix in fx.surname_prefixes:
                started = time.perf_counter()
                await customer_service.list_customers(
                    session, ACTOR, page=PageRequest(first=20), search=prefix
                )
                elapsed = time.perf_counter() - started
                took[prefix] = min(took.get(prefix, elapsed), elapsed)
        await session.rollback()
    return max(took, key=lambda prefix: took[prefix])


def paths(fx: Fixtures, prefix: str) -> list[tuple[str, Sequence[str], Work]]:
    """(path, a name per statement it sends, the service calls that send them)."""
    middle = fx.cursors[len(fx.cursors) // 2]
    customer_id = fx.busy_customer_id

    async def customers_page(session: AsyncSession) -> None:
        listed = await customer_service.list_customers(
            session, ACTOR, page=PageRequest(first=50, after=middle)
        )
        ids = [c.id for c in listed.page.items if c.id is not None]
        await interaction_service.first_pages_by_customer(session, ACTOR, ids, size=5)

    def filtered(where: dict[str, Any]) -> Work:
        async def work(session: AsyncSession) -> None:
            listed = await customer_service.list_customers(
                session, ACTOR, page=PageRequest(first=50), where=domain_where(where)
            )
            await count(session, listed.count_statement)

        return work

    async def search(session: AsyncSession) -> None:
        await customer_service.list_customers(
            session, ACTOR, page=PageRequest(first=20), search=prefix
        )

    async def customer_by_id(session: AsyncSession) -> None:
        await customer_service.get_customer(session, ACTOR, fx.customer_ids[0])

    async def interactions_by_customer(session: AsyncSession) -> None:
        # Customer.interactions past its first page (with `after`) takes this path.
        first = await interaction_service.list_interactions(
            session, ACTOR, page=PageRequest(first=5), customer_id=customer_id
        )
        after = first.page.cursors[-1] if first.page.cursors else None
        await interaction_service.list_interactions(
            session,
            ACTOR,
            page=PageRequest(first=20, after=after),
            customer_id=customer_id,
        )

    async def interactions_recent(session: AsyncSession) -> None:
        await interaction_service.list_interactions(
            session,
            ACTOR,
            page=PageRequest(first=50),
            where={"kind": {"eq": "purchase"}},
        )

    return [
        (
            "customers_page",
            ("page by created_at", "interactions window"),
            customers_page,
        ),
        ("filtered_page_with_total", ("page", "count"), filtered(ACTIVE_BUYERS_WHERE)),
        ("filtered_created_tags", ("page", "count"), filtered(RECENT_VIP_WHERE)),
        (f"search '{prefix}' (slowest)", ("page",), search),
        ("customer_by_id", ("by id",), customer_by_id),
        (
            "interactions_by_customer",
            ("first page", "page after cursor"),
            interactions_by_customer,
        ),
        ("interactions_purchases", ("newest purchases",), interactions_recent),
    ]


async def explain_all(database: Database, fx: Fixtures) -> list[Plan]:
    plans: list[Plan] = []
    prefix = await slowest_prefix(database, fx)
    for path, names, work in paths(fx, prefix):
        async with database.session(write=False) as session:
            await session.execute(text(f"SET LOCAL statement_timeout = {LIMIT_MS}"))
            await work(session)  # warm: caches as under load
            with captured(database) as statements:
                started = time.perf_counter()
                await work(session)
                service_ms = (time.perf_counter() - started) * 1000
            connection = await session.connection()
            for i, (sql, params) in enumerate(statements):
                name = names[i] if len(statements) == len(names) else _label(i, sql)
                result = await connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + sql, params
                )
                plan_text = "\n".join(row[0] for row in result)
                execution = _number(r"Execution Time: ([\d.]+) ms", plan_text)
                plans.append(
                    Plan(
                        path=path,
                        statement=name,
                        sql=sql,
                        plan=plan_text,
                        service_ms=round(service_ms, 2),
                        planning_ms=_number(r"Planning Time: ([\d.]+) ms", plan_text),
                        execution_ms=execution,
                        flags=_flags(plan_text, execution),
                    )
                )
            await session.rollback()
    return plans
