"""The worker's erasure job: carry out requests whose review window has ended."""

from __future__ import annotations

from crm.actors import SystemActor
from crm.db import Database
from crm.erasure.service import carry_out_due

ERASURE_WORKER = SystemActor(name="erasure")


async def carry_out_due_requests(database: Database) -> int:
    """Carry out every due request in one transaction; returns how many."""
    async with database.transaction() as session:
        return await carry_out_due(session, ERASURE_WORKER)
