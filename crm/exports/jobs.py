"""Background work on data exports, run by the worker: prepare the queued ones,
delete the files of expired ones (crm/exports/service.py takes the requests)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlmodel import col

from crm import events
from crm.actors import SystemActor
from crm.columns import utcnow
from crm.db import Database
from crm.exports.files import encode
from crm.exports.models import DataExport, DataExportFile, ExportFormat, ExportStatus
from crm.exports.sections import build_document
from crm.exports.service import export_ref, store_file
from crm.ids import to_global_id

logger = logging.getLogger("mutual.exports")

# Tries of the worker before an export is marked FAILED.
MAX_ATTEMPTS = 3
# A claim older than this is taken to be a crashed worker's, and claimed again.
CLAIM_TIMEOUT = timedelta(minutes=15)
WORKER = SystemActor(name="exports")


def _claimable(now: datetime) -> Any:
    return and_(
        col(DataExport.attempts) < MAX_ATTEMPTS,
        or_(
            col(DataExport.status) == ExportStatus.PENDING.value,
            and_(
                col(DataExport.status) == ExportStatus.PROCESSING.value,
                col(DataExport.claimed_at) < now - CLAIM_TIMEOUT,
            ),
        ),
    )


@dataclass(frozen=True)
class _Claim:
    export_id: int
    customer_id: int
    fmt: ExportFormat
    attempt: int


async def _claim_one(database: Database, tried: set[int]) -> _Claim | None:
    """Take the oldest claimable export not `tried` in this round: FOR UPDATE SKIP
    LOCKED on PostgreSQL (other workers pass over it), one UPDATE under the write
    lock on SQLite."""
    now = utcnow()
    pick = (
        select(col(DataExport.id))
        .where(_claimable(now), col(DataExport.id).not_in(tried))
        .order_by(col(DataExport.id))
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    async with database.transaction() as session:
        row = (
            await session.execute(
                update(DataExport)
                .where(col(DataExport.id) == pick, _claimable(now))
                .values(
                    status=ExportStatus.PROCESSING.value,
                    claimed_at=now,
                    attempts=col(DataExport.attempts) + 1,
                )
                .returning(
                    col(DataExport.id),
                    col(DataExport.customer_id),
                    col(DataExport.format),
                    col(DataExport.attempts),
                )
            )
        ).first()
    if row is None:
        return None
    export_id, customer_id, fmt, attempt = row
    assert export_id is not None
    return _Claim(export_id, customer_id, ExportFormat(fmt), attempt)


def _still_ours(claim: _Claim) -> Any:
    return and_(
        col(DataExport.id) == claim.export_id,
        col(DataExport.status) == ExportStatus.PROCESSING.value,
        col(DataExport.attempts) == claim.attempt,
    )


async def _prepare(database: Database, claim: _Claim) -> bool:
    now = utcnow()
    async with database.transaction(write=False) as session:
        built = await build_document(session, claim.customer_id)
    file, _ = encode(
        built,
        claim.fmt,
        customer_ref=to_global_id("Customer", claim.customer_id),
        generated_at=now,
    )
    async with database.transaction() as session:
        export = (
            await session.scalars(select(DataExport).where(_still_ours(claim)))
        ).first()
        if export is None:  # reclaimed after a timeout: the other worker finishes
            return False
        store_file(session, export, file, built.record_count, now)
        await session.flush()
        await events.record(
            session,
            WORKER,
            action="customer.data_export_ready",
            entity_type="Customer",
            entity_id=claim.customer_id,
            changes=events.diff({}, {"data_export": export_ref(claim.export_id)}),
            # For the messaging system: tell the customer where to fetch it.
            payload={
                "data_export": export_ref(claim.export_id),
                "customer": to_global_id("Customer", claim.customer_id),
                "format": claim.fmt.value,
                "expires_at": export.expires_at,
            },
        )
    return True


async def _give_up_or_retry(database: Database, claim: _Claim, error: str) -> None:
    status = (
        ExportStatus.FAILED if claim.attempt >= MAX_ATTEMPTS else ExportStatus.PENDING
    )
    async with database.transaction() as session:
        await session.execute(
            update(DataExport)
            .where(_still_ours(claim))
            .values(status=status.value, claimed_at=None, error=error[:500])
        )


async def prepare_pending_exports(database: Database, *, limit: int = 10) -> int:
    """Prepare up to `limit` queued exports, one claim at a time; returns how many
    became ready. Safe to run in several workers at once."""
    prepared = 0
    # A failed export is tried again next round, not at once.
    tried: set[int] = set()
    for _ in range(limit):
        claim = await _claim_one(database, tried)
        if claim is None:
            break
        tried.add(claim.export_id)
        try:
            prepared += await _prepare(database, claim)
        except Exception as exc:  # one bad export must not stop the others
            logger.exception("data export %s failed", claim.export_id)
            await _give_up_or_retry(database, claim, type(exc).__name__)
    return prepared


async def purge_expired_exports(database: Database) -> int:
    """Delete the files of exports past their time (the requests stay, EXPIRED) and
    fail exports whose worker died on the last try; returns the files deleted."""
    now = utcnow()
    expired = select(col(DataExport.id)).where(
        col(DataExport.status) == ExportStatus.READY.value,
        col(DataExport.expires_at) <= now,
    )
    async with database.transaction() as session:
        deleted = await session.execute(
            delete(DataExportFile).where(col(DataExportFile.export_id).in_(expired))
        )
        await session.execute(
            update(DataExport)
            .where(
                col(DataExport.status) == ExportStatus.READY.value,
                col(DataExport.expires_at) <= now,
            )
            .values(status=ExportStatus.EXPIRED.value)
        )
        await session.execute(
            update(DataExport)
            .where(
                col(DataExport.status) == ExportStatus.PROCESSING.value,
                col(DataExport.attempts) >= MAX_ATTEMPTS,
                col(DataExport.claimed_at) < now - CLAIM_TIMEOUT,
            )
            .values(status=ExportStatus.FAILED.value, error="worker timed out")
        )
    return int(getattr(deleted, "rowcount", 0) or 0)
