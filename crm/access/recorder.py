"""Recording firm reads of customers without slowing the reads down.

A read costs a dict update in memory: `saw(actor, ids)` aggregates per
(customer, reader, day). `flush()` writes the buffer in bulk (one INSERT .. ON
CONFLICT DO UPDATE, executemany over every row) in its own transaction, outside
any request: every FLUSH_INTERVAL seconds from the app's lifespan, when the buffer
grows past MAX_PENDING, and on shutdown. A failed or cancelled flush keeps its
views for the next one; past HARD_LIMIT keys (the database refusing writes for a
long time) new views are dropped and counted in the log, so memory stays bounded.
Each process (worker) keeps its own buffer; the upsert adds their counts. Reads
by the customer themselves and by the system are not recorded.

One recorder per Database object (`recorder_for`), so every app sharing a
database in a process shares one buffer. Views still in the buffer when a process
dies are lost: at most FLUSH_INTERVAL seconds of reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, select
from sqlmodel import col

from crm.access.models import AccessView
from crm.actors import Actor, PartnerActor, StaffActor
from crm.columns import utcnow
from crm.customers.models import Customer
from crm.db import Database, upsert_insert

logger = logging.getLogger("mutual.access")

FLUSH_INTERVAL = 5.0
MAX_PENDING = 5_000
# Past this, the database is failing: drop the buffer rather than grow forever.
HARD_LIMIT = 200_000
CHUNK = 1_000


@dataclass
class _Seen:
    kind: str
    label: str
    role: str | None
    first: datetime
    last: datetime
    views: int


Key = tuple[int, str, date]


class AccessRecorder:
    """The in-process buffer of customer reads of one database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._pending: dict[Key, _Seen] = {}
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[Any] | None = None
        # Views not recorded because the buffer was full (logged on flush).
        self.dropped = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def saw(self, actor: Actor, customer_ids: Iterable[int | None]) -> None:
        """Note that `actor` read these customers (staff and partner apps only)."""
        if isinstance(actor, StaffActor):
            role: str | None = actor.role.value
        elif isinstance(actor, PartnerActor):
            role = None
        else:
            return
        now = utcnow()
        day = now.date()
        ref = actor.ref
        pending = self._pending
        for customer_id in customer_ids:
            if customer_id is None:
                continue
            key = (customer_id, ref, day)
            seen = pending.get(key)
            if seen is None:
                if len(pending) >= HARD_LIMIT:
                    # The database has not taken a flush for a while: bound the
                    # memory rather than grow with every read.
                    self.dropped += 1
                    continue
                pending[key] = _Seen(actor.kind, actor.label, role, now, now, 1)
            else:
                seen.last = now
                seen.views += 1
        if len(pending) >= MAX_PENDING:
            self._flush_soon()

    def _flush_soon(self) -> None:
        if self._background is not None and not self._background.done():
            return
        with contextlib.suppress(RuntimeError):  # no running loop: next flush
            self._background = asyncio.get_running_loop().create_task(self.flush())

    def discard(self) -> None:
        """Forget the buffer without writing it (tests start from nothing)."""
        self._pending = {}

    async def flush(self) -> int:
        """Write the buffer; returns the rows written. Failures are logged and the
        views kept for the next flush."""
        async with self._lock:
            pending, self._pending = self._pending, {}
            if self.dropped:
                logger.error("dropped %d customer views: buffer full", self.dropped)
                self.dropped = 0
            if not pending:
                return 0
            try:
                return await self._write(pending)
            except asyncio.CancelledError:
                # Cancelled mid-write (shutdown): the transaction rolled back, so
                # keep the views for the final flush.
                self._merge_back(pending)
                raise
            except Exception:
                logger.exception("could not record %d customer views", len(pending))
                self._merge_back(pending)
                return 0

    def _merge_back(self, pending: dict[Key, _Seen]) -> None:
        if len(pending) + len(self._pending) > HARD_LIMIT:
            logger.error("dropping %d unrecorded customer views", len(pending))
            return
        for key, seen in pending.items():
            current = self._pending.get(key)
            if current is None:
                self._pending[key] = seen
            else:
                current.first = min(current.first, seen.first)
                current.last = max(current.last, seen.last)
                current.views += seen.views

    async def _write(self, pending: dict[Key, _Seen]) -> int:
        ids = sorted({key[0] for key in pending})
        async with self.database.transaction() as session:
            existing: set[int] = set()
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                existing.update(
                    await session.scalars(
                        select(col(Customer.id)).where(col(Customer.id).in_(chunk))
                    )
                )
            rows = [
                {
                    "customer_id": customer_id,
                    "actor_ref": ref,
                    "day": day,
                    "actor_kind": seen.kind,
                    "actor_label": seen.label,
                    "actor_role": seen.role,
                    "first_seen_at": seen.first,
                    "last_seen_at": seen.last,
                    "views": seen.views,
                }
                for (customer_id, ref, day), seen in pending.items()
                # A customer deleted since the read has nobody left to tell.
                if customer_id in existing
            ]
            if rows:
                dialect = session.bind.dialect.name if session.bind else "sqlite"
                # One cached statement, executemany: the driver batches the rows.
                await session.execute(_upsert(dialect), rows)
        return len(rows)

    async def run(self, interval: float = FLUSH_INTERVAL) -> None:
        """Flush every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            await self.flush()

    async def close(self) -> None:
        """Write what is left (on shutdown)."""
        if self._background is not None:
            with contextlib.suppress(Exception):
                await self._background
        await self.flush()


def _upsert(dialect: str) -> Any:
    table = AccessView.__table__  # type: ignore[attr-defined]
    stmt = upsert_insert(dialect)(table)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["customer_id", "actor_ref", "day"],
        set_={
            "views": table.c.views + new.views,
            # Processes flush independently: a later flush may hold earlier reads.
            "first_seen_at": case(
                (new.first_seen_at < table.c.first_seen_at, new.first_seen_at),
                else_=table.c.first_seen_at,
            ),
            "last_seen_at": case(
                (new.last_seen_at > table.c.last_seen_at, new.last_seen_at),
                else_=table.c.last_seen_at,
            ),
        },
    )


_recorders: dict[int, AccessRecorder] = {}


def recorder_for(database: Database) -> AccessRecorder:
    """The recorder of `database` in this process (made on first use)."""
    key = id(database)
    recorder = _recorders.get(key)
    if recorder is None or recorder.database is not database:
        recorder = AccessRecorder(database)
        _recorders[key] = recorder
        weakref.finalize(database, _recorders.pop, key, None)
    return recorder
