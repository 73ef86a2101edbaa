"""Alembic environment: async engines, batch mode, SQLite foreign keys off."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

import crm.models  # noqa: F401  (registers every table)
from crm.db import make_engine, metadata

config = context.config

# Search structures are managed by hand in migrations (FTS5 tables on SQLite,
# expression indexes, and the trigger-kept word tables on PostgreSQL):
# autogenerate cannot describe them, so it must not try to drop them.
MANUAL_PREFIXES = ("customer_fts", "ix_search_", "customer_search_")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (name or "").startswith(MANUAL_PREFIXES)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render sqlmodel's AutoString as a plain String, so migrations need no sqlmodel."""
    if type_ != "type":
        return False
    name = type(obj).__name__
    if name == "AutoString":
        length = getattr(obj, "length", None)
        return f"sa.String({length})" if length else "sa.String()"
    if name == "MoneyType":
        return "sa.Numeric(precision=18, scale=4)"
    if name == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    if name == "JSON" and getattr(obj, "_variant_mapping", None):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def compare_type(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    """Money is NUMERIC(18, 4) in every database, whatever SQLite binds it as."""
    if type(metadata_column.type).__name__ == "MoneyType":
        return not (
            isinstance(inspected_type, sa.Numeric)
            and inspected_type.precision == 18
            and inspected_type.scale == 4
        )
    return None  # alembic's own comparison


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=compare_type,
        include_object=include_object,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from api.settings import Settings

    return Settings().database_url


async def run_async_migrations() -> None:
    engine = make_engine(database_url(), migrating=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    context.configure(
        url=database_url(),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
