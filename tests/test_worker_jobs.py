"""The worker's registry: insights before segments, each job doing its work once;
the insight history thinned to its retention."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, update
from sqlmodel import col

from api.settings import Settings
from api.worker import JOBS, run_worker
from crm.columns import utcnow
from crm.insights.models import CustomerInsight, InsightModelFit, InsightSnapshot
from tests.client import Api


def test_insights_are_refreshed_before_the_segments_that_use_them():
    names = [job.name for job in JOBS]
    assert names.index("insights.refresh") < names.index("segments.refresh")


async def fits(api: Api) -> int:
    async with api.db.transaction(write=False) as session:
        return int(
            await session.scalar(select(func.count()).select_from(InsightModelFit))
        )


async def test_the_worker_refreshes_insights_only_when_the_last_refresh_is_old(
    api: Api, caplog: pytest.LogCaptureFixture
):
    # Given customers with purchases and no insights yet
    for name in ("Ada", "Bo"):
        customer = await api.customer(display_name=name)
        await api.interaction(
            customer,
            kind="purchase",
            amount=Decimal("30"),
            currency="EUR",
            channel="web",
            direction="inbound",
        )
    jobs = [job for job in JOBS if job.name == "insights.refresh"]
    settings = Settings(insights_refresh_hours=24)

    # When the worker runs, it refreshes them
    with caplog.at_level(logging.INFO, logger="mutual.worker"):
        assert await run_worker(api.db, settings, once=True, jobs=jobs) == {
            "insights.refresh": True
        }
    assert "refreshed insights of 2 customer(s)" in caplog.text
    assert await fits(api) == 1
    assert await api.count(CustomerInsight) == 2

    # And a second round within the day does nothing
    await run_worker(api.db, settings, once=True, jobs=jobs)
    assert await fits(api) == 1

    # But once the last refresh is older than the setting, it runs again
    async with api.db.transaction() as session:
        await session.execute(
            update(InsightModelFit).values(fitted_at=utcnow() - timedelta(hours=25))
        )
    await run_worker(api.db, settings, once=True, jobs=jobs)
    assert await fits(api) == 2
    async with api.db.transaction(write=False) as session:
        latest = await session.scalar(select(func.max(col(InsightModelFit.fitted_at))))
    assert latest is not None and utcnow() - latest < timedelta(minutes=5)


def test_snapshots_are_thinned_after_the_insights_refresh():
    names = [job.name for job in JOBS]
    assert names.index("insights.refresh") < names.index("insights.thin_snapshots")


async def test_the_worker_thins_insight_snapshots_to_the_retention_settings(
    api: Api, caplog: pytest.LogCaptureFixture
):
    # Given a customer with a recent snapshot, two in an old month and one too old
    customer = await api.customer(display_name="Ada")
    now = utcnow()
    old_month = now - timedelta(days=200)
    taken = [
        now - timedelta(days=1),
        old_month.replace(day=2, hour=1),
        old_month.replace(day=3, hour=1),
        now - timedelta(days=3000),
    ]
    async with api.db.transaction() as session:
        await session.execute(
            insert(InsightSnapshot),
            [{"customer_id": customer, "taken_at": when} for when in taken],
        )
    jobs = [job for job in JOBS if job.name == "insights.thin_snapshots"]
    settings = Settings(
        insight_snapshots_daily_days=30, insight_snapshots_monthly_months=24
    )

    # When the worker runs the job
    with caplog.at_level(logging.INFO, logger="mutual.worker"):
        assert await run_worker(api.db, settings, once=True, jobs=jobs) == {
            "insights.thin_snapshots": True
        }

    # Then the recent one and the last of the old month remain
    assert "deleted 2 insight snapshot(s)" in caplog.text
    async with api.db.transaction(write=False) as session:
        kept = set(await session.scalars(select(col(InsightSnapshot.taken_at))))
    assert kept == {taken[0], taken[2]}


def test_retention_settings_refuse_a_window_of_no_days():
    with pytest.raises(ValueError):
        Settings(insight_snapshots_daily_days=0)
    with pytest.raises(ValueError):
        Settings(insight_snapshots_monthly_months=-1)
