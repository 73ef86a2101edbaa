"""Root fields, planned: one SQL statement each, the response subtree as JSON.

A root resolver asks its function here first; None means "resolve the ordinary
way" (the planner is off, or the selection holds a field it does not cover, or
nested arguments whose errors the resolvers report per row). Root arguments are
checked by the same crm functions, in the same order, as the resolvers do, so a
refusal reads the same on both paths.

Statements are cached per shape (schema/planner/cache.py): a repeated query with
another ID or cursor runs the statement built for the first one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from graphql import get_named_type
from sqlalchemy import Integer, Select, bindparam, select

from crm.customers import service as customer_service
from crm.customers.filters import CustomerOrderField
from crm.errors import NotFound
from crm.interactions import service as interaction_service
from crm.pagination import PageRequest, SortKey, cursor_parameters
from crm.sqljson import JsonSql
from schema.context import Info
from schema.enums import OrderDirection
from schema.planner.build import (
    Plan,
    connection_select,
    customer_object,
    interaction_object,
)
from schema.planner.cache import PLANS, Cached, Shape
from schema.planner.executor import Planned
from schema.planner.selection import Selection, Unplannable
from schema.scalars import plain
from schema.selfservice.access import note_customer_reads

CURSOR = "planned_cursor"
PK = "planned_pk"


def _plan(info: Info) -> Plan:
    context = info.context
    return Plan(Selection(info), context.actor, JsonSql(context.database.dialect))


async def _run(info: Info, statement: Select[Any], params: dict[str, Any]) -> Any:
    return (await info.context.session.execute(statement, params)).first()


async def customers(
    info: Info,
    *,
    page: PageRequest,
    where: Any,
    order_by: Any,
    search: str | None,
) -> Planned | None:
    """Query.customers."""
    if not info.context.planner or search is not None:
        return None
    shape = Shape.of(info, "customers", bound=("after", "before"))
    cached = PLANS.get(shape)
    if cached is None:
        stmt, keys = await customer_service.customer_list(
            info.context.session,
            info.context.actor,
            where=plain(where) if where is not None else None,
            order=CustomerOrderField(order_by.field) if order_by else None,
            descending=bool(order_by and order_by.direction is OrderDirection.DESC),
        )
        cached = PLANS.put(shape, _connection(info, stmt, keys, page, customer_object))
    if cached.statement is None:
        return None
    params = cursor_parameters(cached.keys, page, CURSOR)
    row = await _run(info, cached.statement, params)
    note_customer_reads(info, orjson.loads(row[1]))
    return Planned(orjson.loads(row[0]), deferred=cached.deferred)


async def interactions(
    info: Info, *, page: PageRequest, where: Any, order: Any, descending: bool
) -> Planned | None:
    """Query.interactions."""
    if not info.context.planner:
        return None
    shape = Shape.of(info, "interactions", bound=("after", "before"))
    cached = PLANS.get(shape)
    if cached is None:
        stmt, keys = interaction_service.interaction_list(
            info.context.actor,
            where=plain(where) if where is not None else None,
            order=order,
            descending=descending,
        )
        built = _connection(info, stmt, keys, page, interaction_object, ids=False)
        cached = PLANS.put(shape, built)
    if cached.statement is None:
        return None
    params = cursor_parameters(cached.keys, page, CURSOR)
    row = await _run(info, cached.statement, params)
    return Planned(orjson.loads(row[0]), deferred=cached.deferred)


def _connection(
    info: Info,
    stmt: Select[Any],
    keys: Sequence[SortKey],
    page: PageRequest,
    node: Any,
    *,
    ids: bool = True,
) -> Cached:
    # A cursor that is not one of this list is the resolvers' BadInput, raised
    # here before anything is planned.
    cursor_parameters(keys, page, CURSOR)
    plan = _plan(info)
    try:
        built = connection_select(
            plan,
            plan.selection.root(),
            get_named_type(info._raw_info.return_type),
            stmt,
            keys,
            page,
            node,
            root=True,
            with_ids=ids,
            cursor_name=CURSOR,
        )
    except Unplannable:
        return Cached(None, keys)
    return Cached(built.statement, keys, plan.deferred)


async def customer(info: Info, pk: int) -> Planned | None:
    """Query.customer(id:)."""
    found = await _by_id(
        info,
        "customer",
        pk,
        lambda key: customer_service.customer_query(info.context.actor, key),
        customer_object,
        customer_service.customer_not_found,
    )
    if found is not None:
        note_customer_reads(info, (pk,))
    return found


async def interaction(info: Info, pk: int) -> Planned | None:
    """Query.interaction(id:)."""
    return await _by_id(
        info,
        "interaction",
        pk,
        lambda key: interaction_service.interaction_query(info.context.actor, key),
        interaction_object,
        interaction_service.interaction_not_found,
    )


async def _by_id(
    info: Info,
    root: str,
    pk: int,
    query: Callable[[Any], Select[Any]],
    node: Any,
    missing: Callable[[], NotFound],
) -> Planned | None:
    if not info.context.planner:
        return None
    shape = Shape.of(info, root, bound=("id",))
    cached = PLANS.get(shape)
    if cached is None:
        rows = query(bindparam(PK, type_=Integer)).subquery()
        plan = _plan(info)
        try:
            document = node(plan, plan.selection.root(), rows.c)
            statement = select(plan.json.as_text(document)).select_from(rows)
            cached = PLANS.put(shape, Cached(statement, (), plan.deferred))
        except Unplannable:
            cached = PLANS.put(shape, Cached(None, ()))
    if cached.statement is None:
        return None
    found = await _run(info, cached.statement, {PK: pk})
    if found is None:
        raise missing()
    return Planned(orjson.loads(found[0]), deferred=cached.deferred)
