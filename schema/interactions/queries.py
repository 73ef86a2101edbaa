"""Interaction queries."""

from __future__ import annotations

import strawberry

from crm.interactions import service
from crm.pagination import count
from crm.permissions import Permission
from schema.context import Info
from schema.filters import InteractionWhere
from schema.interactions.types import (
    Interaction,
    InteractionOrder,
    interaction_order_args,
)
from schema.permissions import Has, gate
from schema.planner import roots as planner
from schema.relay import Connection, connection, page_args, pk_of
from schema.scalars import plain


@strawberry.type
class InteractionQueries:
    @strawberry.field(
        description="Interactions across all customers, newest first by default.",
        extensions=gate(Has(Permission.INTERACTIONS_READ)),
    )
    async def interactions(
        self,
        info: Info,
        where: InteractionWhere | None = None,
        order_by: InteractionOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Interaction]:
        session = info.context.session
        page = page_args(first, after, last, before)
        order, descending = interaction_order_args(order_by)
        planned = await planner.interactions(
            info, page=page, where=where, order=order, descending=descending
        )
        if planned is not None:
            return planned  # type: ignore[return-value]
        listed = await service.list_interactions(
            session,
            info.context.actor,
            page=page,
            where=plain(where) if where is not None else None,
            order=order,
            descending=descending,
        )
        return connection(
            listed.page,
            Interaction.from_model,
            lambda: count(session, listed.count_statement),
        )

    @strawberry.field(
        description="One interaction by ID.",
        extensions=gate(Has(Permission.INTERACTIONS_READ)),
    )
    async def interaction(self, info: Info, id: strawberry.ID) -> Interaction | None:
        pk = pk_of(id, "Interaction")
        planned = await planner.interaction(info, pk)
        if planned is not None:
            return planned  # type: ignore[return-value]
        model = await service.get_interaction(
            info.context.session, info.context.actor, pk
        )
        return Interaction.from_model(model)
