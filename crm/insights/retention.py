"""Retention of insight snapshots: daily history thinned to one snapshot a month.

A refresh appends one `insight_snapshot` row per customer. `thin_snapshots` keeps
every snapshot taken in the last `daily_days` days; older ones are thinned to the
last snapshot of each customer per calendar month (UTC) for `monthly_months`
calendar months, counting the month in which the daily window starts; snapshots of
earlier months are deleted.

Months are ranked among the snapshots older than the daily window only, so the
last snapshot before the window always stays: the first snapshot inside the window
keeps the same predecessor, and defections inside the window are unaffected.

One DELETE per batch of customer ids (a window function picks the survivors), each
batch its own transaction, so one run never holds a huge one. The same statement
runs on PostgreSQL and SQLite; only the month key differs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Delete, String, delete, func, literal, or_, select
from sqlmodel import col

from crm.columns import utcnow
from crm.db import Database
from crm.insights.models import InsightSnapshot

__all__ = ["DEFAULT_BATCH_CUSTOMERS", "cutoffs", "thin_snapshots"]

DEFAULT_BATCH_CUSTOMERS = 2000


def _month_start(when: datetime, months_back: int) -> datetime:
    """The first instant (UTC) of the month `months_back` months before `when`'s."""
    index = when.year * 12 + (when.month - 1) - months_back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def cutoffs(
    *, daily_days: int, monthly_months: int, now: datetime
) -> tuple[datetime, datetime]:
    """(daily cutoff, monthly cutoff): every snapshot at or after the first is
    kept; before it, one a month is kept down to the second; before that none."""
    if daily_days < 0 or monthly_months < 0:
        raise ValueError("daily_days and monthly_months cannot be negative")
    if now.tzinfo is None:
        raise ValueError("now needs a UTC offset")
    daily = now.astimezone(UTC) - timedelta(days=daily_days)
    monthly = min(_month_start(daily, monthly_months - 1), daily)
    return daily, monthly


def _month_key(dialect: str) -> ColumnElement[str]:
    taken_at = col(InsightSnapshot.taken_at)
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", taken_at), literal("YYYY-MM"))
    # SQLite keeps UTC as naive ISO text: "YYYY-MM-DD HH:MM:SS...".
    return func.substr(func.cast(taken_at, String), 1, 7)


async def thin_snapshots(
    database: Database,
    *,
    daily_days: int,
    monthly_months: int,
    now: datetime | None = None,
    batch_customers: int = DEFAULT_BATCH_CUSTOMERS,
) -> int:
    """Delete the snapshots the retention no longer keeps; returns how many."""
    if batch_customers < 1:
        raise ValueError("batch_customers must be at least 1")
    daily, monthly = cutoffs(
        daily_days=daily_days, monthly_months=monthly_months, now=now or utcnow()
    )
    customer_id = col(InsightSnapshot.customer_id)
    async with database.transaction(write=False) as session:
        bounds = (
            await session.execute(
                select(func.min(customer_id), func.max(customer_id)).where(
                    col(InsightSnapshot.taken_at) < daily
                )
            )
        ).one()
    low, high = bounds
    if low is None or high is None:
        return 0
    deleted = 0
    for start in range(int(low), int(high) + 1, batch_customers):
        async with database.transaction() as session:
            statement = _thin_batch(
                database.dialect, start, start + batch_customers, daily, monthly
            )
            result = await session.execute(statement)
            deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


def _thin_batch(
    dialect: str, first: int, stop: int, daily: datetime, monthly: datetime
) -> Delete:
    customer_id = col(InsightSnapshot.customer_id)
    taken_at = col(InsightSnapshot.taken_at)
    snapshot_id = col(InsightSnapshot.id)
    ranked = (
        select(
            snapshot_id.label("id"),
            taken_at.label("taken_at"),
            func.row_number()
            .over(
                partition_by=[customer_id, _month_key(dialect)],
                order_by=[taken_at.desc(), snapshot_id.desc()],
            )
            .label("rank"),
        )
        .where(customer_id >= first, customer_id < stop, taken_at < daily)
        .subquery("ranked")
    )
    doomed = select(ranked.c.id).where(
        or_(ranked.c.rank > 1, ranked.c.taken_at < monthly)
    )
    return delete(InsightSnapshot).where(snapshot_id.in_(doomed))
