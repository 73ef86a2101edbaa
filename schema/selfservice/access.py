"""Recording the firm's reads of customers from the resolvers that read them."""

from __future__ import annotations

from collections.abc import Iterable

from crm.access.recorder import recorder_for
from schema.context import Info


def note_customer_reads(info: Info, customer_ids: Iterable[int | None]) -> None:
    """Count these customers as read by the caller (in memory; flushed later)."""
    context = info.context
    recorder_for(context.database).saw(context.actor, customer_ids)
