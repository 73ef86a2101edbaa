"""The bench database: create it fresh, migrate, seed, vacuum, and read test data."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from crm import migrate
from crm.actors import SystemActor
from crm.customers.models import Customer
from crm.db import Database, normalize_url
from crm.ids import to_global_id
from crm.interactions.models import Interaction
from crm.pagination import encode_cursor
from crm.staff import service as staff_service
from crm.staff.models import StaffMember
from crm.tokens import TokenSigner
from crm.validation import fold

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mutual_bench"
BENCH_ADMIN = "bench-admin@mutual.example"
ACTOR = SystemActor(name="bench")
SEED_LIMIT_SECONDS = 1800  # at least; more for big seeds (seed_limit_seconds)


def seed_budget_seconds(customers: int) -> float:
    """What a seed should take: 2 minutes per 100,000 customers (and no less)."""
    return 120.0 * max(1.0, customers / 100_000)


def seed_limit_seconds(customers: int) -> float:
    """When a seed is taken to hang: 30 minutes, or 4 times its budget."""
    return max(SEED_LIMIT_SECONDS, 4 * seed_budget_seconds(customers))


def check_url(url: str) -> URL:
    """The parsed URL; refuses SQLite and databases not named for benchmarks."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("The bench runs on PostgreSQL: give a postgresql:// URL.")
    if not parsed.database or "bench" not in parsed.database:
        # The bench drops and re-creates its database: never point it at real data.
        raise SystemExit(
            f"Refusing database {parsed.database!r}: the bench drops and re-creates "
            "its database, so its name must contain 'bench'."
        )
    return parsed


def _maintenance_engine(url: URL) -> Any:
    return create_async_engine(
        url.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )


async def database_exists(url: URL) -> bool:
    engine = _maintenance_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": url.database},
            )
            return found is not None
    finally:
        await engine.dispose()


async def recreate_database(url: URL) -> None:
    engine = _maintenance_engine(url)
    quoted = engine.dialect.identifier_preparer.quote(url.database)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        await engine.dispose()


async def customer_count(database: Database) -> int:
    async with database.session(write=False) as session:
        return int(
            await session.scalar(select(func.count()).select_from(Customer)) or 0
        )


async def interaction_count(database: Database) -> int:
    async with database.session(write=False) as session:
        counted = select(func.count()).select_from(Interaction)
        return int(await session.scalar(counted) or 0)


@dataclass
class SeedReport:
    reused: bool
    customers: int
    interactions: int
    seed_seconds: float | None = None
    seed_stage_seconds: dict[str, float] | None = None
    migrate_seconds: float | None = None
    vacuum_analyze_seconds: float | None = None


async def prepare(url: URL, *, customers: int, seed: int, reuse: bool) -> SeedReport:
    """A migrated database holding `customers` demo customers, vacuumed and analyzed."""
    plain_url = url.render_as_string(hide_password=False)
    if reuse and await database_exists(url):
        await migrate.upgrade(plain_url)
        database = Database(plain_url)
        try:
            found = await customer_count(database)
            if found == customers:
                print(f"Reusing {url.database}: {found:,} customers already there.")
                started = time.perf_counter()
                await analyze(database, vacuum=False)
                return SeedReport(
                    reused=True,
                    customers=found,
                    interactions=await interaction_count(database),
                    vacuum_analyze_seconds=time.perf_counter() - started,
                )
            print(
                f"{url.database} holds {found:,} customers, not {customers:,}: "
                "re-creating it."
            )
        finally:
            await database.dispose()
    print(f"Creating database {url.database} ...", flush=True)
    await recreate_database(url)
    started = time.perf_counter()
    await migrate.upgrade(plain_url)
    migrated = time.perf_counter() - started
    database = Database(plain_url)
    try:
        seconds, summary, stages = await _seed(database, customers, seed)
        print(
            f"Seeded {summary.customers:,} customers and {summary.interactions:,} "
            f"interactions in {seconds:.1f} s."
        )
        print("VACUUM (ANALYZE) ...", flush=True)
        started = time.perf_counter()
        await analyze(database, vacuum=True)
        vacuumed = time.perf_counter() - started
        print(f"VACUUM (ANALYZE) in {vacuumed:.1f} s.")
        return SeedReport(
            reused=False,
            customers=summary.customers,
            interactions=summary.interactions,
            seed_seconds=seconds,
            seed_stage_seconds={k: round(v, 1) for k, v in stages.items()},
            migrate_seconds=migrated,
            vacuum_analyze_seconds=vacuumed,
        )
    finally:
        await database.dispose()


@contextmanager
def _timed_stages(stages: dict[str, float], started: float) -> Iterator[None]:
    """Time the stages `crm.demo.seed_demo` runs after the bulk load (it calls each
    module's `seed` by attribute, so wrapping them here times them; restored after)."""
    from crm.demo import insights, segments, selfservice

    modules = {
        "consents and feedback": selfservice,
        "insights": insights,
        "segments": segments,
    }
    originals = {label: module.seed for label, module in modules.items()}

    def timed(label: str) -> Any:
        original = originals[label]

        async def run(*args: Any, **kwargs: Any) -> Any:
            begun = time.perf_counter()
            if "rows" in stages and "indexes and ANALYZE" not in stages:
                stages["indexes and ANALYZE"] = begun - started - stages["rows"]
            print(f"  {label} ...", flush=True)
            try:
                return await original(*args, **kwargs)
            finally:
                stages[label] = time.perf_counter() - begun
                print(f"  {label}: {stages[label]:.1f} s", flush=True)

        return run

    for label, module in modules.items():
        setattr(module, "seed", timed(label))  # noqa: B010
    try:
        yield
    finally:
        for label, module in modules.items():
            setattr(module, "seed", originals[label])  # noqa: B010


async def _seed(
    database: Database, customers: int, seed: int
) -> tuple[float, Any, dict[str, float]]:
    from tqdm import tqdm

    from crm.demo import seed_demo

    started = time.perf_counter()
    interactive = sys.stderr.isatty()
    step = max(1, customers // 10)
    reported = [0]
    stages: dict[str, float] = {}
    with tqdm(
        total=customers, unit="customers", desc="Seeding", disable=not interactive
    ) as bar:

        def progress(done: int) -> None:
            bar.update(done - bar.n)
            elapsed = time.perf_counter() - started
            # Without a terminal (CI, a log file): a line every 10 %, so a long
            # seed (1M customers) shows it is moving.
            if not interactive and (done - reported[0] >= step or done == customers):
                reported[0] = done
                print(
                    f"  {done:,} / {customers:,} customers written ({elapsed:.0f} s)",
                    flush=True,
                )
            if done == customers:
                stages["rows"] = elapsed
                print("  rows written; indexes and ANALYZE ...", flush=True)

        # A hang (a lock, a stuck connection) fails the run instead of stalling it.
        async with asyncio.timeout(seed_limit_seconds(customers)):
            with _timed_stages(stages, started):
                summary = await seed_demo(
                    database, customers=customers, seed=seed, progress=progress
                )
    return time.perf_counter() - started, summary, stages


async def analyze(database: Database, *, vacuum: bool) -> None:
    """Fresh statistics; VACUUM also sets the visibility map after the bulk load,
    as autovacuum would on a live database, so index-only scans stay index-only."""
    async with database.read_engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM (ANALYZE)" if vacuum else "ANALYZE"))


async def issue_token(database: Database, secret: str) -> str:
    """A bearer token for the bench's own admin, created through the service."""
    async with database.transaction() as session:
        member = await session.scalar(
            select(StaffMember).where(col(StaffMember.email_key) == BENCH_ADMIN)
        )
        if member is None:
            member = await staff_service.create_staff(
                session,
                ACTOR,
                email=BENCH_ADMIN,
                display_name="Bench Admin",
                role="admin",
                password=None,
            )
    signer = TokenSigner(secret=secret, ttl=timedelta(hours=6))
    return signer.issue(f"staff:{member.id}").token


@dataclass
class Fixtures:
    """Inputs for the scenarios, drawn from the seeded rows."""

    customer_ids: list[int]  # any customers (customer_by_id)
    open_customer_ids: list[int]  # not archived (interaction_log)
    cursors: list[str | None]  # created_at keyset cursors across the whole list
    surname_prefixes: list[str]
    id_range: tuple[int, int]
    busy_customer_id: int  # many interactions: their list has later pages

    def global_ids(self, ids: list[int]) -> list[str]:
        return [to_global_id("Customer", i) for i in ids]


async def load_fixtures(database: Database, seed: int) -> Fixtures:
    rng = random.Random(seed)
    async with database.session(write=False) as session:
        bounds = select(func.min(col(Customer.id)), func.max(col(Customer.id)))
        low, high = (await session.execute(bounds)).one()
        # setseed makes ORDER BY random() repeatable between runs on the same data.
        await session.execute(select(func.setseed(0.42)))
        sample = (
            await session.execute(
                select(
                    col(Customer.id),
                    col(Customer.created_at),
                    col(Customer.archived_at),
                    col(Customer.family_name),
                )
                .order_by(func.random())
                .limit(5000)
            )
        ).all()
        ids: list[int] = [row.id for row in sample]
        busy = await session.scalar(
            select(col(Interaction.customer_id))
            .where(col(Interaction.customer_id).in_(ids[:500]))
            .group_by(col(Interaction.customer_id))
            .order_by(func.count().desc(), col(Interaction.customer_id))
            .limit(1)
        )
    open_ids = [row.id for row in sample if row.archived_at is None]
    # Cursors as the list itself writes them (created_at, id): pages all over the
    # list, not one page the database and the OS keep hot.
    cursors: list[str | None] = [None]
    cursors += [encode_cursor([row.created_at, row.id]) for row in sample[:300]]
    prefixes: set[str] = set()
    for row in sample:
        words = [w for w in fold(row.family_name or "").split() if len(w) >= 5]
        if words:
            prefixes.add(words[-1][:4])
    chosen = sorted(prefixes)
    rng.shuffle(chosen)
    return Fixtures(
        customer_ids=ids,
        open_customer_ids=open_ids,
        cursors=cursors,
        surname_prefixes=sorted(chosen[:12]),
        id_range=(int(low or 0), int(high or 0)),
        busy_customer_id=busy if busy is not None else ids[0],
    )
