"""`mutual insights`: Insights: refresh and inspect."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from api.cli.common import fail, run, with_database
from api.settings import Settings
from crm.db import Database


@click.group()
def insights() -> None:
    """Insights: refresh and inspect."""


@insights.command("refresh")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def refresh_command(settings: Settings, quiet: bool) -> None:
    """Recompute every customer's insights (a full refit) and print stage times."""
    from tqdm import tqdm

    from crm.insights.refresh import STAGES, refresh_insights

    async def work(database: Database) -> Any:
        with tqdm(
            total=len(STAGES),
            unit="stage",
            desc="Refreshing insights",
            disable=quiet or not sys.stderr.isatty(),
        ) as bar:

            def progress(stage: str, seconds: float) -> None:
                bar.set_postfix_str(f"{stage} {seconds:.2f} s")
                bar.update(1)

            return await refresh_insights(database, progress=progress)

    report = run(with_database(settings, work))
    click.echo(f"Refreshed {report.customers:,} customers (model {report.fit_id}).")
    for stage, seconds in report.stage_seconds.items():
        click.echo(f"  {stage:<11} {seconds:8.2f} s")
    click.echo(f"  {'total':<11} {report.seconds:8.2f} s")


@insights.command("show")
@click.argument("customer_id", type=int)
@click.pass_obj
def show_command(settings: Settings, customer_id: int) -> None:
    """Print one customer's current insights as JSON (the firm's full view)."""
    from crm.actors import SystemActor
    from crm.events import jsonable
    from crm.insights.service import insights_by_customer
    from crm.insights.store import NAMES

    async def work(database: Database) -> Any:
        async with database.transaction(write=False) as session:
            found = await insights_by_customer(
                session, SystemActor(name="cli"), [customer_id]
            )
        return found.get(customer_id)

    row = run(with_database(settings, work))
    if row is None:
        fail(
            f"No insights for customer {customer_id} (no such customer, or no "
            "refresh yet: run `mutual insights refresh`)."
        )
        return
    insight = row.insight
    data = {
        name: getattr(insight, name)
        for name in ("computed_at", "model_version", *NAMES)
    }
    if row.override is not None:
        data["strategic_reason"] = row.override.reason
    click.echo(orjson.dumps(jsonable(data), option=orjson.OPT_INDENT_2).decode())
