"""The `mutual` command: serve, db, staff, token, apikey, demo, import, export,
segments, insights, worker."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.apikey import apikey
from api.cli.data import demo, export_command, import_command
from api.cli.db import db
from api.cli.insights import insights
from api.cli.segments import segments
from api.cli.serve import print_schema, serve
from api.cli.staff import staff, token
from api.cli.worker import worker
from api.settings import Settings
from crm.db import is_sqlite


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file so that a fresh checkout just works."""
    if is_sqlite(url):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


@click.group()
@click.option(
    "--database-url",
    envvar="MUTUAL_DATABASE_URL",
    default=None,
    help="Overrides MUTUAL_DATABASE_URL.",
)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Mutual: a headless CRM with a GraphQL API."""
    settings = Settings(database_url=database_url) if database_url else Settings()
    ensure_sqlite_dir(settings.database_url)
    ctx.obj = settings


for _command in (
    db,
    staff,
    token,
    demo,
    import_command,
    export_command,
    serve,
    print_schema,
    apikey,
    segments,
    insights,
    worker,
):
    main.add_command(_command)
