"""DataLoaders for one operation and one actor: a cache never crosses either."""

from __future__ import annotations

from collections.abc import Sequence
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
    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.customers: DataLoader[int, Customer | None] = DataLoader(self._customers)
        self.staff: DataLoader[int, StaffMember | None] = DataLoader(self._staff)
        self._pages: dict[str, DataLoader[int, Page[Interaction]]] = {}
        self._counts: dict[str, DataLoader[int, int]] = {}

    async def _customers(self, ids: Sequence[int]) -> list[Customer | None]:
        found = await customer_repository.by_ids(self.session, self.actor, ids)
        return [found.get(i) for i in ids]

    async def _staff(self, ids: Sequence[int]) -> list[StaffMember | None]:
        rows = await self.session.scalars(
            select(StaffMember).where(StaffMember.id.in_(list(set(ids))))  # type: ignore[union-attr]
        )
        found = {m.id: m for m in rows}
        return [found.get(i) for i in ids]

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

            async def load(ids: Sequence[int]) -> list[Page[Interaction]]:
                pages = await interaction_service.first_pages_by_customer(
                    self.session,
                    self.actor,
                    ids,
                    size=size,
                    where=where,
                    order=order,
                    descending=descending,
                )
                return [pages[i] for i in ids]

            self._pages[key] = DataLoader(load)
        return self._pages[key]

    def interaction_counts(self, where: dict[str, Any] | None) -> DataLoader[int, int]:
        """How many (matching) interactions each customer has, in one GROUP BY."""
        key = _key(where)
        if key not in self._counts:

            async def load(ids: Sequence[int]) -> list[int]:
                customer_id = col(Interaction.customer_id)
                stmt = (
                    interaction_policies.scoped(
                        select(customer_id, func.count()),  # type: ignore[arg-type]
                        self.actor,
                    )
                    .where(compile_where(INTERACTION_SPEC, where, self.actor))
                    .where(customer_id.in_(list(set(ids))))
                    .group_by(customer_id)
                )
                counts = {cid: n for cid, n in await self.session.execute(stmt)}
                return [int(counts.get(i, 0)) for i in ids]

            self._counts[key] = DataLoader(load)
        return self._counts[key]
