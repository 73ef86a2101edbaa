"""`python -m bench.segments`: segment refresh and preview timings on PostgreSQL.

Uses the bench database (100,000 demo customers, ~1M interactions; seeded by
bench/database.py, or reused when it already holds them) and reports:
- the refresh time of each built-in segment and of a behavioural one, cold (every
  member enters: the membership is emptied first) and warm (nothing changes);
- the latency of preview counts (segmentPreview's `count`) on indexed conditions.

    python -m bench.segments [--database-url URL] [--customers N] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import col

from bench import database as bench_db
from crm.actors import SystemActor
from crm.customers.models import Customer
from crm.db import Database
from crm.pagination import count, page_request
from crm.segments import reads, service
from crm.segments.builtins import BUILTINS, bootstrap
from crm.segments.membership import refresh_segment
from crm.segments.models import Segment, SegmentMembership

ACTOR = SystemActor(name="bench")
BEHAVIOURAL = {
    "name": "Bench: 3+ purchases in 90 days",
    "rule": {
        "activity": {"kinds": ["purchase"], "within_days": 90, "count": {"gte": 3}}
    },
}
PREVIEWS: dict[str, dict[str, Any]] = {
    "lifecycle stage = active": {"lifecycle_stage": {"eq": "active"}},
    "company = (a common one)": {},  # filled in from the data
    "tagged vip": {"tags": {"has": "vip"}},
    "a purchase in the last 30 days": {
        "activity": {"kinds": ["purchase"], "within_days": 30}
    },
    "spent >= 300 this year": {
        "activity": {
            "kinds": ["purchase", "refund"],
            "period": "year_to_date",
            "amount": {"gte": 300},
        }
    },
}


async def _segments(database: Database) -> list[Segment]:
    async with database.transaction() as session:
        await bootstrap(session, ACTOR)
        # Time the built-ins as the code defines them now (a reused database may
        # hold an older definition).
        for builtin in BUILTINS:
            segment_id = await session.scalar(
                select(Segment.id).where(col(Segment.builtin_key) == builtin.key)
            )
            if segment_id is not None:
                await service.update_segment(
                    session, ACTOR, segment_id, {"rule": builtin.rule}
                )
        found = await session.scalar(
            select(Segment).where(col(Segment.name) == BEHAVIOURAL["name"])
        )
        if found is None:
            await service.create_segment(session, ACTOR, BEHAVIOURAL)
        chosen = await session.scalars(
            select(Segment)
            .where(
                col(Segment.builtin_key).is_not(None)
                | (col(Segment.name) == BEHAVIOURAL["name"])
            )
            .order_by(col(Segment.id))
        )
        return list(chosen.all())


async def _timed_refresh(database: Database, segment_id: int) -> tuple[float, Any]:
    started = time.perf_counter()
    async with database.transaction() as session:
        result = await refresh_segment(session, ACTOR, segment_id)
    return time.perf_counter() - started, result


async def refresh_times(database: Database) -> list[dict[str, Any]]:
    rows = []
    for segment in await _segments(database):
        assert segment.id is not None
        async with database.transaction() as session:
            await session.execute(
                delete(SegmentMembership).where(
                    col(SegmentMembership.segment_id) == segment.id
                )
            )
        cold, result = await _timed_refresh(database, segment.id)
        warm, again = await _timed_refresh(database, segment.id)
        rows.append(
            {
                "segment": segment.name,
                "members": result.segment.size,
                "cold_s": round(cold, 2),
                "warm_s": round(warm, 2),
                "warm_changes": again.entered + again.left,
            }
        )
    return rows


async def preview_latencies(database: Database, runs: int) -> list[dict[str, Any]]:
    async with database.transaction(write=False) as session:
        company = await session.scalar(
            select(col(Customer.company))
            .where(col(Customer.company).is_not(None))
            .group_by(col(Customer.company))
            .order_by(func.count().desc())
            .limit(1)
        )
    previews = dict(PREVIEWS)
    previews["company = (a common one)"] = {"company": {"eq": company}}
    rows = []
    for label, rule in previews.items():
        times, total = [], 0
        for _ in range(runs):
            async with database.transaction(write=False) as session:
                started = time.perf_counter()
                listed = await reads.preview(
                    session, ACTOR, rule, page=page_request(first=20)
                )
                total = await count(session, listed.count_statement)
                times.append(time.perf_counter() - started)
        rows.append(
            {
                "rule": label,
                "count": total,
                "median_ms": round(1000 * statistics.median(times), 1),
                "max_ms": round(1000 * max(times), 1),
            }
        )
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    heads = list(rows[0])
    widths = [max(len(str(h)), *(len(str(r[h])) for r in rows)) for h in heads]
    line = "  ".join(str(h).ljust(w) for h, w in zip(heads, widths, strict=True))
    body = [
        "  ".join(str(r[h]).ljust(w) for h, w in zip(heads, widths, strict=True))
        for r in rows
    ]
    return "\n".join([line, *body])


async def main(args: argparse.Namespace) -> None:
    url = bench_db.check_url(args.database_url)
    seeded = await bench_db.prepare(
        url, customers=args.customers, seed=args.seed, reuse=True
    )
    print(f"{seeded.customers:,} customers, {seeded.interactions:,} interactions.")
    database = Database(url.render_as_string(hide_password=False))
    try:
        print("\nRefresh (one transaction each; cold: every member enters)")
        print(_table(await refresh_times(database)))
        print(f"\nPreview count + first page of 20 (median of {args.runs} runs)")
        print(_table(await preview_latencies(database, args.runs)))
    finally:
        await database.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.segments")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("MUTUAL_BENCH_DATABASE_URL", bench_db.DEFAULT_URL),
        help="PostgreSQL bench database (name must contain 'bench'); reused when it "
        "holds --customers customers, re-created and seeded otherwise.",
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
