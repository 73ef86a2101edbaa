"""The background worker: a registry of periodic jobs run until SIGTERM/SIGINT.

Each job runs at its interval; a failing job is logged and tried again next round,
never ending the loop. Several workers may run against one database: on
PostgreSQL a job runs in one worker at a time (pg_try_advisory_lock on the job's
name; the others skip that round), and each job's own writes are claims (a
segment refresh re-checks, under the segment's row lock, that it is still due),
so on SQLite, whose writers take turns on the database lock, a second worker
finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text

from api.settings import Settings
from crm.db import Database
from crm.erasure.jobs import carry_out_due_requests
from crm.exports.jobs import prepare_pending_exports, purge_expired_exports
from crm.insights.refresh import refresh_if_due
from crm.insights.retention import thin_snapshots
from crm.segments.jobs import refresh_due

logger = logging.getLogger("mutual.worker")


@dataclass(frozen=True)
class Job:
    """A periodic job: `run(database, settings)` every `interval(settings)`; it
    returns a one-line summary for the log."""

    name: str
    interval: Callable[[Settings], timedelta]
    run: Callable[[Database, Settings], Awaitable[str]]


def poll_interval(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.worker_poll_seconds)


async def refresh_segments(database: Database, settings: Settings) -> str:
    """Refresh the dynamic segments whose members are older than the setting."""
    done = await refresh_due(
        database, max_age=timedelta(minutes=settings.segment_refresh_minutes)
    )
    return f"refreshed {len(done)} segment(s)"


async def refresh_insights(database: Database, settings: Settings) -> str:
    """A full insights refresh once the last one is older than the setting."""
    report = await refresh_if_due(
        database, max_age=timedelta(hours=settings.insights_refresh_hours)
    )
    if report is None:
        return "insights are fresh"
    return f"refreshed insights of {report.customers} customer(s)"


def snapshot_retention_interval(settings: Settings) -> timedelta:
    return timedelta(hours=settings.insights_refresh_hours)


async def thin_insight_snapshots(database: Database, settings: Settings) -> str:
    """Thin the insight history to the retention of the settings."""
    deleted = await thin_snapshots(
        database,
        daily_days=settings.insight_snapshots_daily_days,
        monthly_months=settings.insight_snapshots_monthly_months,
    )
    return f"deleted {deleted} insight snapshot(s)"


async def carry_out_erasures(database: Database, settings: Settings) -> str:
    """Carry out erasure requests whose review window has ended."""
    return f"carried out {await carry_out_due_requests(database)} erasure request(s)"


async def prepare_exports(database: Database, settings: Settings) -> str:
    """Prepare queued data exports and delete expired export files."""
    prepared = await prepare_pending_exports(database, limit=20)
    deleted = await purge_expired_exports(database)
    return f"prepared {prepared} export(s), deleted {deleted} expired file(s)"


# The registry: one line per job.
JOBS: list[Job] = [
    # Insights first: segment rules may use their scores.
    Job("insights.refresh", poll_interval, refresh_insights),
    # Once per refresh interval: the history kept daily, then monthly.
    Job("insights.thin_snapshots", snapshot_retention_interval, thin_insight_snapshots),
    Job("segments.refresh", poll_interval, refresh_segments),
    Job("erasure.carry_out_due", poll_interval, carry_out_erasures),
    Job("exports.prepare", poll_interval, prepare_exports),
]


def lock_key(name: str) -> int:
    """A stable 32-bit advisory lock key per job name."""
    return zlib.crc32(f"mutual.worker:{name}".encode())


@asynccontextmanager
async def exclusive(database: Database, name: str) -> AsyncIterator[bool]:
    """Whether this worker holds the job now (always on SQLite)."""
    if database.sqlite:
        yield True
        return
    async with database.write_engine.connect() as conn:
        key = lock_key(name)
        held = bool(
            await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
        )
        await conn.commit()
        try:
            yield held
        finally:
            if held:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()


async def run_job(database: Database, settings: Settings, job: Job) -> bool:
    """Run one job once; False when it failed (logged) or another worker ran it."""
    started = time.perf_counter()
    try:
        async with exclusive(database, job.name) as held:
            if not held:
                logger.info("%s: running in another worker, skipped", job.name)
                return False
            summary = await job.run(database, settings)
    except Exception:
        logger.exception("%s failed; retrying next round", job.name)
        return False
    logger.info("%s: %s in %.2fs", job.name, summary, time.perf_counter() - started)
    return True


async def run_worker(
    database: Database,
    settings: Settings,
    *,
    once: bool = False,
    jobs: Sequence[Job] = JOBS,
    stop: asyncio.Event | None = None,
) -> dict[str, bool]:
    """Run `jobs` at their intervals until `stop` is set (or SIGTERM/SIGINT), or
    each one once with `once`; returns how each job's last run went."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    outcome: dict[str, bool] = {}
    next_run = {job.name: loop.time() for job in jobs}
    try:
        while not stop.is_set():
            for job in jobs:
                if stop.is_set():
                    break
                if loop.time() >= next_run[job.name]:
                    outcome[job.name] = await run_job(database, settings, job)
                    interval = job.interval(settings).total_seconds()
                    next_run[job.name] = loop.time() + interval
            if once:
                break
            wait = max(0.0, min(next_run.values()) - loop.time())
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    return outcome
