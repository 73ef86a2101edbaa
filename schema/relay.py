"""Relay plumbing: the Node interface, global IDs, keyset connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types.private import is_private

from crm import pagination
from crm.errors import NotFound
from crm.ids import decode_id, to_global_id

NodeT = TypeVar("NodeT")
TypeT = TypeVar("TypeT")


@strawberry.interface(
    description="An object with a global ID, fetchable with node(id:)."
)
class Node:
    id: strawberry.ID = strawberry.field(description="Global, opaque ID.")


def node_not_found() -> NotFound:
    """What node(id:) says of a missing object, one the caller may not see and an
    unknown type alike (no existence oracle)."""
    return NotFound("No object with that ID.", field="id")


def global_id(type_name: str, pk: int | None) -> strawberry.ID:
    assert pk is not None
    return strawberry.ID(to_global_id(type_name, pk))


def row_view(
    type_: type[TypeT],
    *,
    columns: Iterable[str],
    computed: Mapping[str, Callable[[Any], Any]],
) -> Callable[[Any], TypeT]:
    """A `from_model` for the strawberry type `type_` that reads its plain fields
    from the row when GraphQL resolves them, not when the object is built.

    A page asks for a handful of a type's fields; building every field of every row
    up front (column reads, enum conversions, global IDs) cost ~20 µs a row. The
    objects are instances of an undecorated subclass of `type_` whose plain fields
    are properties over the row, kept in `model_`: `columns` are read as stored
    (an enum column's stored value is what graphql-core maps to the enum's name),
    `computed` maps a field to a function of the row. Every plain field needs one
    or the other, so a field added to the type alone fails at import.
    """
    columns = tuple(columns)
    fields = type_.__strawberry_definition__.fields  # type: ignore[attr-defined]
    plain = {
        f.python_name
        for f in fields
        if f.base_resolver is None and not is_private(f.type)
    }
    given = [*columns, *computed]
    if missing := plain - set(given):
        raise TypeError(f"{type_.__name__}: no row getter for {sorted(missing)}")
    if set(given) - plain or len(given) != len(set(given)):
        raise TypeError(f"{type_.__name__}: row getters {given} for fields {plain}")

    def of_row(compute: Callable[[Any], Any]) -> property:
        return property(lambda self: compute(self.model_))

    namespace: dict[str, Any] = {
        "__doc__": f"A {type_.__name__} read from its row on demand.",
        "__module__": type_.__module__,
    }
    namespace.update({name: property(attrgetter(f"model_.{name}")) for name in columns})
    namespace.update({name: of_row(compute) for name, compute in computed.items()})
    view = type(f"{type_.__name__}Row", (type_,), namespace)
    new = object.__new__

    def from_model(model: Any) -> TypeT:
        obj: TypeT = new(view)
        obj.model_ = model  # type: ignore[attr-defined]
        return obj

    return from_model


def pk_of(value: Any, type_name: str, *, field: str = "id") -> int:
    return decode_id(value, type_name, field=field)


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Items precede this page (true whenever `after` was given)."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item.")


@strawberry.type(description="One item of a list and its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(
        description="Pass as `after` (or `before`) to page from this item."
    )
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, paginated with keyset cursors.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(
        description="The page's items, each with its cursor."
    )
    nodes: list[NodeT] = strawberry.field(
        description="The page's items, without cursors."
    )
    page_info: PageInfo = strawberry.field(
        description="Where the page sits in the list."
    )
    count_: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(
        description="How many items the whole list holds (costs a COUNT)."
    )
    async def total_count(self) -> int:
        assert self.count_ is not None
        return await self.count_()


def connection(
    page: pagination.Page[Any],
    wrap: Callable[[Any], NodeT],
    count: Callable[[], Awaitable[int]] | None,
) -> Connection[NodeT]:
    nodes = [wrap(item) for item in page.items]
    edges = [Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)]
    return Connection(
        edges=edges,
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        count_=count,
    )


def page_args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> pagination.PageRequest:
    return pagination.page_request(first=first, after=after, last=last, before=before)


def as_list(values: Sequence[Any] | None) -> list[Any]:
    return list(values or [])
