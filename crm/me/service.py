"""The customer's own view: every read is confined to the signed-in customer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import Actor
from crm.customers.models import Customer
from crm.errors import NotFound
from crm.filtering import compile_where
from crm.interactions.models import Interaction
from crm.me import policies
from crm.me.filters import MY_INTERACTION_SPEC, my_interaction_order
from crm.pagination import Page, PageRequest, SortKey, paginate


async def get_my_profile(
    session: AsyncSession, actor: Actor, customer_id: int
) -> Customer:
    """The customer record `customer_id`, when it is the actor's own."""
    found = (await session.scalars(my_profile_query(actor, customer_id))).first()
    if found is None:
        raise NotFound("No customer with that ID.", field="id")
    return found


def my_profile_query(actor: Actor, customer_id: Any = None) -> Select[Any]:
    """The customer record `customer_id` (default: the actor's own), when it is
    the actor's own and active."""
    if customer_id is None:
        customer_id = policies.own_customer_id(actor)
    return select(Customer).where(
        policies.profile_scope(actor), col(Customer.id) == customer_id
    )


async def my_profile(session: AsyncSession, actor: Actor) -> Customer:
    """The signed-in customer's own record."""
    return await get_my_profile(session, actor, policies.own_customer_id(actor))


async def get_my_interaction(
    session: AsyncSession, actor: Actor, interaction_id: int
) -> Interaction:
    """One interaction shared with the signed-in customer."""
    found = (
        await session.scalars(
            select(Interaction).where(
                policies.interaction_scope(actor),
                col(Interaction.id) == interaction_id,
            )
        )
    ).first()
    if found is None:
        raise NotFound("No interaction with that ID.", field="id")
    return found


@dataclass
class MyInteractionList:
    """One page of the customer's interactions and the statement counting them all."""

    page: Page[Interaction]
    count_statement: Select[Any]


async def my_interactions(
    session: AsyncSession,
    actor: Actor,
    *,
    where: Mapping[str, Any] | None = None,
    page: PageRequest,
) -> MyInteractionList:
    """The interactions shared with the signed-in customer, newest first."""
    stmt, keys = my_interaction_list(actor, where=where)
    result = await paginate(session, stmt, keys, page)
    return MyInteractionList(page=result, count_statement=stmt)


def my_interaction_list(
    actor: Actor, *, where: Mapping[str, Any] | None = None
) -> tuple[Select[Any], list[SortKey]]:
    """The interactions shared with the signed-in customer, unpaged, and the keys
    that order them (newest first): for the resolvers and the planner alike."""
    stmt = select(Interaction).where(
        policies.interaction_scope(actor),
        compile_where(MY_INTERACTION_SPEC, where, actor),
    )
    return stmt, my_interaction_order()


async def my_interactions_by_ids(
    session: AsyncSession, actor: Actor, ids: Iterable[int]
) -> dict[int, Interaction]:
    """The interactions with these IDs shared with the signed-in customer."""
    rows = await session.scalars(
        select(Interaction).where(
            policies.interaction_scope(actor), col(Interaction.id).in_(sorted(ids))
        )
    )
    return {i.id: i for i in rows if i.id is not None}
