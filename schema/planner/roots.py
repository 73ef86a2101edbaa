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

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import get_named_type
from sqlalchemy import Integer, Select, bindparam, select

from crm.actors import Actor, CustomerActor
from crm.customers import service as customer_service
from crm.customers.filters import CustomerOrderField
from crm.errors import BadInput, NotFound
from crm.ids import parse_global_id
from crm.interactions import service as interaction_service
from crm.pagination import PageRequest, SortKey, cursor_parameters
from crm.segments import service as segment_service
from crm.segments.filters import SegmentOrderField
from crm.sqljson import JsonSql, encode_raw_cursors
from schema.context import Info
from schema.enums import OrderDirection
from schema.planner.build import (
    Plan,
    connection_select,
    customer_object,
    interaction_object,
    me_object,
    segment_object,
)
from schema.planner.cache import PLANS, Cached, Shape
from schema.planner.executor import Planned
from schema.planner.selection import Selection, Unplannable
from schema.relay import node_not_found
from schema.scalars import plain
from schema.selfservice.access import note_customer_reads

logger = logging.getLogger("mutual.planner")

CURSOR = "planned_cursor"
PK = "planned_pk"
PKS = "planned_pks"


def _plan(info: Info) -> Plan:
    context = info.context
    return Plan(Selection(info), context.actor, JsonSql(context.database.dialect))


async def _run(info: Info, statement: Select[Any], params: dict[str, Any]) -> Any:
    """The statement's one row (or None). On PostgreSQL a cached statement runs
    on the operation's own connection and transaction as SQL compiled once: a
    read that needs no ORM skips the ORM's per-statement work (engine events
    still see it)."""
    context = info.context
    session = context.session
    if context.database.dialect == "postgresql" and hasattr(session, "in_turn"):
        compiled = _compiled(statement, context.database.read_engine.dialect)
        args = _arguments(compiled, params) if compiled is not None else None
        if args is not None:
            sql = compiled[0]

            async def fetch() -> Any:
                connection = await session.connection()
                return (await connection.exec_driver_sql(sql, args)).first()

            # Errors of the statement itself are SQLAlchemy's, as from the session.
            return await session.in_turn(fetch)
    return (await session.execute(statement, params)).first()


def _arguments(compiled: Any, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The positional arguments of a compiled statement, or None where a value
    is one its column type refuses (out of range...): the session then reports
    that as it does anywhere (BAD_USER_INPUT)."""
    _, names, processors, defaults = compiled
    values = {**defaults, **params}
    try:
        return tuple(
            processors[name](values[name]) if name in processors else values[name]
            for name in names
        )
    except Exception:
        logger.debug("planned read left to the session", exc_info=True)
        return None


_COMPILED: dict[int, tuple[Select[Any], Any]] = {}


def _compiled(statement: Select[Any], dialect: Any) -> Any:
    """(SQL, parameter names in order, bind processors, default values) of a
    cached statement, compiled once; None where it takes expanding parameters."""
    found = _COMPILED.get(id(statement))
    if found is not None and found[0] is statement:
        return found[1]
    compiled = statement.compile(dialect=dialect)
    if any(bind.expanding for bind in compiled.binds.values()):
        result = None
    else:
        defaults = {name: bind.effective_value for name, bind in compiled.binds.items()}
        processors = dict(compiled._bind_processors)
        result = (
            compiled.string,
            tuple(compiled.positiontup or ()),
            processors,
            defaults,
        )
    if len(_COMPILED) > 2048:
        _COMPILED.clear()
    _COMPILED[id(statement)] = (statement, result)
    return result


async def customers(
    info: Info,
    *,
    page: PageRequest,
    where: Any,
    order_by: Any,
    search: str | None,
) -> Planned | None:
    """Query.customers (and the reads it notes in the customers' access logs)."""

    async def listed() -> tuple[Select[Any], list[SortKey]]:
        return await customer_service.customer_list(
            info.context.session,
            info.context.actor,
            where=plain(where) if where is not None else None,
            search=search,
            order=CustomerOrderField(order_by.field) if order_by else None,
            descending=bool(order_by and order_by.direction is OrderDirection.DESC),
        )

    # A search reads its typo candidates from the data: planned anew each time.
    found = await _list_root(
        info, "customers", page, listed, customer_object, ids=True, cache=not search
    )
    if found is None:
        return None
    row, cached = found
    note_customer_reads(info, orjson.loads(row[1]))
    return _planned(row[0], cached)


async def _list_root(
    info: Info,
    root: str,
    page: PageRequest,
    listed: Callable[[], Awaitable[tuple[Select[Any], list[SortKey]]]],
    node: Any,
    *,
    ids: bool = False,
    cache: bool = True,
) -> tuple[Any, Cached] | None:
    """The row of a planned list root (its document, and with `ids` the listed
    rows' primary keys), planned once per shape; None leaves it to the
    resolvers."""
    if not info.context.planner:
        return None
    shape = Shape.of(info, root, bound=("after", "before"))
    cached = PLANS.get(shape) if cache else None
    if cached is None:
        stmt, keys = await listed()
        cached = _connection(info, stmt, keys, page, node, ids=ids)
        if cache:
            PLANS.put(shape, cached)
    if cached.statement is None:
        return None
    params = cursor_parameters(cached.keys, page, CURSOR)
    return await _run(info, cached.statement, params), cached


def _planned(document: str, cached: Cached) -> Planned:
    value = orjson.loads(document)
    if cached.raw_cursors:
        value = encode_raw_cursors(value, cached.raw_cursors)
    return Planned(value, deferred=cached.deferred)


async def interactions(
    info: Info, *, page: PageRequest, where: Any, order: Any, descending: bool
) -> Planned | None:
    """Query.interactions."""

    async def listed() -> tuple[Select[Any], list[SortKey]]:
        return interaction_service.interaction_list(
            info.context.actor,
            where=plain(where) if where is not None else None,
            order=order,
            descending=descending,
        )

    found = await _list_root(info, "interactions", page, listed, interaction_object)
    return None if found is None else _planned(found[0][0], found[1])


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
    return Cached(
        built.statement, keys, plan.deferred, raw_cursors=tuple(plan.raw_cursors)
    )


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
    *,
    type_name: str | None = None,
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
    return Planned(
        orjson.loads(found[0]), deferred=cached.deferred, type_name=type_name
    )


@dataclass(frozen=True)
class _NodeRoot:
    query: Callable[[Actor, Any], Select[Any]]
    query_many: Callable[[Actor, Any], Select[Any]]
    node: Callable[..., Any]
    reads_customers: bool  # recorded in the customer's access log


NODE_ROOTS = {
    "Customer": _NodeRoot(
        customer_service.customer_query,
        customer_service.customers_query,
        customer_object,
        True,
    ),
    "Interaction": _NodeRoot(
        interaction_service.interaction_query,
        interaction_service.interactions_query,
        interaction_object,
        False,
    ),
    "Segment": _NodeRoot(
        segment_service.segment_query,
        segment_service.segments_query,
        segment_object,
        False,
    ),
}


def _node_ids(info: Info, ids: Sequence[str]) -> list[tuple[str, int]] | None:
    """The (type, pk) of each ID when the planner covers them all (firm callers,
    planned types, IDs that parse); None leaves node/nodes to the resolvers."""
    if not info.context.planner or isinstance(info.context.actor, CustomerActor):
        return None
    parsed = []
    for value in ids:
        try:
            type_name, pk = parse_global_id(value)
        except BadInput:
            return None
        if type_name not in NODE_ROOTS:
            return None
        parsed.append((type_name, pk))
    return parsed


async def node(info: Info, id: str) -> Planned | None:
    """Query.node(id:), for the types the planner covers."""
    parsed = _node_ids(info, [id])
    if parsed is None:
        return None
    ((type_name, pk),) = parsed
    root = NODE_ROOTS[type_name]
    actor = info.context.actor
    found = await _by_id(
        info,
        f"node:{type_name}",
        pk,
        lambda key: root.query(actor, key),
        root.node,
        node_not_found,
        type_name=type_name,
    )
    if found is not None and root.reads_customers:
        note_customer_reads(info, (pk,))
    return found


async def nodes(info: Info, ids: Sequence[str]) -> Planned | None:
    """Query.nodes(ids:): one statement per object type; null where an object is
    missing or not the caller's to see."""
    parsed = _node_ids(info, ids)
    if parsed is None:
        return None
    types = list(dict.fromkeys(type_name for type_name, _ in parsed))
    shape = Shape.of(info, "nodes:" + ",".join(types), bound=("ids",))
    cached = PLANS.get(shape)
    if cached is None:
        parts: list[tuple[str, Select[Any]]] = []
        deferred = False
        for type_name in types:  # in the order the resolvers meet them
            root = NODE_ROOTS[type_name]
            rows = root.query_many(
                info.context.actor, bindparam(PKS, expanding=True)
            ).subquery()
            plan = _plan(info)
            try:
                document = root.node(plan, plan.selection.root(), rows.c)
            except Unplannable:
                parts = []
                break
            deferred = deferred or plan.deferred
            statement = select(rows.c.id, plan.json.as_text(document))
            parts.append((type_name, statement.select_from(rows)))
        # Deferred fields of items of several types would need one object type
        # per item: the resolvers take those.
        usable = bool(parts) and not (deferred and len(types) > 1)
        cached = PLANS.put(
            shape,
            Cached(None, (), deferred, tuple(parts) if usable else ()),
        )
    if not cached.parts:
        return None
    found: dict[tuple[str, int], Any] = {}
    for type_name, statement in cached.parts:
        wanted = [pk for t, pk in parsed if t == type_name]
        result = await info.context.session.execute(statement, {PKS: wanted})
        for pk, document in result:
            found[(type_name, pk)] = orjson.loads(document)
    read = [pk for t, pk in parsed if t == "Customer" and (t, pk) in found]
    if read:
        note_customer_reads(info, read)
    return Planned(
        [found.get(key) for key in parsed],
        deferred=cached.deferred,
        type_name=types[0],
    )


async def me(info: Info) -> Planned | None:
    """Query.me: the profile and shared interactions in one statement."""
    if not info.context.planner:
        return None
    shape = Shape.of(info, "me", bound=())
    cached = PLANS.get(shape)
    if cached is None:
        plan = _plan(info)
        try:
            document, required = me_object(plan, plan.selection.root())
        except Unplannable:
            cached = PLANS.put(shape, Cached(None, ()))
        else:
            statement = select(plan.json.as_text(document))
            cached = PLANS.put(
                shape, Cached(statement, (), plan.deferred, required=tuple(required))
            )
    if cached.statement is None:
        return None
    row = await _run(info, cached.statement, {})
    value = orjson.loads(row[0])
    if any(value[key] is None for key in cached.required):
        return None  # the record is gone: the resolvers say so, as always
    return Planned(value, deferred=cached.deferred)


async def segments(
    info: Info, *, page: PageRequest, where: Any, order_by: Any
) -> Planned | None:
    """Query.segments."""

    async def listed() -> tuple[Select[Any], list[SortKey]]:
        return segment_service.segment_list(
            info.context.actor,
            where=plain(where) if where is not None else None,
            order=SegmentOrderField(order_by.field) if order_by else None,
            descending=bool(order_by and order_by.direction is OrderDirection.DESC),
        )

    found = await _list_root(info, "segments", page, listed, segment_object)
    return None if found is None else _planned(found[0][0], found[1])


async def segment(info: Info, pk: int) -> Planned | None:
    """Query.segment(id:)."""
    return await _by_id(
        info,
        "segment",
        pk,
        lambda key: segment_service.segment_query(info.context.actor, key),
        segment_object,
        segment_service.segment_not_found,
    )
