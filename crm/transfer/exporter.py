"""Export: stream visible, active records in id order to a file, atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from crm.actors import Actor
from crm.customers import policies as customer_policies
from crm.customers.models import Customer
from crm.db import Database
from crm.interactions import policies as interaction_policies
from crm.interactions.models import Interaction
from crm.permissions import Permission
from crm.policy import require
from crm.transfer.formats import (
    CUSTOMER_COLUMNS,
    INTERACTION_COLUMNS,
    Format,
    Kind,
    Progress,
    Writer,
    check_kind,
    format_of,
)

EXPORT_CHUNK = 1000


def _customer_statement(actor: Actor) -> Select[Any]:
    columns = [col(getattr(Customer, name)) for name in CUSTOMER_COLUMNS]
    return customer_policies.scoped(select(col(Customer.id), *columns), actor).where(
        col(Customer.archived_at).is_(None)
    )


def _interaction_statement(actor: Actor) -> Select[Any]:
    # Bodies are internal notes and cost_to_serve is a financial: an export that
    # left them out would look complete and lose data, so it needs both rights.
    require(actor, Permission.INTERNAL_NOTES_READ)
    require(actor, Permission.FINANCIALS_READ)
    columns = [col(getattr(Interaction, name)) for name in INTERACTION_COLUMNS[2:]]
    stmt = select(
        col(Interaction.id),
        col(Customer.external_ref).label("customer_external_ref"),
        col(Customer.email).label("customer_email"),
        *columns,
    ).join(Customer, col(Customer.id) == col(Interaction.customer_id))
    return interaction_policies.scoped(
        customer_policies.scoped(stmt, actor), actor
    ).where(col(Customer.archived_at).is_(None))


async def export_file(
    database: Database,
    path: Path,
    *,
    kind: Kind,
    fmt: Format | None = None,
    actor: Actor,
    progress: Progress | None = None,
) -> int:
    """Write every visible, active record of `kind` to `path`; returns the count.

    `progress` is called after each chunk with the number of records written so far.
    """
    check_kind(kind)
    is_csv = format_of(path, fmt) == "csv"
    if kind == "customers":
        stmt, columns, key = _customer_statement(actor), CUSTOMER_COLUMNS, Customer.id
    else:
        stmt, columns = _interaction_statement(actor), INTERACTION_COLUMNS
        key = Interaction.id
    written = 0
    writer = Writer(path, is_csv, columns)
    try:
        async with database.transaction(write=False) as session:
            last = 0
            while True:
                page = (
                    stmt.where(col(key) > last).order_by(col(key)).limit(EXPORT_CHUNK)
                )
                rows = (await session.execute(page)).mappings().all()
                for row in rows:
                    writer.write({name: row[name] for name in columns})
                written += len(rows)
                if progress is not None and rows:
                    progress(written)
                if len(rows) < EXPORT_CHUNK:
                    break
                last = rows[-1]["id"]
    except BaseException:
        writer.close(complete=False)
        raise
    writer.close(complete=True)
    return written
