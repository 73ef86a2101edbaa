"""Demo data for selfservice, written after the customers and interactions."""

from __future__ import annotations

from crm.db import Database


async def seed(database: Database, *, seed: int) -> None:
    """Add the selfservice part of the demo (deterministic for `seed`)."""
