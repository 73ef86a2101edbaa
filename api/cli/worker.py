"""`mutual worker`: background work (scheduled refreshes, exports)."""

from __future__ import annotations

import logging

import click

from api.cli.common import run, with_database
from api.settings import Settings
from crm.db import Database


@click.command()
@click.option("--once", is_flag=True, help="Run every job once, then exit.")
@click.pass_obj
def worker(settings: Settings, once: bool) -> None:
    """Run background work until interrupted (SIGTERM/SIGINT end it cleanly)."""
    from api.worker import JOBS, run_worker

    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    names = ", ".join(job.name for job in JOBS)
    click.echo(f"Worker started ({names}){' once' if once else ''}.")

    async def work(database: Database) -> dict[str, bool]:
        return await run_worker(database, settings, once=once)

    outcome = run(with_database(settings, work))
    failed = sorted(name for name, ok in outcome.items() if not ok)
    click.echo(
        "Worker stopped." if not failed else f"Worker stopped; not done: {failed}"
    )
