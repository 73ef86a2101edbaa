"""Data exports: a customer (or staff, for a request made by phone) asks for a copy
of the customer's data; small ones are built at once, large ones by the worker
(crm/exports/jobs.py).

The file is kept in the database (any API worker can serve it) for RETENTION,
then deleted; the request row stays on record. Downloads go through short-lived
links (crm/exports/links.py). Every request and download is audited on the
customer's record, so the customer's access log shows it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm import events
from crm.actors import Actor, CustomerActor
from crm.audit.models import AuditEvent
from crm.columns import utcnow
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.errors import DomainError, Forbidden, NotFound
from crm.exports.files import ExportFile, encode
from crm.exports.models import DataExport, DataExportFile, ExportFormat, ExportStatus
from crm.exports.sections import build_document
from crm.ids import to_global_id
from crm.interactions.models import Interaction, Visibility
from crm.me import policies as me_policies
from crm.pagination import Page, PageRequest, SortKey, paginate
from crm.permissions import Permission
from crm.policy import require
from crm.validation import Errors, clean_enum, clean_text

# Built in the request when the customer's records are estimated at no more than
# this (shared interactions plus audit events on the record: the parts that grow).
SYNC_RECORD_LIMIT = 1_000
# A JSON export is also returned inline when its file is at most this big.
INLINE_MAX_BYTES = 256 * 1024
# How long a prepared file is kept before it is deleted.
RETENTION = timedelta(hours=72)
# Export requests a customer may make in 24 hours (staff requests are not counted).
MAX_REQUESTS_PER_DAY = 5
# What a staff member needs to take a request: the export holds all of these.
STAFF_READS = (
    Permission.CUSTOMERS_READ,
    Permission.INTERACTIONS_READ,
    Permission.CONSENTS_READ,
    Permission.SEGMENTS_READ,
    Permission.INSIGHTS_READ,
    Permission.AUDIT_READ,
)
UNFINISHED = (ExportStatus.PENDING.value, ExportStatus.PROCESSING.value)


class ExportGone(DomainError):
    """The export existed but its file was deleted, or the link expired."""

    code = "GONE"


@dataclass
class Requested:
    export: DataExport
    # The JSON document, when the export is JSON, ready, and small enough.
    document: dict[str, Any] | None = None


@dataclass
class Download:
    export: DataExport
    file: DataExportFile


def export_ref(export_id: int | None) -> str:
    assert export_id is not None
    return to_global_id("DataExport", export_id)


# --- requests -------------------------------------------------------------------


async def request_my_export(
    session: AsyncSession, actor: Actor, *, fmt: object
) -> Requested:
    """Export the signed-in customer's own data."""
    customer_id = me_policies.own_customer_id(actor)
    errors = Errors()
    format_ = clean_enum(errors, "format", fmt, ExportFormat, required=True)
    errors.raise_if_any()
    assert format_ is not None
    customer = await _lock(session, customer_id)
    if customer is None or customer.archived_at is not None:
        raise NotFound("No customer with that ID.", field="id")
    return await _request(session, actor, customer_id, ExportFormat(format_), None)


async def request_customer_export(
    session: AsyncSession,
    actor: Actor,
    customer_id: int,
    *,
    fmt: object,
    reason: object,
) -> Requested:
    """Export a customer's data for a request they made elsewhere (by phone, post)."""
    for permission in STAFF_READS:
        require(actor, permission)
    if actor.kind not in ("staff", "system"):
        raise Forbidden("Only staff take a customer's data export request.")
    await customer_service.get_customer(session, actor, customer_id)
    errors = Errors()
    format_ = clean_enum(errors, "format", fmt, ExportFormat, required=True)
    why = clean_text(errors, "reason", reason, max_length=500, required=True)
    errors.raise_if_any()
    assert format_ is not None
    await _lock(session, customer_id)
    return await _request(session, actor, customer_id, ExportFormat(format_), why)


async def _lock(session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer row, locked on PostgreSQL so that one customer's requests are
    counted one at a time (SQLite writers already queue on BEGIN IMMEDIATE)."""
    return (
        await session.scalars(
            select(Customer)
            .where(col(Customer.id) == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()


async def _request(
    session: AsyncSession,
    actor: Actor,
    customer_id: int,
    fmt: ExportFormat,
    reason: str | None,
) -> Requested:
    now = utcnow()
    unfinished = (
        await session.scalars(
            select(DataExport).where(
                col(DataExport.customer_id) == customer_id,
                col(DataExport.format) == fmt.value,
                col(DataExport.status).in_(UNFINISHED),
            )
        )
    ).first()
    if unfinished is not None:
        # Already queued: the same request again is the same export.
        return Requested(export=unfinished)
    if isinstance(actor, CustomerActor):
        await _check_rate(session, customer_id, now)
    export = DataExport(
        customer_id=customer_id,
        format=fmt.value,
        requested_by_kind=actor.kind,
        requested_by=actor.ref,
        requested_by_label=actor.label[:200],
        reason=reason,
        requested_at=now,
    )
    session.add(export)
    await session.flush()
    document: dict[str, Any] | None = None
    if await estimate_records(session, customer_id) <= SYNC_RECORD_LIMIT:
        built = await build_document(session, customer_id)
        file, body = encode(
            built,
            fmt,
            customer_ref=to_global_id("Customer", customer_id),
            generated_at=now,
        )
        store_file(session, export, file, built.record_count, now)
        if fmt is ExportFormat.JSON and len(file.content) <= INLINE_MAX_BYTES:
            document = body
    await session.flush()
    await events.record(
        session,
        actor,
        action="customer.data_export_requested",
        entity_type="Customer",
        entity_id=customer_id,
        changes=events.diff(
            {},
            {
                "data_export": export_ref(export.id),
                "format": fmt.value,
                "status": export.status,
                "reason": reason,
            },
        ),
    )
    return Requested(export=export, document=document)


async def _check_rate(session: AsyncSession, customer_id: int, now: datetime) -> None:
    recent = await session.scalar(
        select(func.count()).where(
            col(DataExport.customer_id) == customer_id,
            col(DataExport.requested_by_kind) == "customer",
            col(DataExport.requested_at) > now - timedelta(days=1),
        )
    )
    if (recent or 0) >= MAX_REQUESTS_PER_DAY:
        errors = Errors()
        errors.add(
            None,
            "RATE_LIMITED",
            f"At most {MAX_REQUESTS_PER_DAY} exports a day: download a recent one "
            "from me.dataExports, or try again tomorrow.",
        )
        errors.raise_if_any()


async def estimate_records(session: AsyncSession, customer_id: int) -> int:
    """Shared interactions plus audit events on the record, in one statement."""
    interactions = (
        select(func.count())
        .where(
            col(Interaction.customer_id) == customer_id,
            col(Interaction.visibility) == Visibility.SHARED.value,
        )
        .scalar_subquery()
    )
    audit = (
        select(func.count())
        .where(
            col(AuditEvent.entity_type) == "Customer",
            col(AuditEvent.entity_id) == customer_id,
        )
        .scalar_subquery()
    )
    return int((await session.execute(select(interactions + audit))).scalar_one())


def store_file(
    session: AsyncSession,
    export: DataExport,
    file: ExportFile,
    record_count: int,
    now: datetime,
) -> None:
    """Keep a built file for `export` and mark the export READY until RETENTION."""
    assert export.id is not None
    session.add(
        DataExportFile(
            export_id=export.id,
            media_type=file.media_type,
            file_name=file.file_name,
            content=file.content,
        )
    )
    export.status = ExportStatus.READY.value
    export.ready_at = now
    export.expires_at = now + RETENTION
    export.record_count = record_count
    export.byte_size = len(file.content)
    export.sha256 = hashlib.sha256(file.content).hexdigest()
    export.error = None


# --- reading --------------------------------------------------------------------


def _newest_first() -> list[SortKey]:
    return [SortKey(DataExport.id, "int", descending=True)]  # type: ignore[arg-type]


async def my_exports(
    session: AsyncSession, actor: Actor, *, page: PageRequest
) -> tuple[Page[DataExport], Select[Any]]:
    """The signed-in customer's export requests, newest first."""
    customer_id = me_policies.own_customer_id(actor)
    stmt = select(DataExport).where(col(DataExport.customer_id) == customer_id)
    return await paginate(session, stmt, _newest_first(), page), stmt


async def customer_exports(
    session: AsyncSession, actor: Actor, customer_id: int, *, page: PageRequest
) -> tuple[Page[DataExport], Select[Any]]:
    """One customer's export requests, newest first, for staff."""
    for permission in STAFF_READS:
        require(actor, permission)
    await customer_service.get_customer(session, actor, customer_id)
    stmt = select(DataExport).where(col(DataExport.customer_id) == customer_id)
    return await paginate(session, stmt, _newest_first(), page), stmt


def downloadable(export: DataExport, now: datetime | None = None) -> bool:
    """Whether the export's file can be fetched now."""
    return (
        export.status == ExportStatus.READY.value
        and export.expires_at is not None
        and export.expires_at > (now or utcnow())
    )


async def open_download(
    session: AsyncSession, actor: Actor, *, export_id: int, customer_id: int
) -> Download:
    """The file of an export for the holder of a link naming `customer_id`; counts
    and audits the download. NotFound for anything the holder may not fetch,
    ExportGone once the file is deleted."""
    export = await session.get(DataExport, export_id)
    if export is None or export.customer_id != customer_id:
        raise NotFound("No export with that link.")
    if isinstance(actor, CustomerActor):
        if actor.customer_id != customer_id:
            raise NotFound("No export with that link.")
    else:
        try:
            for permission in STAFF_READS:
                require(actor, permission)
            await customer_service.get_customer(session, actor, customer_id)
        except (Forbidden, NotFound):
            raise NotFound("No export with that link.") from None
    now = utcnow()
    if export.status == ExportStatus.EXPIRED.value or (
        export.status == ExportStatus.READY.value and not downloadable(export, now)
    ):
        raise ExportGone("This export has expired; ask for a new one.")
    if export.status != ExportStatus.READY.value:
        raise NotFound("No export with that link.")
    file = await session.get(DataExportFile, export_id)
    if file is None:
        raise ExportGone("This export has expired; ask for a new one.")
    await session.execute(
        update(DataExport)
        .where(col(DataExport.id) == export_id)
        .values(
            download_count=col(DataExport.download_count) + 1,
            last_downloaded_at=now,
        )
    )
    await events.record(
        session,
        actor,
        action="customer.data_export_downloaded",
        entity_type="Customer",
        entity_id=customer_id,
        changes=events.diff({}, {"data_export": export_ref(export_id)}),
    )
    return Download(export=export, file=file)
