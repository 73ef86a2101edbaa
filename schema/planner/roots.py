"""Root fields, planned: one SQL statement each, the response subtree as JSON.

A root resolver asks its function here first; None means "resolve the ordinary
way" (the planner is off, or the selection holds a field it does not cover, or
nested arguments whose errors the resolvers report per row). Root arguments are
checked by the same crm functions, in the same order, as the resolvers do, so a
refusal reads the same on both paths.
"""

from __future__ import annotations

from typing import Any

import orjson
from graphql import get_named_type
from sqlalchemy import select

from crm.customers import service as customer_service
from crm.customers.filters import CustomerOrderField
from crm.interactions import service as interaction_service
from crm.pagination import PageRequest
from crm.sqljson import JsonSql
from schema.context import Info
from schema.enums import OrderDirection
from schema.planner.build import (
    Plan,
    connection_select,
    customer_object,
    interaction_object,
)
from schema.planner.executor import Planned
from schema.planner.selection import Selection, Unplannable
from schema.scalars import plain
from schema.selfservice.access import note_customer_reads


def _plan(info: Info) -> Plan | None:
    context = info.context
    if not context.planner:
        return None
    return Plan(Selection(info), context.actor, JsonSql(context.database.dialect))


async def customers(
    info: Info,
    *,
    page: PageRequest,
    where: Any,
    order_by: Any,
    search: str | None,
) -> Planned | None:
    """Query.customers."""
    plan = _plan(info)
    if plan is None or search is not None:
        return None
    stmt, keys = await customer_service.customer_list(
        info.context.session,
        info.context.actor,
        where=plain(where) if where is not None else None,
        order=CustomerOrderField(order_by.field) if order_by else None,
        descending=bool(order_by and order_by.direction is OrderDirection.DESC),
    )
    try:
        built = connection_select(
            plan,
            plan.selection.root(),
            get_named_type(info._raw_info.return_type),
            stmt,
            keys,
            page,
            customer_object,
            root=True,
            with_ids=True,
        )
    except Unplannable:
        return None
    row = (await info.context.session.execute(built.statement)).one()
    note_customer_reads(info, orjson.loads(row[1]))
    return Planned(orjson.loads(row[0]))


async def customer(info: Info, pk: int) -> Planned | None:
    """Query.customer(id:)."""
    plan = _plan(info)
    if plan is None:
        return None
    row_source = customer_service.customer_query(info.context.actor, pk).subquery("c")
    try:
        document = customer_object(plan, plan.selection.root(), row_source.c)
    except Unplannable:
        return None
    statement = select(plan.json.as_text(document)).select_from(row_source)
    found = (await info.context.session.execute(statement)).first()
    if found is None:
        raise customer_service.customer_not_found()
    note_customer_reads(info, (pk,))
    return Planned(orjson.loads(found[0]))


async def interactions(
    info: Info, *, page: PageRequest, where: Any, order: Any, descending: bool
) -> Planned | None:
    """Query.interactions."""
    plan = _plan(info)
    if plan is None:
        return None
    stmt, keys = interaction_service.interaction_list(
        info.context.actor,
        where=plain(where) if where is not None else None,
        order=order,
        descending=descending,
    )
    try:
        built = connection_select(
            plan,
            plan.selection.root(),
            get_named_type(info._raw_info.return_type),
            stmt,
            keys,
            page,
            interaction_object,
            root=True,
        )
    except Unplannable:
        return None
    row = (await info.context.session.execute(built.statement)).one()
    return Planned(orjson.loads(row[0]))


async def interaction(info: Info, pk: int) -> Planned | None:
    """Query.interaction(id:)."""
    plan = _plan(info)
    if plan is None:
        return None
    row_source = interaction_service.interaction_query(info.context.actor, pk)
    rows = row_source.subquery("i")
    try:
        document = interaction_object(plan, plan.selection.root(), rows.c)
    except Unplannable:
        return None
    statement = select(plan.json.as_text(document)).select_from(rows)
    found = (await info.context.session.execute(statement)).first()
    if found is None:
        raise interaction_service.interaction_not_found()
    return Planned(orjson.loads(found[0]))
