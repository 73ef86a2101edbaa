"""Import: apply a file's records in order, in batches; report every rejected line.

A line that reuses a key (external_ref or email) of a line in the same batch
closes the batch first, so a later line updates what an earlier one wrote, the
same at any batch size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from crm.actors import Actor
from crm.customers import policies as customer_policies
from crm.customers import repository
from crm.customers.models import Customer
from crm.customers.service import EDITABLE_FIELDS as CUSTOMER_FIELDS
from crm.customers.service import email_key
from crm.customers.upsert import MAX_ROWS, ErrorPolicy, upsert_customers
from crm.db import Database
from crm.errors import BadInput, Conflict, DomainError, ValidationFailed
from crm.interactions import policies as interaction_policies
from crm.interactions.service import log_interaction
from crm.transfer.formats import (
    INTERACTION_COLUMNS,
    Format,
    Kind,
    Progress,
    Raw,
    Rejected,
    check_kind,
    format_of,
    read_csv,
    read_jsonl,
)

REQUIRED_INTERACTION_FIELDS = ("channel", "direction", "kind")


@dataclass
class ImportReport:
    kind: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    data: dict[str, Any]
    fields: dict[str, Any]
    customer_ref: str | None = None
    customer_email: str | None = None


class _Bad(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


# Records to rows -------------------------------------------------------------


def _given(data: dict[str, Any], is_csv: bool) -> Iterator[tuple[str, Any]]:
    # Empty CSV cells mean "not given"; in JSON lines, a key is given even if null.
    for name, value in data.items():
        if is_csv and not value.strip():
            continue
        yield name, value


def _customer_row(raw: Raw, is_csv: bool) -> _Row:
    fields: dict[str, Any] = {}
    for name, value in _given(raw.data, is_csv):
        if name not in CUSTOMER_FIELDS:
            raise _Bad(name, f"UNKNOWN_FIELD: {name!r} is not a customer column.")
        if is_csv and name == "tags":
            value = _csv_tags(value)
        elif is_csv and name == "attributes":
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise _Bad(name, "INVALID: attributes is not valid JSON.") from None
        elif is_csv and name == "owner_id":
            value = _number(name, value, int)
        fields[name] = value
    return _Row(raw.line, raw.data, fields)


def _csv_tags(cell: str) -> Any:
    # "a;b;c", or a JSON array when a tag itself holds ";" (see formats.csv_cell).
    if cell.lstrip().startswith("["):
        try:
            return orjson.loads(cell)
        except orjson.JSONDecodeError:
            raise _Bad("tags", "INVALID: tags is not a valid JSON array.") from None
    return [t.strip() for t in cell.split(";") if t.strip()]


def _number(name: str, value: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise _Bad(name, f"INVALID: {name} {value!r} is not a number.") from None


def _interaction_row(raw: Raw, is_csv: bool) -> _Row:
    fields: dict[str, Any] = {}
    keys: dict[str, str] = {}
    for name, value in _given(raw.data, is_csv):
        if name not in INTERACTION_COLUMNS:
            raise _Bad(name, f"UNKNOWN_FIELD: {name!r} is not an interaction column.")
        if value is None:
            continue  # interactions are only created: null is "not given"
        if name in ("customer_external_ref", "customer_email"):
            if not isinstance(value, str):
                raise _Bad(name, f"INVALID: {name} must be text.")
            if value.strip():
                keys[name] = value.strip()
            continue
        if name == "occurred_at" and isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                reason = f"INVALID: occurred_at {value!r} is not an ISO 8601 time."
                raise _Bad(name, reason) from None
        elif is_csv and name == "rating":
            value = _number(name, value, int)
        elif is_csv and name == "sentiment":
            value = _number(name, value, float)
        fields[name] = value
    if not keys:
        reason = "REQUIRED: give customer_external_ref or customer_email."
        raise _Bad("customer_external_ref", reason)
    for name in REQUIRED_INTERACTION_FIELDS:
        if name not in fields:
            raise _Bad(name, f"REQUIRED: {name} is required.")
    return _Row(
        raw.line,
        raw.data,
        fields,
        customer_ref=keys.get("customer_external_ref"),
        customer_email=keys.get("customer_email"),
    )


def _batch_keys(row: _Row) -> set[tuple[str, str]]:
    """The unique keys a customer row claims, normalised as the upsert does."""
    keys: set[tuple[str, str]] = set()
    ref, email = row.fields.get("external_ref"), row.fields.get("email")
    if isinstance(ref, str) and ref.strip():
        keys.add(("external_ref", ref.strip()))
    if isinstance(email, str) and email.strip():
        keys.add(("email", email.strip().lower()))
    return keys


# Applying batches ------------------------------------------------------------


def _reason(errors: list[Any]) -> str:
    return "; ".join(f"{e.code}: {e.message}" for e in errors)


async def _import_customers(
    database: Database, actor: Actor, batch: list[_Row], report: ImportReport
) -> list[_Row]:
    """Upsert one batch; returns the lines to run again in a batch of their own."""
    try:
        async with database.transaction() as session:
            result = await upsert_customers(
                session,
                actor,
                [row.fields for row in batch],
                policy=ErrorPolicy.REJECT_FAILED_ROWS,
            )
    except (ValidationFailed, Conflict) as exc:
        # A key taken by a concurrent writer between the check and the flush.
        for row in batch:
            reason = f"{exc.code}: the batch was rolled back: {exc.message}"
            report.rejected.append(Rejected(row.line, reason, exc.field, row.data))
        return []
    report.created += result.created
    report.updated += result.updated
    report.unchanged += result.unchanged
    again: list[_Row] = []
    for outcome in result.rows:
        row = batch[outcome.index]
        if outcome.errors and all(
            e.code == "DUPLICATE_IN_BATCH" for e in outcome.errors
        ):
            # Two keys of one customer (ref on one line, email on the next):
            # applied after the earlier line, as reading the file in order would.
            again.append(row)
        elif outcome.errors:
            first = outcome.errors[0].field
            reason = _reason(outcome.errors)
            report.rejected.append(Rejected(row.line, reason, first, row.data))
    return again


async def _find_customers(
    session: AsyncSession, batch: list[_Row]
) -> tuple[dict[str, Customer], dict[str, Customer]]:
    return await repository.by_keys(
        session,
        external_refs={r.customer_ref for r in batch if r.customer_ref},
        email_keys={k for r in batch if (k := email_key(r.customer_email))},
    )


async def _import_interactions(
    database: Database, actor: Actor, batch: list[_Row], report: ImportReport
) -> list[_Row]:
    async with database.transaction() as session:
        by_ref, by_email = await _find_customers(session, batch)
        for row in batch:
            customer = by_ref.get(row.customer_ref or "") or by_email.get(
                email_key(row.customer_email) or ""
            )
            if customer is None or customer.id is None:
                name = "customer_external_ref" if row.customer_ref else "customer_email"
                reason = f"NOT_FOUND: no customer has this {name}."
                report.rejected.append(Rejected(row.line, reason, name, row.data))
                continue
            try:
                # A savepoint per line: a bad line rolls back alone.
                async with session.begin_nested():
                    logged = await log_interaction(
                        session, actor, customer.id, row.fields
                    )
            except ValidationFailed as exc:
                field_name = exc.errors[0].field if exc.errors else exc.field
                reason = _reason(exc.errors)
                report.rejected.append(Rejected(row.line, reason, field_name, row.data))
                continue
            except DomainError as exc:
                reason = f"{exc.code}: {exc.message}"
                report.rejected.append(Rejected(row.line, reason, exc.field, row.data))
                continue
            if logged.created:
                report.created += 1
            else:
                report.unchanged += 1
    return []


def _require_import(actor: Actor, kind: Kind) -> None:
    if kind == "customers":
        customer_policies.can_write(actor)
    else:
        interaction_policies.can_write(actor)
        customer_policies.customer_scope(actor)


async def import_file(
    database: Database,
    path: Path,
    *,
    kind: Kind,
    fmt: Format | None = None,
    actor: Actor,
    batch_size: int = MAX_ROWS,
    progress: Progress | None = None,
) -> ImportReport:
    """Apply a file's records in order; report every line that was not applied.

    `progress` is called after each batch with the number of records read so far.
    """
    check_kind(kind)
    is_csv = format_of(path, fmt) == "csv"
    if not 1 <= batch_size <= MAX_ROWS:
        raise BadInput(f"batch_size must be 1 to {MAX_ROWS}.", field="batch_size")
    _require_import(actor, kind)
    report = ImportReport(kind=kind)
    to_row = _customer_row if kind == "customers" else _interaction_row
    apply = _import_customers if kind == "customers" else _import_interactions
    batch: list[_Row] = []
    claimed: set[tuple[str, str]] = set()
    reported = 0

    async def flush() -> None:
        nonlocal reported
        pending = batch[:]
        batch.clear()
        claimed.clear()
        while pending:  # each pass settles at least its first line
            pending = await apply(database, actor, pending, report)
        if progress is not None and report.read > reported:
            reported = report.read
            progress(reported)

    for item in (read_csv if is_csv else read_jsonl)(path):
        report.read += 1
        if isinstance(item, Rejected):
            report.rejected.append(item)
            continue
        try:
            row = to_row(item, is_csv)
        except _Bad as bad:
            report.rejected.append(
                Rejected(item.line, bad.reason, bad.field, item.data)
            )
            continue
        if kind == "customers":
            keys = _batch_keys(row)
            if keys & claimed:
                await flush()
            claimed |= keys
        batch.append(row)
        if len(batch) >= batch_size:
            await flush()
    await flush()
    report.rejected.sort(key=lambda r: r.line)
    return report
