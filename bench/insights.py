"""`python -m bench.insights`: time a full insight refresh on the bench database.

Uses the PostgreSQL database of bench/database.py (seeded by `python -m bench`, or here
when it is missing or holds another number of customers), runs the refresh of
crm.insights.refresh in one transaction (rolled back unless --keep), and prints the
seconds of each stage. Goal: under 60 s for 100,000 customers / ~1M interactions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from bench import database as bench_db
from crm.db import Database
from crm.insights.refresh import refresh_in_session

GOAL_SECONDS = 60.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.insights",
        description="Time a full insight refresh per stage on the bench database.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("MUTUAL_BENCH_DATABASE_URL", bench_db.DEFAULT_URL),
        help="PostgreSQL URL of the bench database (its name must contain 'bench').",
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--runs", type=int, default=1, help="Refreshes to time (each rolled back)."
    )
    parser.add_argument("--keep", action="store_true", help="Commit the last refresh.")
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = bench_db.check_url(args.database_url)
    await bench_db.prepare(url, customers=args.customers, seed=args.seed, reuse=True)
    database = Database(url.render_as_string(hide_password=False))
    worst = 0.0
    try:
        interactions = await bench_db.interaction_count(database)
        for run in range(1, args.runs + 1):
            session = database.session(write=True)
            async with session:
                transaction = await session.begin()
                started = time.perf_counter()
                report = await refresh_in_session(session, database.dialect)
                total = time.perf_counter() - started
                if args.keep and run == args.runs:
                    await transaction.commit()
                else:
                    await transaction.rollback()
            worst = max(worst, total)
            print(
                f"run {run}: {report.customers:,} customers, {interactions:,} "
                f"interactions, total {total:.2f} s"
            )
            for stage, seconds in report.stage_seconds.items():
                print(f"  {stage:<11} {seconds:7.2f} s")
            print(f"  BG/NBD {report.bgnbd}")
            print(f"  Gamma-Gamma {report.gamma_gamma}")
    finally:
        await database.dispose()
    verdict = "within" if worst < GOAL_SECONDS else "OVER"
    print(f"Slowest run {worst:.2f} s: {verdict} the {GOAL_SECONDS:.0f} s goal.")
    return 0 if worst < GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
