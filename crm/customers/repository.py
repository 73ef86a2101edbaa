"""SQL for customers; every read goes through the actor's scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import Actor
from crm.customers.models import Customer
from crm.customers.policies import scoped


def customers(actor: Actor) -> Select[Any]:
    return scoped(select(Customer), actor)


async def by_ids(
    session: AsyncSession, actor: Actor, ids: Iterable[int]
) -> dict[int, Customer]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(customers(actor).where(Customer.id.in_(wanted)))  # type: ignore[union-attr]
    return {c.id: c for c in rows if c.id is not None}


async def by_keys(
    session: AsyncSession,
    *,
    external_refs: Iterable[str] = (),
    email_keys: Iterable[str] = (),
) -> tuple[dict[str, Customer], dict[str, Customer]]:
    """Existing customers by external reference and by folded email (unscoped: for
    uniqueness checks, which must see every row)."""
    refs, emails = list(set(external_refs)), list(set(email_keys))
    by_ref: dict[str, Customer] = {}
    by_email: dict[str, Customer] = {}
    if refs:
        found = await session.scalars(
            select(Customer).where(col(Customer.external_ref).in_(refs))
        )
        by_ref = {c.external_ref: c for c in found if c.external_ref}
    if emails:
        found = await session.scalars(
            select(Customer).where(col(Customer.email_key).in_(emails))
        )
        by_email = {c.email_key: c for c in found if c.email_key}
    return by_ref, by_email
