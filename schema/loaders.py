"""DataLoaders for one operation and one actor: a cache never crosses either."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from strawberry.dataloader import DataLoader

from crm.actors import Actor
from crm.customers import repository as customer_repository
from crm.customers.models import Customer
from crm.filtering import compile_where
from crm.interactions import policies as interaction_policies
from crm.interactions import service as interaction_service
from crm.interactions.filters import INTERACTION_SPEC, InteractionOrderField
from crm.interactions.models import Interaction
from crm.pagination import Page
from crm.staff.models import StaffMember


def _key(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


class Loaders:
    """The load functions close over the session and actor, never over `self`: a
    cycle (Loaders -> DataLoader -> bound method -> Loaders) would keep every row an
    operation loaded alive until the cyclic garbage collector ran."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.customers: DataLoader[int, Customer | None] = DataLoader(
            partial(_customers, session, actor)
        )
        self.staff: DataLoader[int, StaffMember | None] = DataLoader(
            partial(_staff, session)
        )
        self._pages: dict[str, DataLoader[int, Page[Interaction]]] = {}
        self._counts: dict[str, DataLoader[int, int]] = {}

    def interaction_pages(
        self,
        size: int,
        where: dict[str, Any] | None,
        order: InteractionOrderField,
        descending: bool,
    ) -> DataLoader[int, Page[Interaction]]:
        """First pages of many customers' interactions, in one statement per shape."""
        key = _key([size, where, order.value, descending])
        if key not in self._pages:
            self._pages[key] = DataLoader(
                partial(
                    _interaction_pages,
                    self.session,
                    self.actor,
                    size=size,
                    where=where,
                    order=order,
                    descending=descending,
                )
            )
        return self._pages[key]

    def interaction_counts(self, where: dict[str, Any] | None) -> DataLoader[int, int]:
        """How many (matching) interactions each customer has, in one GROUP BY."""
        key = _key(where)
        if key not in self._counts:
            self._counts[key] = DataLoader(
                partial(_interaction_counts, self.session, self.actor, where)
            )
        return self._counts[key]


async def _customers(
    session: AsyncSession, actor: Actor, ids: Sequence[int]
) -> list[Customer | None]:
    found = await customer_repository.by_ids(session, actor, ids)
    return [found.get(i) for i in ids]


async def _staff(session: AsyncSession, ids: Sequence[int]) -> list[StaffMember | None]:
    rows = await session.scalars(
        select(StaffMember).where(StaffMember.id.in_(list(set(ids))))  # type: ignore[union-attr]
    )
    found = {m.id: m for m in rows}
    return [found.get(i) for i in ids]


async def _interaction_pages(
    session: AsyncSession,
    actor: Actor,
    ids: Sequence[int],
    *,
    size: int,
    where: dict[str, Any] | None,
    order: InteractionOrderField,
    descending: bool,
) -> list[Page[Interaction]]:
    pages = await interaction_service.first_pages_by_customer(
        session,
        actor,
        ids,
        size=size,
        where=where,
        order=order,
        descending=descending,
    )
    return [pages[i] for i in ids]


async def _interaction_counts(
    session: AsyncSession,
    actor: Actor,
    where: dict[str, Any] | None,
    ids: Sequence[int],
) -> list[int]:
    customer_id = col(Interaction.customer_id)
    stmt = (
        interaction_policies.scoped(
            select(customer_id, func.count()),  # type: ignore[arg-type]
            actor,
        )
        .where(compile_where(INTERACTION_SPEC, where, actor))
        .where(customer_id.in_(list(set(ids))))
        .group_by(customer_id)
    )
    counts = {cid: n for cid, n in await session.execute(stmt)}
    return [int(counts.get(i, 0)) for i in ids]
