"""`python -m bench`: seed PostgreSQL, load the server over HTTP, EXPLAIN the lists.

Full run (100,000 customers, ~1M interactions):  python -m bench
Quick run:  python -m bench --customers 2000 --duration 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import database as bench_db
from bench import explain, report
from bench.load import Loader, Run
from bench.queries import statements_per_request
from bench.scenarios import build_scenarios
from bench.server import Server
from crm.db import Database

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Mutual on PostgreSQL: seed, HTTP load, EXPLAIN of list paths.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("MUTUAL_BENCH_DATABASE_URL", bench_db.DEFAULT_URL),
        help="PostgreSQL URL of the bench database; it is dropped and re-created "
        "(its name must contain 'bench'). Default: $MUTUAL_BENCH_DATABASE_URL or "
        f"{bench_db.DEFAULT_URL}",
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--seed", type=int, default=7, help="Demo data and request randomness."
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Skip the seed when the database already holds --customers customers.",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="Seconds measured per scenario and concurrency.",
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="Seconds before each measurement."
    )
    parser.add_argument(
        "--concurrency",
        default="1,8",
        help="Comma-separated client counts (default 1,8).",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=200_000,
        help="Upper bound on requests per scenario and concurrency.",
    )
    parser.add_argument(
        "--scenarios", default=None, help="Comma-separated subset (default: all)."
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="Server worker processes."
    )
    parser.add_argument("--no-load", action="store_true", help="Skip the HTTP load.")
    parser.add_argument("--no-explain", action="store_true", help="Skip EXPLAIN.")
    parser.add_argument(
        "--quiet-plans",
        action="store_true",
        help="Print only the EXPLAIN summary, not every plan.",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="JSON file (default bench/results/)."
    )
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.customers < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--customers and --duration must be positive.")
    if not args.concurrency or min(args.concurrency) < 1 or args.max_requests < 1:
        parser.error("--concurrency and --max-requests must be positive.")
    return args


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 76 - len(title)), flush=True)


async def run_load(
    args: argparse.Namespace, url: str, fixtures: bench_db.Fixtures
) -> tuple[list[Run], dict[str, str], dict[str, dict[str, float]]]:
    scenarios = build_scenarios(fixtures)
    if args.scenarios:
        wanted = {s.strip() for s in args.scenarios.split(",")}
        unknown = wanted - {s.name for s in scenarios}
        if unknown:
            raise SystemExit(f"Unknown scenarios: {', '.join(sorted(unknown))}")
        scenarios = [s for s in scenarios if s.name in wanted]
    secret = secrets.token_urlsafe(48)
    database = Database(url)
    try:
        token = await bench_db.issue_token(database, secret)
    finally:
        await database.dispose()
    print("Counting SQL round trips per request (in process) ...")
    async with asyncio.timeout(300):
        sql_counts = await statements_per_request(
            url, secret, token, scenarios, args.seed
        )
    server = Server(url, secret, workers=args.workers)
    runs: list[Run] = []
    descriptions = {s.name: s.measures for s in scenarios}
    try:
        await server.start()
        print(f"Server: {' '.join(server.command[1:])}  (pid {server.process.pid})")  # type: ignore[union-attr]
        loader = Loader(server, token)
        print()
        print(report.LOAD_HEADER)
        for scenario in scenarios:
            error, shape = await loader.probe(scenario, random.Random(args.seed))
            if error:
                print(f"{scenario.name}: the first request failed: {error}")
            for level in args.concurrency:
                run = await loader.run(
                    scenario,
                    concurrency=level,
                    duration=args.duration,
                    warmup=args.warmup,
                    max_requests=args.max_requests,
                    seed=args.seed,
                )
                run.shape = shape or None
                runs.append(run)
                print(report.load_row(run), flush=True)
                if run.first_error:
                    print(f"    first error: {run.first_error}")
    finally:
        log = server.stop()
        if log is not None:
            print(f"Server log: {log}")
    return runs, descriptions, sql_counts


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    url = bench_db.check_url(args.database_url)
    plain_url = url.render_as_string(hide_password=False)
    started = time.perf_counter()
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": {
            "database": url.render_as_string(hide_password=True),
            "customers": args.customers,
            "seed": args.seed,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "max_requests": args.max_requests,
            "server_workers": args.workers,
        },
    }

    section("Database")
    seeded = await bench_db.prepare(
        url, customers=args.customers, seed=args.seed, reuse=args.reuse
    )
    result["seed"] = seeded.__dict__
    database = Database(plain_url)
    try:
        result["machine"] = await report.machine_info(database)
        fixtures = await bench_db.load_fixtures(database, args.seed)
    finally:
        await database.dispose()
    m = result["machine"]
    print(
        f"{seeded.customers:,} customers, {seeded.interactions:,} interactions; "
        f"nproc {m['nproc']}, PostgreSQL {m['postgresql']}, "
        f"load average {m['load_average_at_start']}"
    )
    if seeded.seed_seconds is not None:
        verdict = "within" if seeded.seed_seconds < 120 else "OVER"
        print(f"Seed: {seeded.seed_seconds:.1f} s ({verdict} the 2-minute budget)")

    runs: list[Run] = []
    if not args.no_load:
        section(
            f"Load: {args.duration:g} s per scenario and concurrency "
            f"(+{args.warmup:g} s warm-up)"
        )
        runs, descriptions, sql_counts = await run_load(args, plain_url, fixtures)
        result["scenarios"] = {
            name: {
                "measures": descriptions[name],
                "sql_per_request": sql_counts.get(name),
                "runs": [r.summary() for r in runs if r.scenario == name],
            }
            for name in descriptions
        }
        result["ratios"] = report.ratios(runs)

    plans: list[explain.Plan] = []
    if not args.no_explain:
        section("EXPLAIN (ANALYZE, BUFFERS) of the list paths")
        database = Database(plain_url)
        try:
            plans = await explain.explain_all(database, fixtures)
        finally:
            await database.dispose()
        if not args.quiet_plans:
            report.print_plans(plans)
        result["explain"] = [p.summary() for p in plans]

    section("Summary")
    if seeded.seed_seconds is not None:
        print(
            f"Seed {seeded.customers:,} customers / {seeded.interactions:,} "
            f"interactions: {seeded.seed_seconds:.1f} s; VACUUM (ANALYZE) "
            f"{seeded.vacuum_analyze_seconds:.1f} s"
        )
    if runs:
        print()
        print(report.LOAD_HEADER)
        for run in runs:
            print(report.load_row(run))
        print()
        report.print_ratios(result["ratios"])
        print()
        report.print_sql_counts(sql_counts)
        errors = sum(r.errors for r in runs)
        print(f"\nErrors: {errors}" + ("" if not errors else "  <-- must be 0"))
    if plans:
        print()
        report.print_plan_summary(plans)
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    return result


def _stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the server subprocess is stopped."""

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _stop_on_sigterm()
    try:
        result = asyncio.run(main_async(args))
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    output = args.output or RESULTS / (
        "bench-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + ".json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(f"\nResults: {output}  (total {result['total_seconds']:.0f} s)")
    failed = any(
        run["errors"]
        for scenario in result.get("scenarios", {}).values()
        for run in scenario["runs"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
