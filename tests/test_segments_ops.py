"""Segments in operation: the CLI, the worker, built-ins, concurrent refreshes, and
the statements a customers page with segments costs."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, update
from sqlmodel import col

from api.cli import main
from api.settings import Settings
from api.worker import Job, run_worker
from crm import migrate
from crm.actors import SystemActor
from crm.audit.models import OutboxEvent
from crm.columns import utcnow
from crm.db import Database
from crm.demo import segments as demo_segments
from crm.ids import to_global_id
from crm.insights.models import CustomerInsight
from crm.insights.refresh import refresh_insights
from crm.insights.service import set_strategic_value
from crm.segments import service
from crm.segments.builtins import BUILTINS
from crm.segments.jobs import refresh_many
from crm.segments.models import Segment, SegmentMembership
from tests.client import SYSTEM, Api
from tests.test_query_counts import statements_of

SECRET = "a secret for the segment cli tests, long enough"


@pytest.fixture
def cli_url(backend, database_url, db, tmp_path, monkeypatch) -> str:
    """A migrated database for the commands (a new SQLite file, or the suite's
    PostgreSQL one, wiped), and a working directory without .env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUTUAL_SECRET_KEY", SECRET)
    monkeypatch.delenv("MUTUAL_DATABASE_URL", raising=False)
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
        asyncio.run(migrate.upgrade(url))
        return url
    return str(database_url)


def mutual(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", url, *args])


async def in_database(url: str, work):  # type: ignore[no-untyped-def]
    database = Database(url)
    try:
        async with database.transaction() as session:
            return await work(session)
    finally:
        await database.dispose()


async def add_customers(url: str, *tags: list[str]) -> list[int]:
    from crm.customers import service as customers

    async def work(session):  # type: ignore[no-untyped-def]
        made = []
        for i, t in enumerate(tags):
            row = await customers.create_customer(
                session, SYSTEM, {"display_name": f"C{i}", "tags": t}
            )
            made.append(row.id)
        return made

    return await in_database(url, work)  # type: ignore[no-any-return]


async def make_segment(url: str, name: str, rule: dict) -> int:  # type: ignore[type-arg]
    async def work(session):  # type: ignore[no-untyped-def]
        made = await service.create_segment(
            session, SYSTEM, {"name": name, "rule": rule}
        )
        return made.id

    return await in_database(url, work)  # type: ignore[no-any-return]


async def sizes(url: str) -> dict[str, int]:
    async def work(session):  # type: ignore[no-untyped-def]
        found = await session.execute(select(Segment.name, Segment.size))
        return dict(found.all())

    return await in_database(url, work)  # type: ignore[no-any-return]


# --- CLI ------------------------------------------------------------------------------


def test_bootstrap_creates_the_builtin_segments_once(cli_url):
    first = mutual(cli_url, "segments", "bootstrap")
    assert first.exit_code == 0, first.output
    assert (
        "Created 3 built-in segment(s): profitable, loyal, strategic." in first.output
    )
    second = mutual(cli_url, "segments", "bootstrap")
    assert second.exit_code == 0, second.output
    assert "exist already" in second.output
    assert set(asyncio.run(sizes(cli_url))) == {b.name for b in BUILTINS}


def test_refresh_command_refreshes_named_or_all_segments_with_progress(cli_url):
    asyncio.run(add_customers(cli_url, ["a"], ["a", "b"], []))
    tagged_a = asyncio.run(make_segment(cli_url, "Tagged a", {"tags": {"has": "a"}}))
    asyncio.run(make_segment(cli_url, "Tagged b", {"tags": {"has": "b"}}))
    one = mutual(cli_url, "segments", "refresh", to_global_id("Segment", tagged_a))
    assert one.exit_code == 0, one.output
    assert "[1/1] Tagged a: +2 -0, 2 members" in one.output
    assert asyncio.run(sizes(cli_url)) == {"Tagged a": 2, "Tagged b": 0}
    every = mutual(cli_url, "segments", "refresh", "--all")
    assert every.exit_code == 0, every.output
    assert "[2/2] Tagged b: +1 -0, 1 members" in every.output
    assert "Refreshed 2 segment(s)." in every.output
    assert asyncio.run(sizes(cli_url)) == {"Tagged a": 2, "Tagged b": 1}


def test_refresh_command_refuses_bad_arguments_cleanly(cli_url):
    neither = mutual(cli_url, "segments", "refresh")
    assert neither.exit_code == 1 and "--all" in neither.output
    wrong = mutual(cli_url, "segments", "refresh", to_global_id("Customer", 3))
    assert wrong.exit_code == 1 and "is not a segment ID" in wrong.output
    missing = mutual(cli_url, "segments", "refresh", "424242")
    assert missing.exit_code == 1 and "No segment with that ID." in missing.output
    assert "Traceback" not in missing.output


def test_worker_once_refreshes_due_segments(cli_url):
    asyncio.run(add_customers(cli_url, ["a"]))
    asyncio.run(make_segment(cli_url, "Tagged a", {"tags": {"has": "a"}}))
    result = mutual(cli_url, "worker", "--once")
    assert result.exit_code == 0, result.output
    assert "Worker stopped." in result.output
    assert asyncio.run(sizes(cli_url)) == {"Tagged a": 1}


# --- the worker loop ------------------------------------------------------------------


async def test_the_worker_refreshes_only_due_segments_and_survives_failing_jobs(
    api: Api, caplog: pytest.LogCaptureFixture
):
    # given a never-refreshed segment and one refreshed a minute ago
    await api.customer(display_name="A", tags=["a"])
    async with api.db.transaction() as session:
        due = await service.create_segment(
            session, SYSTEM, {"name": "Due", "rule": {"tags": {"has": "a"}}}
        )
        fresh = await service.create_segment(
            session, SYSTEM, {"name": "Fresh", "rule": {"tags": {"has": "a"}}}
        )
        await session.execute(
            update(Segment)
            .where(col(Segment.id) == fresh.id)
            .values(refreshed_at=utcnow() - timedelta(minutes=1))
        )
    ran: list[str] = []

    async def broken(database: Database, settings: Settings) -> str:
        ran.append("broken")
        raise RuntimeError("boom")

    from api.worker import JOBS

    jobs = [Job("broken", lambda s: timedelta(seconds=1), broken), *JOBS]
    settings = Settings(segment_refresh_minutes=60)
    # when the worker runs every job once
    with caplog.at_level(logging.INFO, logger="mutual.worker"):
        outcome = await run_worker(api.db, settings, once=True, jobs=jobs)
    # then the failing job is logged and the refresh still ran
    assert outcome == {"broken": False, **{job.name: True for job in JOBS}}
    assert ran == ["broken"]
    assert "broken failed; retrying next round" in caplog.text
    assert "segments.refresh: refreshed 1 segment(s)" in caplog.text
    async with api.db.transaction(write=False) as session:
        found = dict((await session.execute(select(Segment.name, Segment.size))).all())
    assert found == {"Due": 1, "Fresh": 0}
    assert due.id != fresh.id


async def test_the_worker_loop_stops_when_asked(api: Api):
    stop = asyncio.Event()
    runs: list[int] = []

    async def counting(database: Database, settings: Settings) -> str:
        runs.append(1)
        stop.set()
        return "counted"

    jobs = [Job("count", lambda s: timedelta(hours=1), counting)]
    outcome = await asyncio.wait_for(
        run_worker(api.db, Settings(), jobs=jobs, stop=stop), timeout=30
    )
    assert outcome == {"count": True} and runs == [1]


# --- built-ins and the demo -----------------------------------------------------------


async def test_the_demo_seed_creates_and_refreshes_the_builtin_segments(api: Api):
    from crm.interactions import service as interactions

    big = await api.customer(display_name="Big", company="Big Co")
    async with api.db.transaction() as session:
        for days in (3, 30, 60, 100):
            await interactions.log_interaction(
                session,
                SYSTEM,
                big,
                {
                    "channel": "web",
                    "direction": "inbound",
                    "kind": "purchase",
                    "amount": "400",
                    "currency": "EUR",
                    "occurred_at": utcnow() - timedelta(days=days),
                },
            )
    strategic = await api.customer(display_name="Strategic", tags=["strategic"])
    await api.customer(display_name="Nobody")
    # The built-in rules are over insight scores: a refresh first, and a strategic
    # value set by staff, as the demo does.
    await refresh_insights(api.db)
    async with api.db.transaction() as session:
        await set_strategic_value(
            session, SYSTEM, strategic, value=5, reason="Key reference account"
        )
    await demo_segments.seed(api.db, seed=7)
    async with api.db.transaction(write=False) as session:
        found = {
            key: set(
                (
                    await session.scalars(
                        select(SegmentMembership.customer_id)
                        .join(Segment, col(Segment.id) == SegmentMembership.segment_id)
                        .where(col(Segment.builtin_key) == key)
                    )
                ).all()
            )
            for key in ("profitable", "loyal", "strategic")
        }
        scores = {
            row.customer_id: row
            for row in (await session.scalars(select(CustomerInsight))).all()
        }

    def scored(column: str) -> set[int]:
        return {c for c, row in scores.items() if (getattr(row, column) or 0) >= 4}

    # Each built-in holds exactly the customers its score puts there
    assert (
        found["profitable"] == scored("profitability_score")
        and big in found["profitable"]
    )
    assert found["loyal"] == scored("loyalty_score")
    assert found["strategic"] == scored("strategic_score")
    assert strategic in found["strategic"]


# --- concurrency ----------------------------------------------------------------------


async def test_concurrent_refreshes_of_one_segment_keep_one_stint_per_member(api: Api):
    for i in range(30):
        await api.customer(display_name=f"C{i}", tags=["t"])
    async with api.db.transaction() as session:
        segment = await service.create_segment(
            session, SYSTEM, {"name": "T", "rule": {"tags": {"has": "t"}}}
        )
    assert segment.id is not None
    actor = SystemActor(name="race")
    results = await asyncio.gather(
        *(refresh_many(api.db, actor, [segment.id]) for _ in range(4))
    )
    entered = sorted(r[0].entered for r in results)
    assert entered == [0, 0, 0, 30]
    async with api.db.transaction(write=False) as session:
        stints = await session.scalar(
            select(func.count()).select_from(SegmentMembership)
        )
        events = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(col(OutboxEvent.topic) == "segment.customer_entered")
        )
    assert stints == 30 and events == 30


# --- statements per page --------------------------------------------------------------


async def test_a_customers_page_with_segments_costs_the_same_statements_at_any_size(
    api: Api,
):
    for i in range(30):
        await api.customer(display_name=f"C{i:02d}", tags=["even" if i % 2 else "odd"])
    _, token = await api.staff("manager")
    async with api.db.transaction() as session:
        for tag in ("even", "odd"):
            await service.create_segment(
                session, SYSTEM, {"name": tag, "rule": {"tags": {"has": tag}}}
            )
    async with api.db.transaction(write=False) as session:
        ids = list((await session.scalars(select(Segment.id))).all())
    await refresh_many(api.db, SYSTEM, ids)
    query = """query($n: Int!) { customers(first: $n) { nodes {
      id segments { joinedAt segment { name } } } } }"""
    small = await statements_of(api, query, {"n": 3}, token=token)
    large = await statements_of(api, query, {"n": 30}, token=token)
    # the planned page, the customers whose segments the resolvers read, their
    # segments
    assert len(small) == len(large) == 3, large
    data = await api.data(query, {"n": 30}, token=token)
    assert all(len(n["segments"]) == 1 for n in data["customers"]["nodes"])
