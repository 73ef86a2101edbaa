"""Selections to SQL: objects, money and keyset connections as JSON expressions.

Each object type the planner covers has a table here mapping its GraphQL fields to
SQL over the row's columns; a field missing from the table makes its root field
resolve the ordinary way. Rules come from crm (scopes, list queries, orderings,
field rights): the planner asks the same functions the resolvers ask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import Enum
from typing import Any

from graphql import get_named_type
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
)
from sqlmodel import col

from crm.actors import Actor
from crm.customers import policies as customer_policies
from crm.customers import service as customer_service
from crm.customers.models import LifecycleStage
from crm.errors import DomainError
from crm.interactions import policies as interaction_policies
from crm.interactions import service as interaction_service
from crm.interactions.models import (
    Channel,
    Direction,
    FeedbackKind,
    InteractionKind,
    Source,
    Survey,
)
from crm.interactions.models import Interaction as InteractionModel
from crm.interactions.models import Visibility as VisibilityValue
from crm.me import service as me_service
from crm.pagination import PageRequest, SortKey, keyset_window
from crm.permissions import StaffRole
from crm.segments import reads as segment_reads
from crm.segments.models import SegmentKind
from crm.sqljson import JsonSql
from crm.staff.models import StaffMember as StaffModel
from schema.planner.executor import DEFERRED
from schema.planner.selection import Selected, Selection, Unplannable
from schema.planner.sources import deferrable
from schema.relay import page_args
from schema.scalars import plain

Columns = Any  # a FromClause's `.c`: the row's columns by name
# Nested objects and lists one statement may hold (below, the resolvers take over).
MAX_DEPTH_PG = 8
MAX_DEPTH_SQLITE = 3
Json = ColumnElement[Any]


@dataclass
class Plan:
    """What one operation's planned fields need: the selection reader, the actor
    and the dialect's JSON builder."""

    selection: Selection
    actor: Actor
    json: JsonSql
    # Whether some field was left to the resolvers (schema/planner/executor.py).
    deferred: bool = False
    # Where cursors come as key values for Python to encode (float keys): paths
    # of response keys, None standing for every item of a list.
    raw_cursors: list[tuple[str | None, ...]] = dataclass_field(default_factory=list)

    # How many objects and lists deep the statement is at this point; SQLite's
    # parser has a fixed stack, so deeper parts are left to the resolvers there.
    depth: int = 0

    @contextmanager
    def nested(self) -> Iterator[None]:
        """Build one level deeper (a nested object or list), or Unplannable."""
        if self.depth >= (MAX_DEPTH_PG if self.json.pg else MAX_DEPTH_SQLITE):
            raise Unplannable("nested too deep for one statement")
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def defer(self, type_name: str, pk: Json) -> Json:
        """A field the resolvers complete on this row's object, or Unplannable
        where rows of this type have no object to start from."""
        if not deferrable(type_name):
            raise Unplannable(type_name)
        self.deferred = True
        return self.json.obj([(DEFERRED, pk)])

    def text(self, value: str) -> Json:
        return literal_column("'" + value.replace("'", "''") + "'")

    def typename(self, name: str) -> Json:
        return self.text(name)


def _column(name: str) -> Callable[[Plan, Columns], Json]:
    return lambda plan, c: c[name]


def _time(name: str) -> Callable[[Plan, Columns], Json]:
    return lambda plan, c: plan.json.iso_time(c[name])


def _enum(name: str, enum: type[Enum]) -> Callable[[Plan, Columns], Json]:
    return lambda plan, c: plan.json.enum_name(c[name], enum)


CUSTOMER_SCALARS: dict[str, Callable[[Plan, Columns], Json]] = {
    "id": lambda plan, c: plan.json.global_id("Customer", c.id),
    "externalRef": _column("external_ref"),
    "email": _column("email"),
    "phone": _column("phone"),
    "givenName": _column("given_name"),
    "familyName": _column("family_name"),
    "displayName": _column("display_name"),
    "company": _column("company"),
    "locale": _column("locale"),
    "timeZone": _column("time_zone"),
    "lifecycleStage": _enum("lifecycle_stage", LifecycleStage),
    "tags": lambda plan, c: plan.json.doc(c.tags, "[]"),
    "attributes": lambda plan, c: plan.json.doc(c.attributes, "{}"),
    "createdAt": _time("created_at"),
    "updatedAt": _time("updated_at"),
    "archivedAt": _time("archived_at"),
    "version": _column("version"),
    "archived": lambda plan, c: plan.json.boolean(c.archived_at.is_not(None)),
}

INTERACTION_SCALARS: dict[str, Callable[[Plan, Columns], Json]] = {
    "id": lambda plan, c: plan.json.global_id("Interaction", c.id),
    "occurredAt": _time("occurred_at"),
    "channel": _enum("channel", Channel),
    "direction": _enum("direction", Direction),
    "kind": _enum("kind", InteractionKind),
    "subject": _column("subject"),
    "visibility": _enum("visibility", VisibilityValue),
    "source": _enum("source", Source),
    "rating": _column("rating"),
    "sentiment": lambda plan, c: plan.json.number(c.sentiment),
    "externalRef": _column("external_ref"),
    "recordedBy": _column("recorded_by"),
    "createdAt": _time("created_at"),
    "updatedAt": _time("updated_at"),
    "version": _column("version"),
}


def money(plan: Plan, selected: Selected, amount: Json, currency: Json) -> Json:
    """A Money object, null when the amount or its currency is missing."""
    pairs: list[tuple[str, Json]] = []
    for field in plan.selection.fields(
        plan.selection.object_type("Money"), selected.nodes
    ):
        if field.name == "amount":
            pairs.append((field.key, plan.json.money(amount)))
        elif field.name == "currency":
            pairs.append((field.key, currency))
        elif field.name == "__typename":
            pairs.append((field.key, plan.typename("Money")))
        else:
            raise Unplannable(f"Money.{field.name}")
    return plan.json.nested(
        case(
            (or_(amount.is_(None), currency.is_(None)), null()),
            else_=plan.json.obj(pairs),
        )
    )


@dataclass(frozen=True)
class ObjectType:
    """How the planner builds one object type over a row's columns: its plain
    fields (`scalars`), the fields that need more (`fields`: nested objects and
    connections, field rights), and, for every other field or one of these that
    it cannot plan, the resolvers (schema/planner/sources.py), where the type has
    a source; otherwise the root is left to them."""

    name: str
    scalars: Mapping[str, Callable[[Plan, Columns], Json]]
    fields: Mapping[str, Callable[[Plan, Selected, Columns], Json]] = dataclass_field(
        default_factory=dict
    )
    pk: Callable[[Columns], Json] = lambda c: c.id

    def __call__(self, plan: Plan, nodes: Sequence[Any], c: Columns) -> Json:
        pairs: list[tuple[str, Json]] = []
        object_type = plan.selection.object_type(self.name)
        for selected in plan.selection.fields(object_type, nodes):
            name = selected.name
            scalar = self.scalars.get(name)
            if scalar is not None:
                value = scalar(plan, c)
            elif name == "__typename":
                value = plan.typename(self.name)
            else:
                try:
                    build = self.fields.get(name)
                    if build is None:
                        raise Unplannable(f"{self.name}.{name}")
                    value = build(plan, selected, c)
                except Unplannable:
                    value = plan.defer(self.name, self.pk(c))
            pairs.append((selected.key, value))
        return plan.json.obj(pairs)


def _amount(plan: Plan, selected: Selected, c: Columns) -> Json:
    return money(plan, selected, c.amount, c.currency)


def _cost_to_serve(plan: Plan, selected: Selected, c: Columns) -> Json:
    if not interaction_policies.can_read_costs(plan.actor):
        return null()
    return money(plan, selected, c.cost_to_serve, c.currency)


def _body(plan: Plan, selected: Selected, c: Columns) -> Json:
    hidden = interaction_policies.hidden_body_visibilities(plan.actor)
    if not hidden:
        return c.body  # type: ignore[no-any-return]
    return case((c.visibility.in_(sorted(hidden)), null()), else_=c.body)


Listed = tuple[Select[Any], list[SortKey]]


def nested_list(
    plan: Plan,
    field: Selected,
    listed: Callable[[dict[str, Any]], Listed],
    node: Callable[[Plan, Sequence[Any], Columns], Json],
    parent: Columns | None,
) -> Json:
    """A connection field below a planned row: `listed(arguments)` gives the list
    the resolver would page (from crm), correlated to the `parent` row's columns.
    Arguments the resolvers refuse (once per row, with that row's path) leave the
    field to them."""
    try:
        args = plan.selection.arguments(field)
        page = page_args(args["first"], args["after"], args["last"], args["before"])
        stmt, keys = listed(args)
    except DomainError as exc:
        raise Unplannable(str(exc)) from exc
    assert field.definition is not None
    connection_type = get_named_type(field.definition.type)
    table = parent.id.table if parent is not None else None
    with plan.nested():
        built = connection(
            plan, field.nodes, connection_type, stmt, keys, page, node, table
        )
    return plan.json.nested(built)


def customer_interactions(plan: Plan, field: Selected, customer: Columns) -> Json:
    """Customer.interactions: one correlated connection per customer row."""
    from schema.interactions.types import interaction_order_args

    def listed(args: dict[str, Any]) -> Listed:
        order, descending = interaction_order_args(args["order_by"])
        stmt, keys = interaction_service.interaction_list(
            plan.actor,
            where=plain(args["where"]) if args["where"] is not None else None,
            order=order,
            descending=descending,
        )
        return stmt.where(col(InteractionModel.customer_id) == customer.id), keys

    return nested_list(plan, field, listed, interaction_object, customer)


STAFF_SCALARS: dict[str, Callable[[Plan, Columns], Json]] = {
    "id": lambda plan, c: plan.json.global_id("StaffMember", c.id),
    "email": _column("email"),
    "displayName": _column("display_name"),
    "role": _enum("role", StaffRole),
    "createdAt": _time("created_at"),
    "active": lambda plan, c: plan.json.boolean(c.archived_at.is_(None)),
}

staff_object = ObjectType("StaffMember", STAFF_SCALARS)
"""A staff member as other types show it."""


def _owner(plan: Plan, field: Selected, customer: Columns) -> Json:
    """Customer.owner: null without the right to read staff."""
    if not customer_policies.can_see_owner(plan.actor):
        return null()
    rows = (
        select(StaffModel)
        .where(col(StaffModel.id) == customer.owner_id)
        .correlate(customer.id.table)
        .subquery()
    )
    with plan.nested():
        document = select(staff_object(plan, field.nodes, rows.c))
    return plan.json.nested(document.select_from(rows).scalar_subquery())


customer_object = ObjectType(
    "Customer",
    CUSTOMER_SCALARS,
    {"interactions": customer_interactions, "owner": _owner},
)
"""A firm Customer object over the row columns `c`."""


def _interaction_customer(plan: Plan, field: Selected, c: Columns) -> Json:
    """Interaction.customer, read as the customer roots read customers; where
    the caller may not see that customer the field is left to its resolver (its
    NOT_FOUND, on that row's path)."""
    try:
        query = customer_service.customer_query(plan.actor, c.customer_id)
    except DomainError as exc:
        raise Unplannable(str(exc)) from exc
    rows = query.correlate(c.id.table).subquery()
    with plan.nested():
        document = select(customer_object(plan, field.nodes, rows.c))
    found = plan.json.nested(document.select_from(rows).scalar_subquery())
    return func.coalesce(found, plan.defer("Interaction", c.id))


interaction_object = ObjectType(
    "Interaction",
    INTERACTION_SCALARS,
    {
        "amount": _amount,
        "costToServe": _cost_to_serve,
        "body": _body,
        "customer": _interaction_customer,
    },
)
"""A firm Interaction; body and cost follow crm.interactions.policies."""


def connection(
    plan: Plan,
    nodes: Sequence[Any],
    type_: Any,
    stmt: Select[Any],
    keys: Sequence[SortKey],
    page: PageRequest,
    node: Callable[[Plan, Sequence[Any], Columns], Json],
    parent: FromClause | None,
) -> Json:
    """A keyset Connection over the rows of `stmt` (as crm.pagination.paginate
    pages them): a scalar subquery whose value is the connection's JSON.

    `stmt` may refer to the columns of an enclosing row (a nested connection):
    it is then correlated to it.
    """
    built = connection_select(plan, nodes, type_, stmt, keys, page, node, parent=parent)
    return built.statement.scalar_subquery()


@dataclass
class BuiltConnection:
    statement: Select[Any]
    rows: FromClause


def connection_select(
    plan: Plan,
    nodes: Sequence[Any],
    type_: Any,
    stmt: Select[Any],
    keys: Sequence[SortKey],
    page: PageRequest,
    node: Callable[[Plan, Sequence[Any], Columns], Json],
    *,
    parent: FromClause | None = None,
    root: bool = False,
    with_ids: bool = False,
    cursor_name: str | None = None,
) -> BuiltConnection:
    """The SELECT of one row: the connection's JSON document as text, and with
    `with_ids` a JSON array of the listed rows' primary keys."""
    kinds = [k.kind for k in keys]
    in_sql = plan.json.cursor_in_sql(kinds)
    if not in_sql and not (root and set(kinds) <= {"float", "int", "str"}):
        raise Unplannable("sort keys without a cursor form here")
    if parent is not None:
        # A nested list names its parent row: correlated, not joined.
        stmt = stmt.correlate(parent)
    try:
        window = keyset_window(stmt, keys, page, cursor_name=cursor_name)
    except DomainError as exc:
        raise Unplannable(str(exc)) from exc
    p = window.subquery()
    reverse = page.backwards
    nearest_first = [k.descending != reverse for k in keys]
    order = [
        p.c[f"_k{i}"].desc() if down else p.c[f"_k{i}"].asc()
        for i, down in enumerate(nearest_first)
    ]
    position = func.row_number().over(order_by=order).label("_n")
    # Rows from the far end: with _n, how many rows came back (no COUNT needed).
    backwards_order = [
        p.c[f"_k{i}"].asc() if down else p.c[f"_k{i}"].desc()
        for i, down in enumerate(nearest_first)
    ]
    back = func.row_number().over(order_by=backwards_order).label("_back")
    fields = plan.selection.fields(type_, nodes)
    page_info = plan.selection.object_type("PageInfo")
    ends = {
        item.name
        for field in fields
        if field.name == "pageInfo"
        for item in plan.selection.fields(page_info, field.nodes)
    } & {"startCursor", "endCursor"}
    # The second window only where a page's last cursor is asked for.
    middle = select(p, position, back) if ends else select(p, position)
    json = plan.json
    if not json.pg:
        # SQLite aggregates rows in the order they come.
        middle = middle.order_by(position.desc() if reverse else position.asc())
    q = middle.subquery()
    size = page.size
    n = q.c._n
    listed = n <= size
    output = [n.desc() if reverse else n.asc()]
    if in_sql:
        cursor = json.cursor([(q.c[f"_k{i}"], k.kind) for i, k in enumerate(keys)])
    else:
        # Python finishes these cursors (crm.sqljson.encode_raw_cursors).
        cursor = json.raw_cursor([(q.c[f"_k{i}"], k.kind) for i, k in enumerate(keys)])
    if ends:
        rows = n + q.c._back - 1
        last_listed = func.min(rows, size) if not json.pg else func.least(rows, size)
    more = func.coalesce(func.max(n), 0) > size
    pairs: list[tuple[str, Json]] = []
    # Whether the document aggregates the page's rows; if not, it must not read
    # them (one row out even when the page is empty).
    reads_rows = with_ids
    for field in fields:
        name = field.name
        reads_rows = reads_rows or name in ("edges", "nodes")
        if name == "edges":
            assert field.definition is not None
            edge_type = get_named_type(field.definition.type)
            cursor_keys: list[str] = []
            edge = _edge(plan, field, edge_type, q, cursor, node, cursor_keys)
            pairs.append((field.key, json.array(edge, output, listed)))
            if not in_sql:
                plan.raw_cursors += [(field.key, None, key) for key in cursor_keys]
        elif name == "nodes":
            pairs.append(
                (field.key, json.array(node(plan, field.nodes, q.c), output, listed))
            )
        elif name == "pageInfo":
            info_pairs: list[tuple[str, Json]] = []
            for item in plan.selection.fields(
                plan.selection.object_type("PageInfo"), field.nodes
            ):
                reads_rows = reads_rows or item.name in (
                    "startCursor",
                    "endCursor",
                    "hasNextPage" if not reverse else "hasPreviousPage",
                )
                if item.name == "hasNextPage":
                    value = (
                        json.boolean(more)
                        if not reverse
                        else _const(json, page.before is not None)
                    )
                elif item.name == "hasPreviousPage":
                    value = (
                        json.boolean(more)
                        if reverse
                        else _const(json, page.after is not None)
                    )
                elif item.name in ("startCursor", "endCursor"):
                    first = (item.name == "startCursor") != reverse
                    at = literal(1) if first else last_listed
                    value = json.first_text(cursor, and_(listed, n == at))
                    if not in_sql:
                        plan.raw_cursors.append((field.key, item.key))
                elif item.name == "__typename":
                    value = plan.typename("PageInfo")
                else:
                    raise Unplannable(f"PageInfo.{item.name}")
                info_pairs.append((item.key, value))
            pairs.append((field.key, json.obj(info_pairs)))
        elif name == "totalCount":
            counted = (
                select(func.count())
                .select_from(stmt.order_by(None).subquery())
                .scalar_subquery()
            )
            pairs.append((field.key, counted))
        elif name == "__typename":
            pairs.append((field.key, plan.typename(type_.name)))
        else:
            raise Unplannable(f"{type_.name}.{name}")
    document = json.obj(pairs)
    if not root:
        statement = select(document)
    elif with_ids:
        ids = json.array(q.c.id, output, listed)
        statement = select(json.as_text(document), json.as_text(ids))
    else:
        statement = select(json.as_text(document))
    if reads_rows:
        statement = statement.select_from(q)
    return BuiltConnection(statement, q)


def _edge(
    plan: Plan,
    field: Selected,
    edge_type: Any,
    q: Any,
    cursor: Json,
    node: Callable[[Plan, Sequence[Any], Columns], Json],
    cursor_keys: list[str],
) -> Json:
    pairs: list[tuple[str, Json]] = []
    for item in plan.selection.fields(edge_type, field.nodes):
        if item.name == "cursor":
            pairs.append((item.key, cursor))
            cursor_keys.append(item.key)
        elif item.name == "node":
            pairs.append((item.key, node(plan, item.nodes, q.c)))
        elif item.name == "__typename":
            pairs.append((item.key, plan.typename(edge_type.name)))
        else:
            raise Unplannable(f"{edge_type.name}.{item.name}")
    return plan.json.obj(pairs)


def _const(json: JsonSql, value: bool) -> Json:
    word = "true" if value else "false"
    return literal_column(word) if json.pg else func.json(literal_column(f"'{word}'"))


MY_PROFILE_SCALARS = {
    name: CUSTOMER_SCALARS[name]
    for name in (
        "id",
        "email",
        "phone",
        "givenName",
        "familyName",
        "displayName",
        "company",
        "locale",
        "timeZone",
        "createdAt",
        "updatedAt",
    )
}

MY_INTERACTION_SCALARS: dict[str, Callable[[Plan, Columns], Json]] = {
    **{
        name: INTERACTION_SCALARS[name]
        for name in (
            "id",
            "occurredAt",
            "channel",
            "direction",
            "kind",
            "subject",
            "rating",
        )
    },
    "body": _column("body"),
    "survey": _enum("survey", Survey),
    "feedbackKind": _enum("feedback_kind", FeedbackKind),
}


my_profile_object = ObjectType("MyProfile", MY_PROFILE_SCALARS)
"""MyProfile: the customer's own record as they see it."""

my_interaction_object = ObjectType(
    "MyInteraction", MY_INTERACTION_SCALARS, {"amount": _amount}
)
"""MyInteraction: an interaction shared with the customer."""


def _my_profile(plan: Plan, selected: Selected, _: Columns) -> Json:
    rows = me_service.my_profile_query(plan.actor).subquery()
    with plan.nested():
        document = select(my_profile_object(plan, selected.nodes, rows.c))
    return plan.json.nested(document.select_from(rows).scalar_subquery())


def me_object(plan: Plan, nodes: Sequence[Any]) -> tuple[Json, list[str]]:
    """Me: the profile and shared interactions planned, the rest deferred. Also
    the response keys of `profile`, which the resolvers must answer when the
    customer's record is gone (their NOT_FOUND)."""
    me = ObjectType(
        "Me",
        {},
        {"profile": _my_profile, "interactions": _my_interactions},
        pk=lambda _: literal_column("0"),
    )
    selected = plan.selection.fields(plan.selection.object_type("Me"), nodes)
    profile_keys = [field.key for field in selected if field.name == "profile"]
    return me(plan, nodes, None), profile_keys


def _my_interactions(plan: Plan, field: Selected, _: Columns) -> Json:
    def listed(args: dict[str, Any]) -> Listed:
        where = plain(args["where"]) if args["where"] is not None else None
        return me_service.my_interaction_list(plan.actor, where=where)

    return nested_list(plan, field, listed, my_interaction_object, None)


SEGMENT_SCALARS: dict[str, Callable[[Plan, Columns], Json]] = {
    "id": lambda plan, c: plan.json.global_id("Segment", c.id),
    "name": _column("name"),
    "description": _column("description"),
    "kind": _enum("kind", SegmentKind),
    "customerVisible": lambda plan, c: plan.json.boolean(c.customer_visible),
    "customerName": _column("customer_name"),
    "customerDescription": _column("customer_description"),
    "builtinKey": _column("builtin_key"),
    "size": _column("size"),
    "refreshedAt": _time("refreshed_at"),
    "createdAt": _time("created_at"),
    "updatedAt": _time("updated_at"),
    "version": _column("version"),
}


def _segment_members(plan: Plan, field: Selected, segment: Columns) -> Json:
    def listed(args: dict[str, Any]) -> Listed:
        return segment_reads.member_list(plan.actor, segment.id)

    return nested_list(plan, field, listed, customer_object, segment)


segment_object = ObjectType("Segment", SEGMENT_SCALARS, {"members": _segment_members})
"""A Segment with its members planned; rule, history, satisfaction and explain
resolve the ordinary way."""
