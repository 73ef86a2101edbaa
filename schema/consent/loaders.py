"""Per-operation DataLoaders of consent, preferences and feedback answers.

Built through `info.context.memo`, so a cache never crosses operations or actors.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from crm.actors import Actor
from crm.consent import feedback, preferences, service
from crm.consent.models import ConsentEvent, ContactPreference
from crm.consent.service import ConsentStatus
from crm.interactions.models import Interaction
from crm.pagination import Page
from schema.context import Info


async def _consents(
    session: AsyncSession, actor: Actor, ids: Sequence[int]
) -> list[list[ConsentStatus]]:
    found = await service.consents_of(session, actor, ids)
    return [found[i] for i in ids]


async def _history_pages(
    session: AsyncSession, actor: Actor, size: int, ids: Sequence[int]
) -> list[Page[ConsentEvent]]:
    pages = await service.first_history_pages(session, actor, ids, size=size)
    return [pages[i] for i in ids]


async def _history_counts(
    session: AsyncSession, actor: Actor, ids: Sequence[int]
) -> list[int]:
    found = await service.history_counts(session, actor, ids)
    return [found[i] for i in ids]


async def _preferences(
    session: AsyncSession, ids: Sequence[int]
) -> list[ContactPreference | None]:
    found = await preferences.preferences_by_customer(session, ids)
    return [found.get(i) for i in ids]


async def _my_answers(
    session: AsyncSession, actor: Actor, ids: Sequence[int]
) -> list[list[Interaction]]:
    found = await feedback.my_answers(session, actor, ids)
    return [found[i] for i in ids]


def consents(info: Info) -> DataLoader[int, list[ConsentStatus]]:
    """Every consent slot of many customers, in one statement."""
    ctx = info.context
    return ctx.memo(
        "consent.statuses",
        lambda: DataLoader(partial(_consents, ctx.session, ctx.actor)),
    )


def history_pages(info: Info, size: int) -> DataLoader[int, Page[ConsentEvent]]:
    """First pages of many customers' consent ledgers, in one statement per size."""
    ctx = info.context
    return ctx.memo(
        f"consent.history.{size}",
        lambda: DataLoader(partial(_history_pages, ctx.session, ctx.actor, size)),
    )


def history_counts(info: Info) -> DataLoader[int, int]:
    """How many consent decisions each of many customers has, in one statement."""
    ctx = info.context
    return ctx.memo(
        "consent.history_counts",
        lambda: DataLoader(partial(_history_counts, ctx.session, ctx.actor)),
    )


def contact_preferences(info: Info) -> DataLoader[int, ContactPreference | None]:
    """Contact preferences of many customers, in one statement."""
    ctx = info.context
    return ctx.memo(
        "consent.preferences",
        lambda: DataLoader(partial(_preferences, ctx.session)),
    )


def my_answers(info: Info) -> DataLoader[int, list[Interaction]]:
    """The firm's shared answers to many of the customer's interactions."""
    ctx = info.context
    return ctx.memo(
        "consent.my_answers",
        lambda: DataLoader(partial(_my_answers, ctx.session, ctx.actor)),
    )
