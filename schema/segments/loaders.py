"""Per-operation DataLoaders of segment lists: a `segments` page selecting members,
history or satisfaction runs one statement per field, whatever the page size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from crm.customers.models import Customer
from crm.pagination import Page
from crm.segments import reads
from schema.context import Info

V = TypeVar("V")


def _loader(
    info: Info,
    key: str,
    fetch: Callable[[Sequence[int]], Awaitable[Mapping[int, V]]],
) -> DataLoader[int, V]:
    async def load(ids: Sequence[int]) -> list[V]:
        found = await fetch(ids)
        return [found[i] for i in ids]

    return info.context.memo(f"segments.{key}", lambda: DataLoader(load_fn=load))


def member_pages(info: Info, size: int) -> DataLoader[int, Page[Customer]]:
    """First pages of members (by customer ID), per segment ID."""
    ctx = info.context
    return _loader(
        info,
        f"member_pages:{size}",
        lambda ids: reads.first_member_pages(ctx.session, ctx.actor, ids, size=size),
    )


def member_counts(info: Info) -> DataLoader[int, int]:
    """Current members' totals, per segment ID."""
    ctx = info.context
    return _loader(
        info,
        "member_counts",
        lambda ids: reads.member_counts(ctx.session, ctx.actor, ids),
    )


def history_pages(info: Info, size: int) -> DataLoader[int, Page[reads.HistoryEntry]]:
    """First pages of history (newest first), per segment ID."""
    ctx = info.context
    return _loader(
        info,
        f"history_pages:{size}",
        lambda ids: reads.first_history_pages(ctx.session, ctx.actor, ids, size=size),
    )


def history_counts(info: Info) -> DataLoader[int, int]:
    """History totals, per segment ID."""
    ctx = info.context
    return _loader(
        info,
        "history_counts",
        lambda ids: reads.history_counts(ctx.session, ctx.actor, ids),
    )


def satisfaction(info: Info, within_days: int) -> DataLoader[int, reads.Satisfaction]:
    """NPS and CSAT over one window, per segment ID."""
    ctx = info.context
    return _loader(
        info,
        f"satisfaction:{within_days}",
        lambda ids: reads.satisfaction_by_segment(
            ctx.session, ctx.actor, ids, within_days=within_days
        ),
    )
