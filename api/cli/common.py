"""Helpers shared by the `mutual` commands: running, failing, opening the database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from api.settings import Settings
from crm.db import Database
from crm.errors import DomainError, ValidationFailed

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine; an unreachable or unknown database is a one-line error."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (OSError, DBAPIError) as exc:
        fail(
            f"Cannot reach the database: {exc.__class__.__name__}: {exc}".splitlines()[
                0
            ]
        )
    except (NoSuchModuleError, ArgumentError) as exc:
        fail(f"Unsupported database URL: {exc}")
    raise AssertionError("unreachable")


def fail(message: str) -> None:
    """Print `message` in red to standard error and exit with status 1."""
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def describe(exc: DomainError) -> str:
    """A domain error as one line for the terminal."""
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return exc.message


async def with_database(
    settings: Settings, work: Callable[[Database], Awaitable[T]]
) -> T:
    """Run `work` with a database that is disposed of afterwards."""
    database = Database(settings.database_url)
    try:
        return await work(database)
    finally:
        await database.dispose()
