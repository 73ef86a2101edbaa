"""The segments part of a customer's data export: the customer-visible segments they
are in, under their customer-facing names (the same as me.segments)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm.actors import CustomerActor
from crm.segments.reads import my_segments

SEGMENT_COLUMNS = ("name", "description", "joined_at")


async def customer_export(
    session: AsyncSession, customer_id: int
) -> dict[str, list[dict[str, Any]]]:
    """Section `segments`: one record per visible segment, oldest membership first."""
    rows = await my_segments(session, CustomerActor(customer_id=customer_id))
    return {
        "segments": [
            {
                # Never the firm's internal name: only what the customer is shown.
                "name": segment.customer_name or "",
                "description": segment.customer_description,
                "joined_at": joined_at,
            }
            for segment, joined_at in rows
        ]
    }
