"""The worker's registry: insights before segments, each job doing its work once."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from api.settings import Settings
from api.worker import JOBS, run_worker
from crm.columns import utcnow
from crm.insights.models import CustomerInsight, InsightModelFit
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
