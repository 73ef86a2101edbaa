"""Demo data for segments, written after the customers and interactions."""

from __future__ import annotations

from crm.db import Database


async def seed(database: Database, *, seed: int) -> None:
    """Add the segments part of the demo (deterministic for `seed`)."""
