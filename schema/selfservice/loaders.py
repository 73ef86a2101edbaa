"""Per-operation DataLoaders of corrections and access logs on a customers page.

Built through `info.context.memo`, so a cache never crosses operations or actors;
each returns the first page (or the count) of many customers in one statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from crm.access import service as access
from crm.access.service import AccessEntry
from crm.actors import Actor
from crm.corrections import service as corrections
from crm.corrections.models import ProfileCorrection
from crm.pagination import Page
from schema.context import Info


def _key(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


async def _correction_pages(
    session: AsyncSession,
    actor: Actor,
    size: int,
    where: Mapping[str, Any] | None,
    ids: Sequence[int],
) -> list[Page[ProfileCorrection]]:
    pages = await corrections.first_pages_by_customer(
        session, actor, ids, size=size, where=where
    )
    return [pages[i] for i in ids]


async def _correction_counts(
    session: AsyncSession,
    actor: Actor,
    where: Mapping[str, Any] | None,
    ids: Sequence[int],
) -> list[int]:
    found = await corrections.counts_by_customer(session, actor, ids, where=where)
    return [found[i] for i in ids]


async def _access_pages(
    session: AsyncSession, actor: Actor, size: int, ids: Sequence[int]
) -> list[Page[AccessEntry] | BaseException]:
    pages = await access.first_pages_by_customer(session, actor, ids, size=size)
    return [pages[i] for i in ids]


async def _access_counts(
    session: AsyncSession, actor: Actor, ids: Sequence[int]
) -> list[int]:
    found = await access.counts_by_customer(session, actor, ids)
    return [found[i] for i in ids]


def correction_pages(
    info: Info, size: int, where: Mapping[str, Any] | None
) -> DataLoader[int, Page[ProfileCorrection]]:
    """First pages of many customers' corrections, one statement per size and filter."""
    ctx = info.context
    return ctx.memo(
        f"selfservice.corrections.{size}.{_key(where)}",
        lambda: DataLoader(
            partial(_correction_pages, ctx.session, ctx.actor, size, where)
        ),
    )


def correction_counts(
    info: Info, where: Mapping[str, Any] | None
) -> DataLoader[int, int]:
    """How many (matching) corrections each of many customers has, in one GROUP BY."""
    ctx = info.context
    return ctx.memo(
        f"selfservice.correction_counts.{_key(where)}",
        lambda: DataLoader(partial(_correction_counts, ctx.session, ctx.actor, where)),
    )


def access_pages(info: Info, size: int) -> DataLoader[int, Page[AccessEntry]]:
    """First pages of many customers' access logs, in one set of statements per size."""
    ctx = info.context
    return ctx.memo(
        f"selfservice.access_log.{size}",
        lambda: DataLoader(partial(_access_pages, ctx.session, ctx.actor, size)),
    )


def access_counts(info: Info) -> DataLoader[int, int]:
    """How many entries each of many customers' access logs holds, in one GROUP BY."""
    ctx = info.context
    return ctx.memo(
        "selfservice.access_log_counts",
        lambda: DataLoader(partial(_access_counts, ctx.session, ctx.actor)),
    )
