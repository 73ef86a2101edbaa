"""Per-operation DataLoaders of audit trails on a page of entities.

Built through `info.context.memo`, so a cache never crosses operations or actors;
each answers for every entity of the page in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from crm.actors import Actor
from crm.audit import service
from crm.pagination import Page
from schema.context import Info


async def _pages(
    session: AsyncSession,
    actor: Actor,
    entity_type: str,
    size: int,
    ids: Sequence[int],
) -> list[Page[Any]]:
    pages = await service.first_pages(
        session, actor, entity_type=entity_type, entity_ids=ids, size=size
    )
    return [pages[i] for i in ids]


async def _counts(
    session: AsyncSession, actor: Actor, entity_type: str, ids: Sequence[int]
) -> list[int]:
    found = await service.counts(
        session, actor, entity_type=entity_type, entity_ids=ids
    )
    return [found[i] for i in ids]


def first_pages(info: Info, entity_type: str, size: int) -> DataLoader[int, Page[Any]]:
    """First pages of many entities' trails, one statement per type and size."""
    ctx = info.context
    return ctx.memo(
        f"audit.pages.{entity_type}.{size}",
        lambda: DataLoader(partial(_pages, ctx.session, ctx.actor, entity_type, size)),
    )


def counts(info: Info, entity_type: str) -> DataLoader[int, int]:
    """How many events each of many entities' trails holds, in one GROUP BY."""
    ctx = info.context
    return ctx.memo(
        f"audit.counts.{entity_type}",
        lambda: DataLoader(partial(_counts, ctx.session, ctx.actor, entity_type)),
    )
