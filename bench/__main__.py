"""`python -m bench`: seed PostgreSQL, load the server over HTTP, EXPLAIN the lists.

Full run (100,000 customers, ~1M interactions):  python -m bench
Quick run:  python -m bench --customers 2000 --duration 3
Side by side with PostGraphile 5 (installs it once with npm):  --peer postgraphile
One worker against two:  --workers 1,2 --concurrency 8
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import database as bench_db
from bench import explain, peer, report
from bench.load import Loader, Measured, Run, Target
from bench.queries import statements_per_request
from bench.scenarios import Scenario, build_scenarios
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
        "--workers",
        default="1",
        help="Server worker processes; a list (1,2) runs Mutual once per count, "
        "interleaved, and compares them.",
    )
    parser.add_argument(
        "--peer",
        choices=[peer.NAME],
        default=None,
        help="Also load PostGraphile 5 over the same database (needs npm; installs "
        "it once under --peer-dir) and compare.",
    )
    parser.add_argument(
        "--peer-dir",
        type=Path,
        default=None,
        help=f"Where the peer is installed (default {peer.default_directory()}).",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="Measurements per scenario, concurrency and server, interleaved across "
        "servers; medians are reported (default 3 with --peer or several --workers, "
        "else 1).",
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
    args.workers = list(
        dict.fromkeys(int(w) for w in str(args.workers).split(",") if w.strip())
    )
    if args.rounds is None:
        args.rounds = 3 if args.peer or len(args.workers) > 1 else 1
    if args.customers < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--customers and --duration must be positive.")
    if not args.concurrency or min(args.concurrency) < 1 or args.max_requests < 1:
        parser.error("--concurrency and --max-requests must be positive.")
    if not args.workers or min(args.workers) < 1 or args.rounds < 1:
        parser.error("--workers and --rounds must be positive.")
    return args


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 76 - len(title)), flush=True)


@dataclass
class LoadResult:
    measured: list[Measured]
    descriptions: dict[str, str]
    sql_counts: dict[str, dict[str, float]]
    targets: list[dict[str, Any]]
    peer: dict[str, Any] | None = None


def _mutual_label(workers: int, all_workers: list[int]) -> str:
    return "Mutual" if len(all_workers) == 1 else f"Mutual w{workers}"


async def run_load(
    args: argparse.Namespace, url: str, fixtures: bench_db.Fixtures
) -> LoadResult:
    scenarios = build_scenarios(fixtures)
    if args.scenarios:
        wanted = {s.strip() for s in args.scenarios.split(",")}
        unknown = wanted - {s.name for s in scenarios}
        if unknown:
            raise SystemExit(f"Unknown scenarios: {', '.join(sorted(unknown))}")
        scenarios = [s for s in scenarios if s.name in wanted]
    peer_info: dict[str, Any] | None = None
    peer_dir = args.peer_dir or peer.default_directory()
    if args.peer:
        # Before anything else, so a failed install costs no load time.
        peer_info = {"name": peer.NAME, "versions": peer.install(peer_dir)}
        print(
            "Peer versions: "
            + ", ".join(f"{k} {v}" for k, v in peer_info["versions"].items())
        )
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
    servers: list[Server | peer.PeerServer] = [
        Server(url, secret, workers=w, label=_mutual_label(w, args.workers))
        for w in args.workers
    ]
    peer_server = None
    if args.peer:
        peer_server = peer.PeerServer(peer_dir, bench_db.check_url(url))
        servers.append(peer_server)
    measured: list[Measured] = []
    descriptions = {s.name: s.measures for s in scenarios}
    targets: list[dict[str, Any]] = []
    try:
        for server in servers:
            await server.start()
            pid = server.process.pid if server.process else None
            print(
                f"{server.label}: {' '.join(server.command)}  "
                f"(pid {pid}, {server.workers} worker{'s' * (server.workers > 1)})"
            )
            targets.append(
                {
                    "server": server.label,
                    "workers": server.workers,
                    "command": server.command,
                }
            )
        sides: dict[str, list[tuple[Target, Loader, Scenario]]] = {
            s.name: [(m, Loader(m, token), s) for m in servers if m is not peer_server]
            for s in scenarios
        }
        if peer_server is not None and peer_info is not None:
            await peer.check_schema(peer_server.url)
            digest = await peer.cursor_digest(peer_server.url)
            loader = Loader(peer_server, None)
            peer_scenarios = peer.build_peer_scenarios(fixtures, digest)
            for ps in peer_scenarios:
                if ps.name in sides:
                    sides[ps.name].append((peer_server, loader, ps))
            peer_info["queries"] = {
                ps.name: {"measures": ps.measures, "document": ps.document.strip()}
                for ps in peer_scenarios
                if ps.name in sides
            }
            peer_info["no_equivalent"] = {
                name: why
                for name, why in peer.NO_EQUIVALENT.items()
                if name in descriptions
            }
        print(
            f"\n{args.rounds} round(s) per scenario and concurrency"
            + (
                ", servers interleaved; medians in the summary"
                if len(servers) > 1
                else ""
            )
        )
        print(report.LOAD_HEADER)
        for scenario in scenarios:
            shapes = await _probe(scenario.name, sides[scenario.name], args.seed)
            for level in args.concurrency:
                rounds: dict[str, list[Run]] = {}
                for index in range(args.rounds):
                    for target, loader, side in sides[scenario.name]:
                        run = await loader.run(
                            side,
                            concurrency=level,
                            duration=args.duration,
                            warmup=args.warmup,
                            max_requests=args.max_requests,
                            seed=args.seed + 10 * index,
                        )
                        run.shape = shapes.get(target.label) or None
                        rounds.setdefault(target.label, []).append(run)
                        numbered = index + 1 if len(servers) * args.rounds > 1 else None
                        print(
                            report.load_row(run, target.workers, numbered), flush=True
                        )
                        if run.first_error:
                            print(f"    first error: {run.first_error}")
                measured += [Measured(r) for r in rounds.values()]
    finally:
        for server in servers:
            log = server.stop()
            if log is not None:
                print(f"{server.label} log: {log}")
    return LoadResult(measured, descriptions, sql_counts, targets, peer_info)


async def _probe(
    name: str, sides: list[tuple[Target, Loader, Scenario]], seed: int
) -> dict[str, str]:
    """One request per server with the same seed: what each answered, and whether
    the lists hold the same customers (the query texts are equivalent)."""
    shapes: dict[str, str] = {}
    ids: dict[str, list[int]] = {}
    for target, loader, scenario in sides:
        error, shape, body = await loader.probe(scenario, random.Random(seed))
        shapes[target.label] = shape
        if error:
            print(f"{name} on {target.label}: the first request failed: {error}")
        elif body is not None and scenario.shape is not None:
            decode = peer.node_row_id if target.label == peer.LABEL else None
            ids[target.label] = peer.customer_row_ids(
                body, decode or peer.mutual_row_id
            )
    if len(shapes) > 1 and any(shapes.values()):
        same = ""
        if len(ids) > 1 and len({tuple(v) for v in ids.values()}) == 1:
            same = " (the same customers)"
        print(
            f"{name}: " + "; ".join(f"{k}: {v}" for k, v in shapes.items() if v) + same
        )
    if len({tuple(v) for v in ids.values()}) > 1:
        print(f"{name}: the servers answered different customers: {ids}")
    return shapes


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
            "rounds": args.rounds,
            "peer": args.peer,
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
        budget = bench_db.seed_budget_seconds(seeded.customers)
        verdict = "within" if seeded.seed_seconds < budget else "OVER"
        print(
            f"Seed: {seeded.seed_seconds:.1f} s ({verdict} the budget of "
            f"{budget / 60:g} min, 2 min per 100,000 customers)"
        )

    load: LoadResult | None = None
    if not args.no_load:
        section(
            f"Load: {args.duration:g} s per scenario, concurrency and round "
            f"(+{args.warmup:g} s warm-up)"
        )
        load = await run_load(args, plain_url, fixtures)
        result["servers"] = load.targets
        result["scenarios"] = {
            name: {
                "measures": load.descriptions[name],
                "sql_per_request": load.sql_counts.get(name),
                "runs": [m.summary() for m in load.measured if m.scenario == name],
            }
            for name in load.descriptions
        }
        first = load.targets[0]["server"]
        result["ratios"] = report.ratios(
            [m for m in load.measured if m.target == first]
        )
        result["comparison"] = report.comparison(load.measured)
        if load.peer is not None:
            result["peer"] = load.peer

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
        if seeded.seed_stage_seconds:
            print(
                "  stages: "
                + ", ".join(
                    f"{k} {v:.1f} s" for k, v in seeded.seed_stage_seconds.items()
                )
            )
    if load is not None and load.measured:
        workers = {t["server"]: t["workers"] for t in load.targets}
        print()
        if args.rounds > 1:
            print(f"Medians of {args.rounds} rounds.")
        print(report.LOAD_HEADER)
        for measured in load.measured:
            print(report.load_row(measured, workers[measured.target]))
        print()
        report.print_ratios(result["ratios"])
        if len(load.targets) > 1:
            print()
            report.print_comparison(result["comparison"], load.targets)
        if load.peer is not None:
            for name, why in load.peer["no_equivalent"].items():
                print(f"{name}: not run on {peer.LABEL}: {why}")
        print()
        report.print_sql_counts(load.sql_counts)
        errors = sum(m.errors for m in load.measured)
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
