"""Retention of insight snapshots: all recent ones, then the last of each month."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from crm.ids import to_global_id
from crm.insights.models import InsightSnapshot
from crm.insights.retention import cutoffs, thin_snapshots
from tests.client import Api

DAY = timedelta(days=1)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
DAILY_DAYS = 90
MONTHLY_MONTHS = 36


def gid(pk: int) -> str:
    return to_global_id("Customer", pk)


def band(customer: int, second: int, when: datetime, daily: datetime) -> str:
    """The first customer crosses into HIGH 10 days ago; the second turns HIGH on
    its last snapshot before the daily window and stays HIGH (no crossing inside
    the window, as long as that snapshot is kept)."""
    if customer == second:
        return "high" if daily - 4 * DAY <= when else "low"
    return "high" if when >= NOW - 10 * DAY else "low"


async def seed(api: Api) -> tuple[list[int], list[tuple[int, datetime]]]:
    """Two customers with a snapshot every 3 days (plus a few hours) for 4 years."""
    first = await api.customer(display_name="Ada")
    second = await api.customer(display_name="Bo")
    daily, _ = cutoffs(daily_days=DAILY_DAYS, monthly_months=MONTHLY_MONTHS, now=NOW)
    rows: list[dict[str, Any]] = []
    taken: list[tuple[int, datetime]] = []
    for customer in (first, second):
        when = NOW - 4 * 365 * DAY + (customer % 2) * timedelta(hours=5)
        while when <= NOW:
            label = band(customer, second, when, daily)
            rows.append(
                {
                    "customer_id": customer,
                    "taken_at": when,
                    "churn_band": label,
                    "p_alive": 0.1 if label == "high" else 0.9,
                    "purchases": 3,
                }
            )
            taken.append((customer, when))
            when += 3 * DAY + timedelta(hours=7)
    async with api.db.transaction() as session:
        await session.execute(insert(InsightSnapshot), rows)
    return [first, second], taken


def expected(taken: list[tuple[int, datetime]]) -> set[tuple[int, datetime]]:
    daily, monthly = cutoffs(
        daily_days=DAILY_DAYS, monthly_months=MONTHLY_MONTHS, now=NOW
    )
    last_of_month: dict[tuple[int, int, int], datetime] = {}
    kept = set()
    for customer, when in taken:
        if when >= daily:
            kept.add((customer, when))
        elif when >= monthly:
            key = (customer, when.year, when.month)
            last_of_month[key] = max(last_of_month.get(key, when), when)
    kept |= {(key[0], when) for key, when in last_of_month.items()}
    return kept


async def stored(api: Api) -> set[tuple[int, datetime]]:
    async with api.db.transaction(write=False) as session:
        found = await session.execute(
            select(InsightSnapshot.customer_id, InsightSnapshot.taken_at)
        )
        return {(c, t) for c, t in found.all()}


async def defections_since(api: Api, token: str, since: datetime) -> set[Any]:
    found = await api.data(
        """query($since: DateTime!) { defections(since: $since, first: 100) {
             totalCount nodes { crossedAt customer { id } } } }""",
        {"since": since.isoformat()},
        token=token,
    )
    nodes = found["defections"]["nodes"]
    assert found["defections"]["totalCount"] == len(nodes)
    return {(n["customer"]["id"], n["crossedAt"]) for n in nodes}


def test_the_cutoffs_count_the_month_where_the_daily_window_starts():
    daily, monthly = cutoffs(daily_days=90, monthly_months=36, now=NOW)
    assert daily == datetime(2026, 8, 22, 12, tzinfo=UTC)
    assert monthly == datetime(2023, 9, 1, tzinfo=UTC)
    # No monthly history: everything before the daily window goes
    assert cutoffs(daily_days=90, monthly_months=0, now=NOW) == (daily, daily)
    with pytest.raises(ValueError):
        cutoffs(daily_days=-1, monthly_months=36, now=NOW)


async def test_thinning_keeps_recent_snapshots_and_the_last_of_each_older_month(
    api: Api,
):
    # Given two customers with snapshots over four years
    customers, taken = await seed(api)
    daily, monthly = cutoffs(
        daily_days=DAILY_DAYS, monthly_months=MONTHLY_MONTHS, now=NOW
    )
    _, analyst = await api.staff("analyst")
    crossings = await defections_since(api, analyst, daily)

    # When the history is thinned, one customer per batch
    deleted = await thin_snapshots(
        api.db,
        daily_days=DAILY_DAYS,
        monthly_months=MONTHLY_MONTHS,
        now=NOW,
        batch_customers=1,
    )

    # Then exactly the retained snapshots remain
    kept = await stored(api)
    assert kept == expected(taken)
    assert deleted == len(taken) - len(kept)
    # every recent one is kept
    assert {s for s in taken if s[1] >= daily} <= kept
    # older ones: exactly one per customer per month, for 36 months
    months: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for customer, when in kept:
        if when < daily:
            months[customer].append((when.year, when.month))
    for customer in customers:
        assert len(months[customer]) == len(set(months[customer])) == MONTHLY_MONTHS
    # the oldest are gone
    assert min(when for _, when in kept) >= monthly

    # And a second run has nothing left to delete
    assert (
        await thin_snapshots(
            api.db, daily_days=DAILY_DAYS, monthly_months=MONTHLY_MONTHS, now=NOW
        )
        == 0
    )

    # And history reads what is kept, newest first
    for customer in customers:
        history = await api.data(
            """query($id: ID!) { customer(id: $id) {
                 insightHistory(kind: CHURN_RISK, first: 100) {
                   totalCount nodes { takenAt label } } } }""",
            {"id": gid(customer)},
            token=analyst,
        )
        points = history["customer"]["insightHistory"]
        mine = sorted((w for c, w in kept if c == customer), reverse=True)
        assert points["totalCount"] == len(mine)
        assert [datetime.fromisoformat(p["takenAt"]) for p in points["nodes"]] == (
            mine[:100]
        )

    # And defections inside the daily window are unchanged: the first customer's
    # crossing, and none for the second, whose last snapshot before the window
    # (already HIGH) was kept as the predecessor
    assert await defections_since(api, analyst, daily) == crossings
    assert {customer for customer, _ in crossings} == {gid(customers[0])}


async def test_thinning_an_empty_or_recent_history_deletes_nothing(api: Api):
    # Given only recent snapshots
    customer = await api.customer(display_name="New")
    async with api.db.transaction() as session:
        await session.execute(
            insert(InsightSnapshot),
            [
                {"customer_id": customer, "taken_at": NOW - k * DAY}
                for k in range(DAILY_DAYS)
            ],
        )
    # When thinned, then none goes
    assert (
        await thin_snapshots(api.db, daily_days=DAILY_DAYS, monthly_months=0, now=NOW)
        == 0
    )
    assert len(await stored(api)) == DAILY_DAYS


async def test_bad_retention_arguments_are_refused_before_any_delete(api: Api):
    customer = await api.customer(display_name="Old")
    async with api.db.transaction() as session:
        await session.execute(
            insert(InsightSnapshot),
            [{"customer_id": customer, "taken_at": NOW - 2000 * DAY}],
        )
    with pytest.raises(ValueError):
        await thin_snapshots(api.db, daily_days=90, monthly_months=-1, now=NOW)
    with pytest.raises(ValueError):
        await thin_snapshots(
            api.db, daily_days=90, monthly_months=1, now=NOW, batch_customers=0
        )
    with pytest.raises(ValueError):
        await thin_snapshots(
            api.db, daily_days=90, monthly_months=1, now=NOW.replace(tzinfo=None)
        )
    assert len(await stored(api)) == 1
