"""What the bench prints and saves: machine, parameters, figures, ratios, plans."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.explain import Plan
from bench.load import Measured, Run
from bench.queries import COLUMNS
from crm.db import Database

BASELINE = "customer_by_id"
PG_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "jit",
    "max_parallel_workers_per_gather",
    "max_connections",
)
PACKAGES = ("strawberry-graphql", "graphql-core", "sqlalchemy", "asyncpg", "uvicorn")


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


async def machine_info(database: Database) -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (
            int(line.split()[1]) // 1024
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        None,
    )
    async with database.session(write=False) as session:
        version = await session.scalar(text("SHOW server_version"))
        settings = {
            name: await session.scalar(text(f"SHOW {name}")) for name in PG_SETTINGS
        }
    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    dirty = _git("status", "--porcelain")
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_mb": memory,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": version,
        "postgresql_settings": settings,
        "packages": packages,
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty_files": len(dirty.splitlines()) if dirty else 0,
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


LOAD_HEADER = (
    f"{'scenario':<26} {'server':<15} {'wk':>2} {'conc':>4} {'requests':>8} "
    f"{'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>6} "
    f"{'srv CPU ms/req':>14}"
)


def load_row(run: Run | Measured, workers: int, round_: int | None = None) -> str:
    """One line of the load table; `round_` marks a single round of several."""
    s = run.summary()
    label = run.target if round_ is None else f"{run.target} #{round_}"
    return (
        f"{run.scenario:<26} {label:<15} {workers:>2} {run.concurrency:>4} "
        f"{run.requests:>8} {_fmt(run.throughput):>8} {_fmt(s['p50_ms']):>8} "
        f"{_fmt(s['p90_ms']):>8} {_fmt(s['p99_ms']):>8} {run.errors:>6} "
        f"{_fmt(s['server_cpu_ms_per_request'], 2):>14}"
    )


def ratios(runs: list[Measured]) -> dict[str, dict[str, float | None]]:
    """Within-run ratios, steadier than absolute figures on a shared machine."""
    by = {(r.scenario, r.concurrency): r for r in runs}
    levels = sorted({r.concurrency for r in runs})
    low, high = levels[0], levels[-1]
    out: dict[str, dict[str, float | None]] = {}
    for name in dict.fromkeys(r.scenario for r in runs):
        row: dict[str, float | None] = {}
        a, b = by.get((name, low)), by.get((name, high))
        if a and b and high != low and a.throughput:
            row[f"throughput_c{high}_over_c{low}"] = round(
                b.throughput / a.throughput, 2
            )
        for level in levels:
            base, this = by.get((BASELINE, level)), by.get((name, level))
            if base and this and base.requests and this.requests:
                row[f"p50_over_{BASELINE}_c{level}"] = round(
                    this.percentile(50) / base.percentile(50), 2
                )
        out[name] = row
    return out


def print_ratios(table: dict[str, dict[str, float | None]]) -> None:
    columns = sorted({key for row in table.values() for key in row})
    columns.sort(key=lambda c: (not c.startswith("throughput"), c))
    labels = {
        c: c.replace("throughput_", "req/s ")
        .replace("_over_", " / ")
        .replace(f"p50 / {BASELINE}_", "p50 / by_id ")
        .replace(f"p50_over_{BASELINE}_", "p50 / by_id ")
        for c in columns
    }
    print(f"{'scenario':<26} " + " ".join(f"{labels[c]:>18}" for c in columns))
    for name, row in table.items():
        cells = [_fmt(row[c], 2) if row.get(c) is not None else "-" for c in columns]
        print(f"{name:<26} " + " ".join(f"{c:>18}" for c in cells))


def comparison(measured: list[Measured]) -> list[dict[str, Any]]:
    """Per scenario and concurrency: each server's req/s and CPU ms per request
    (medians over the rounds), Mutual over the peer, and the last worker count
    over the first."""
    servers = list(dict.fromkeys(m.target for m in measured))
    mutuals = [s for s in servers if s.startswith("Mutual")]
    peers = [s for s in servers if not s.startswith("Mutual")]
    by = {(m.scenario, m.concurrency, m.target): m for m in measured}
    rows: list[dict[str, Any]] = []
    for scenario, level in dict.fromkeys((m.scenario, m.concurrency) for m in measured):
        row: dict[str, Any] = {
            "scenario": scenario,
            "concurrency": level,
            "requests_per_second": {},
            "server_cpu_ms_per_request": {},
            "ratios": {},
        }
        for server in servers:
            m = by.get((scenario, level, server))
            if m is not None and m.requests:
                row["requests_per_second"][server] = round(m.throughput, 3)
                row["server_cpu_ms_per_request"][server] = round(
                    m.server_cpu_ms_per_request, 3
                )
        rps = row["requests_per_second"]
        for mine in mutuals:
            for other in peers:
                if rps.get(mine) and rps.get(other):
                    row["ratios"][f"{mine} / {other}"] = round(
                        rps[mine] / rps[other], 3
                    )
        if len(mutuals) > 1 and rps.get(mutuals[0]) and rps.get(mutuals[-1]):
            row["ratios"][f"{mutuals[-1]} / {mutuals[0]}"] = round(
                rps[mutuals[-1]] / rps[mutuals[0]], 3
            )
        rows.append(row)
    return rows


def print_comparison(rows: list[dict[str, Any]], targets: list[dict[str, Any]]) -> None:
    servers = [t["server"] for t in targets]
    ratio_names = list(dict.fromkeys(k for row in rows for k in row["ratios"]))
    header = [f"{s} req/s" for s in servers]
    header += ratio_names
    header += [f"{s} CPU ms/req" for s in servers]
    width = max(14, *(len(h) for h in header))
    print(f"{'scenario':<26} {'conc':>4} " + " ".join(f"{h:>{width}}" for h in header))
    for row in rows:
        cells = [_fmt(row["requests_per_second"].get(s)) for s in servers]
        cells += [_fmt(row["ratios"].get(r), 2) for r in ratio_names]
        cells += [_fmt(row["server_cpu_ms_per_request"].get(s), 2) for s in servers]
        print(
            f"{row['scenario']:<26} {row['concurrency']:>4} "
            + " ".join(f"{c:>{width}}" for c in cells)
        )


def print_sql_counts(counts: dict[str, dict[str, float]]) -> None:
    """Round trips per request, from one in-process pass over each scenario."""
    keys = COLUMNS
    print(f"{'SQL per request':<26} " + " ".join(f"{k:>10}" for k in keys))
    for name, row in counts.items():
        print(f"{name:<26} " + " ".join(f"{_fmt(row[k], 1):>10}" for k in keys))


def print_plans(plans: list[Plan]) -> None:
    for plan in plans:
        print(f"\n--- {plan.path}: {plan.statement} ---")
        print(plan.sql.strip())
        print()
        print(plan.plan)


def print_plan_summary(plans: list[Plan]) -> None:
    """One line per statement; `service ms` is the whole crm call of the path."""
    print(f"{'path':<32} {'service ms':>10}  {'statement':<20} {'exec ms':>8}  flags")
    previous = None
    for plan in plans:
        flags = ", ".join(plan.flags) or "ok"
        first = plan.path != previous
        previous = plan.path
        print(
            f"{plan.path if first else '':<32} "
            f"{_fmt(plan.service_ms, 2) if first else '':>10}  "
            f"{plan.statement:<20} {_fmt(plan.execution_ms, 2):>8}  {flags}"
        )
    seq = [p for p in plans if any(f.startswith("Seq Scan") for f in p.flags)]
    if seq:
        print(
            "\nSeq Scan on customer/interaction in: "
            + "; ".join(f"{p.path} ({p.statement})" for p in seq)
        )
    else:
        print("\nNo Seq Scan on customer or interaction.")
