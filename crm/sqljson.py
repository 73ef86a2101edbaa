"""JSON documents built by the database, with values in the API's exact text forms.

The planner (schema/planner) asks the database for a response subtree already
shaped. Each value must read exactly as the resolvers would write it: global IDs
(crm.ids), keyset cursors (crm.pagination), ISO 8601 times (`datetime.isoformat`),
money with four decimals, enum names. PostgreSQL spells each form in SQL;
SQLite, which runs in this process, calls the Python functions themselves
(registered on every connection by `register_sqlite_functions`), so its forms
are the resolvers' by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Float,
    Text,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
)
from sqlalchemy.dialects.postgresql import array_agg

from crm.columns import MONEY_SCALE
from crm.ids import to_global_id
from crm.pagination import KeyKind, encode_cursor

_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_MONEY_FACTOR = Decimal(10) ** MONEY_SCALE
_KIND_LETTERS: dict[str, KeyKind] = {
    "d": "datetime",
    "s": "str",
    "i": "int",
    "f": "float",
}
# What PostgreSQL spells exactly as encode_cursor does (not floats: Python and
# PostgreSQL print some of them differently).
_PG_KINDS = frozenset({"datetime", "str", "int"})
RAW_CURSOR = "__cursor__"


def _sqlite_time(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _iso(value: Any) -> str | None:
    moment = _sqlite_time(value)
    return None if moment is None else moment.isoformat()


def _money(value: Any) -> str | None:
    if value is None:
        return None
    return str((Decimal(int(value)) / _MONEY_FACTOR).quantize(_MONEY_QUANTUM))


def _gid(type_name: str, pk: Any) -> str | None:
    return None if pk is None else to_global_id(type_name, int(pk))


def _cursor(kinds: str, *values: Any) -> str:
    plain = [
        _sqlite_time(v) if kind == "d" else float(v) if kind == "f" else v
        for kind, v in zip(kinds, values, strict=True)
    ]
    return encode_cursor(plain)


def _float(value: Any) -> str | None:
    return None if value is None else orjson.dumps(float(value)).decode()


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """The API's text forms as SQL functions of a SQLite connection."""
    create = dbapi_connection.create_function
    create("mutual_iso", 1, _iso, deterministic=True)
    create("mutual_money", 1, _money, deterministic=True)
    create("mutual_gid", 2, _gid, deterministic=True)
    create("mutual_cursor", -1, _cursor, deterministic=True)
    create("mutual_float", 1, _float, deterministic=True)


def _key(name: str) -> ColumnElement[Any]:
    # GraphQL names are [_A-Za-z][_0-9A-Za-z]*: safe inside quotes, and a literal
    # (not a parameter) so that the statement's shape is its cache key.
    if not name.replace("_", "a").isalnum() or not name.isascii():
        raise ValueError(f"not a GraphQL name: {name!r}")
    return literal_column(f"'{name}'")


class JsonSql:
    """Builds JSON-valued SQL for one dialect (postgresql or sqlite)."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    # Structure.
    def obj(
        self, pairs: Sequence[tuple[str, ColumnElement[Any]]]
    ) -> ColumnElement[Any]:
        """A JSON object of `pairs`, keys in order."""
        args: list[ColumnElement[Any]] = []
        for key, value in pairs:
            args += [_key(key), value]
        return func.json_build_object(*args) if self.pg else func.json_object(*args)

    def nested(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A JSON value that crossed a subquery (SQLite forgets it was JSON)."""
        return value if self.pg else func.json(value)

    def as_text(self, value: ColumnElement[Any]) -> ColumnElement[str]:
        """The JSON document as text, decoded by the caller."""
        return cast(value, Text)

    def array(
        self,
        value: ColumnElement[Any],
        order_by: Sequence[ColumnElement[Any]],
        where: ColumnElement[bool] | None = None,
    ) -> ColumnElement[Any]:
        """The JSON array of `value` over the rows (aggregate), `[]` when none.

        On SQLite the rows must come in order (an ordered subquery): it has no
        ORDER BY inside aggregates before 3.44."""
        if self.pg:
            agg: Any = func.json_agg(aggregate_order_by_(value, order_by))
            if where is not None:
                agg = agg.filter(where)
            return func.coalesce(agg, literal_column("'[]'::json"))
        agg = func.json_group_array(value)
        if where is not None:
            agg = agg.filter(where)
        return agg

    def first_text(
        self, value: ColumnElement[Any], where: ColumnElement[bool]
    ) -> ColumnElement[Any]:
        """`value` in the one row matching `where` (aggregate)."""
        if self.pg:
            return array_agg(value).filter(where)[1]
        return func.max(value).filter(where)

    def cursor_in_sql(self, kinds: Sequence[KeyKind]) -> bool:
        """Whether the database spells cursors of keys of these kinds itself."""
        allowed = _PG_KINDS if self.pg else frozenset(_KIND_LETTERS.values())
        return all(kind in allowed for kind in kinds)

    def raw_cursor(
        self, parts: Sequence[tuple[ColumnElement[Any], KeyKind]]
    ) -> ColumnElement[Any]:
        """`{"__cursor__": [key values]}`, for `encode_raw_cursors` to finish.
        Floats travel as doubles (a `real` rank widened exactly as the driver
        widens it) that decode as floats."""
        values = [
            self.number(cast(column, Float(precision=53)))
            if kind == "float"
            else column
            for column, kind in parts
        ]
        array = func.json_build_array(*values) if self.pg else func.json_array(*values)
        return self.obj([(RAW_CURSOR, array)])

    # Scalars.
    def boolean(self, condition: ColumnElement[bool]) -> ColumnElement[Any]:
        if self.pg:
            return condition
        return func.json(case((condition, "true"), else_="false"))

    def doc(self, column: ColumnElement[Any], empty: str) -> ColumnElement[Any]:
        """A JSON column (tags, attributes) as its JSON value, `empty` when null."""
        if self.pg:
            return func.coalesce(column, literal_column(f"'{empty}'::jsonb"))
        return func.json(func.coalesce(column, empty))

    def iso_time(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """`datetime.isoformat()` of a UTC time: microseconds only when not zero."""
        if not self.pg:
            return func.mutual_iso(column)
        utc = column.op("AT TIME ZONE")(literal_column("'UTC'"))
        text = func.to_char(utc, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS.US'"))
        # One to_char; whole seconds drop their fraction, as isoformat() does.
        whole = func.replace(
            text, literal_column("'.000000'"), literal_column("''"), type_=Text
        )
        return whole + literal_column("'+00:00'")

    def number(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """A float column as a JSON number that decodes to a float (1.0, not 1)."""
        if not self.pg:
            return func.json(func.mutual_float(column))
        text = cast(func.to_json(column), Text)
        whole = and_(column == func.trunc(column), func.abs(column) < 1e15)
        return cast(case((whole, text + literal_column("'.0'")), else_=text), JSON)

    def money(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """An amount as its four-decimal text (`Decimal` quantized, as `str`)."""
        if not self.pg:
            return func.mutual_money(column)
        return cast(column, Text)

    def enum_name(
        self, column: ColumnElement[Any], enum: type[Enum]
    ) -> ColumnElement[Any]:
        """The GraphQL name of a stored enum value."""
        if all(m.name == str(m.value).upper() for m in enum):
            return func.upper(column)
        return case(*((column == m.value, m.name) for m in enum), else_=null())

    def global_id(self, type_name: str, pk: ColumnElement[Any]) -> ColumnElement[Any]:
        if not self.pg:
            return func.mutual_gid(literal_column(f"'{type_name}'"), pk)
        raw: ColumnElement[Any] = literal_column(f"'{type_name}:'") + cast(pk, Text)
        return self._base64url(raw)

    def cursor(
        self, parts: Sequence[tuple[ColumnElement[Any], KeyKind]]
    ) -> ColumnElement[Any]:
        """`crm.pagination.encode_cursor` of the sort key values of a row."""
        if not self.pg:
            letters = {v: k for k, v in _KIND_LETTERS.items()}
            kinds = "".join(letters[kind] for _, kind in parts)
            return func.mutual_cursor(
                literal_column(f"'{kinds}'"), *(column for column, _ in parts)
            )
        pieces: list[ColumnElement[Any]] = []
        for column, kind in parts:
            if kind == "datetime":
                pieces.append(cast(func.to_json(self.iso_time(column)), Text))
            elif kind == "str":
                pieces.append(cast(func.to_json(column), Text))
            elif kind == "int":
                pieces.append(cast(column, Text))
            else:
                raise ValueError(f"no SQL cursor form for {kind} keys")
        text: ColumnElement[Any] = literal_column("'['")
        for i, piece in enumerate(pieces):
            if i:
                text = text + literal_column("','")
            text = text + piece
        return self._base64url(text + literal_column("']'"))

    @staticmethod
    def _base64url(text: ColumnElement[Any]) -> ColumnElement[Any]:
        encoded = func.encode(
            func.convert_to(text, literal_column("'UTF8'")),
            literal_column("'base64'"),
        )
        # URL-safe alphabet, no padding, none of the line breaks encode() adds.
        return func.translate(
            encoded, literal_column("'+/='||chr(10)"), literal_column("'-_'")
        )


def encode_raw_cursors(document: Any, paths: Sequence[Sequence[str | None]]) -> Any:
    """Encode the raw cursors (`{"__cursor__": [...]}`) at `paths` of a decoded
    document: response keys, None for every item of a list. Only there: a
    customer's own JSON (attributes) is never touched."""
    for path in paths:
        _encode_at(document, list(path))
    return document


def _encode_at(value: Any, path: list[str | None]) -> None:
    if value is None or not path:
        return
    step, rest = path[0], path[1:]
    items = list(enumerate(value)) if step is None else [(step, value.get(step))]
    for key, item in items:
        if not rest:
            if isinstance(item, dict) and RAW_CURSOR in item:
                value[key] = encode_cursor(item[RAW_CURSOR])
        else:
            _encode_at(item, rest)


def aggregate_order_by_(
    value: ColumnElement[Any], order_by: Sequence[ColumnElement[Any]]
) -> Any:
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    return aggregate_order_by(value, *order_by) if order_by else value
