"""Keyset pagination in SQL: opaque cursors over (sort key..., id), never offsets."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Literal, TypeVar

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from crm.errors import BadInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

KeyKind = Literal["datetime", "str", "int", "float", "decimal"]
T = TypeVar("T")


@dataclass(frozen=True)
class SortKey:
    """One column of an ordering; the last key of an ordering must be unique."""

    column: ColumnElement[Any]
    kind: KeyKind
    descending: bool = False


@dataclass(frozen=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def backwards(self) -> bool:
        return self.last is not None

    @property
    def size(self) -> int:
        if self.last is not None:
            return self.last
        return self.first if self.first is not None else DEFAULT_PAGE_SIZE


def page_request(
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    """Check the Relay arguments: one direction, sizes within 0..100."""
    if first is not None and last is not None:
        raise BadInput("Pass `first` or `last`, not both.", field="first")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise BadInput(
                f"`{name}` must be between 0 and {MAX_PAGE_SIZE}, got {value}.",
                field=name,
            )
    if last is not None and after is not None:
        raise BadInput(
            "`after` goes with `first`; use `before` with `last`.", field="after"
        )
    if first is not None and before is not None:
        raise BadInput(
            "`before` goes with `last`; use `after` with `first`.", field="before"
        )
    return PageRequest(first=first, after=after, last=last, before=before)


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(values: Sequence[Any]) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, Decimal):
            return str(v)
        return v

    raw = orjson.dumps([plain(v) for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[SortKey], *, field: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("wrong shape")
        return [_decode_value(v, key.kind) for v, key in zip(values, keys, strict=True)]
    except (
        ValueError,
        TypeError,
        OverflowError,
        binascii.Error,
        InvalidOperation,
        orjson.JSONDecodeError,
    ):
        raise BadInput(
            f"`{field}` is not a cursor of this list (order or filter changed?).",
            field=field,
        ) from None


def _decode_value(value: Any, kind: KeyKind) -> Any:
    if value is None:
        raise ValueError("null key")
    if kind == "datetime":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed.astimezone(UTC)  # OverflowError at the ends of time
    if kind == "decimal":
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError("decimal")
        return number
    if kind == "int":
        # Integer keys are IDs: 32-bit, as the columns that hold them.
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("int")
        if not -(2**31) <= value < 2**31:
            raise ValueError("int out of range")
        return value
    if kind == "float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError("float")
        return float(value)
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("str")
    return value


def _after(
    keys: Sequence[SortKey], values: Sequence[Any], reverse: bool
) -> ColumnElement[bool]:
    """Rows strictly after `values` in the (possibly reversed) ordering of `keys`."""
    directions = {k.descending != reverse for k in keys}
    if len(directions) == 1:
        left = tuple_(*(k.column for k in keys))
        right = tuple_(*values)
        return left < right if directions.pop() else left > right
    # Mixed directions: expand (a, b) > (x, y) into a > x OR (a = x AND b > y).
    clauses = []
    for i, key in enumerate(keys):
        descending = key.descending != reverse
        cmp = key.column < values[i] if descending else key.column > values[i]
        clauses.append(and_(*(keys[j].column == values[j] for j in range(i)), cmp))
    return or_(*clauses)


def cursor_parameters(
    keys: Sequence[SortKey], page: PageRequest, name: str
) -> dict[str, Any]:
    """The page's cursor values as the named parameters `keyset_window(...,
    cursor_name=name)` declares; BadInput when it is not a cursor of this list."""
    reverse = page.backwards
    cursor = page.before if reverse else page.after
    if cursor is None:
        return {}
    values = decode_cursor(cursor, keys, field="before" if reverse else "after")
    return {f"{name}{i}": value for i, value in enumerate(values)}


def keyset_window(
    stmt: Select[Any],
    keys: Sequence[SortKey],
    page: PageRequest,
    *,
    cursor_name: str | None = None,
) -> Select[Any]:
    """`stmt` narrowed to the rows of one page and the one after it (size + 1),
    nearest to the cursor first, with the sort keys added as `_k0`, `_k1`...
    A cursor that is not one of this list is BadInput.

    With `cursor_name`, the cursor's values are the named parameters `name0`,
    `name1`... (`cursor_parameters`), so the statement serves any cursor."""
    reverse = page.backwards
    cursor = page.before if reverse else page.after
    if cursor is not None:
        values: list[Any] = decode_cursor(
            cursor, keys, field="before" if reverse else "after"
        )
        if cursor_name is not None:
            values = [
                bindparam(f"{cursor_name}{i}", value, type_=key.column.type)
                for i, (key, value) in enumerate(zip(keys, values, strict=True))
            ]
        stmt = stmt.where(_after(keys, values, reverse))
    order = [
        k.column.desc() if k.descending != reverse else k.column.asc() for k in keys
    ]
    labelled = [k.column.label(f"_k{i}") for i, k in enumerate(keys)]
    return stmt.add_columns(*labelled).order_by(*order).limit(page.size + 1)


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    keys: Sequence[SortKey],
    page: PageRequest,
) -> Page[Any]:
    """Run `stmt` (selecting one entity) for one page in `keys` order."""
    reverse = page.backwards
    rows = (await session.execute(keyset_window(stmt, keys, page))).all()
    more = len(rows) > page.size
    rows = rows[: page.size]
    if reverse:
        rows.reverse()
    items = [row[0] for row in rows]
    cursors = [encode_cursor(row[1:]) for row in rows]
    if reverse:
        return Page(
            items,
            cursors,
            has_next_page=page.before is not None,
            has_previous_page=more,
        )
    return Page(
        items, cursors, has_next_page=more, has_previous_page=page.after is not None
    )


async def count(session: AsyncSession, stmt: Select[Any]) -> int:
    """How many rows `stmt` selects, without its ordering and limits."""
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int((await session.execute(counted)).scalar_one())
