"""The filter language: `where` documents compiled to SQL.

A `where` is a plain dict (the GraphQL layer converts its inputs; segments store
the same dicts as JSON): field names map to operator dicts, `and`/`or` to lists,
`not` to one `where`, and relations to `{some: where}` / `{none: where}` /
`{every: where}`. Values are coerced from JSON, so a stored rule and a typed
GraphQL input compile the same way.

Two-valued logic: a comparison with a missing (NULL) value is false, never
unknown, so `not` and `every` mean what they say (`not: {company: {eq: "A"}}`
keeps customers without a company, like `neq` does). Relation filters run over a
fresh alias of the related table, so a filter may walk back to where it started
(interactions -> customer -> interactions) and mean "another row".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    ColumnElement,
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased

from crm.actors import Actor
from crm.errors import BadInput, Forbidden
from crm.ids import decode_id
from crm.permissions import Permission

FieldKind = Literal[
    "string", "int", "float", "decimal", "datetime", "enum", "bool", "id", "tags"
]

MAX_DEPTH = 12
MAX_CONDITIONS = 200

COMPARISON = {"eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "is_null"}
OPERATORS: dict[FieldKind, set[str]] = {
    "string": {
        "eq",
        "neq",
        "in",
        "not_in",
        "contains",
        "starts_with",
        "is_null",
        "gt",
        "gte",
        "lt",
        "lte",
    },
    "int": COMPARISON,
    "float": COMPARISON,
    "decimal": COMPARISON,
    "datetime": COMPARISON,
    "enum": {"eq", "neq", "in", "not_in", "is_null"},
    "bool": {"eq", "is_null"},
    "id": {"eq", "neq", "in", "not_in", "is_null"},
    "tags": {"has", "has_any", "has_all", "has_none", "is_empty"},
}


@dataclass(frozen=True)
class FieldSpec:
    """A filterable field: its SQL column, value kind and the right needed to use it.

    `column` takes the entity the filter runs over (the mapped class or an alias).
    """

    column: Callable[[Any], ColumnElement[Any]]
    kind: FieldKind
    enum: type[StrEnum] | None = None
    permission: Permission | None = None
    normalize: Callable[[Any], Any] | None = None
    # For kind "id": the type the global IDs must name ("Customer"...).
    id_type: str | None = None


@dataclass(frozen=True)
class RelationSpec:
    """A related entity reachable from this one.

    `many=True` takes `{some|none|every: where}`; otherwise a plain `where`.
    `link(outer, inner)` is the correlation condition between the entity filtered
    and (an alias of) the related one.
    """

    target: Callable[[], EntitySpec]
    link: Callable[[Any, Any], ColumnElement[bool]]
    many: bool = True
    permission: Permission | None = None


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: Callable[[], type[Any]]
    fields: Mapping[str, FieldSpec]
    relations: Mapping[str, RelationSpec] = field(default_factory=dict)
    # Extra top-level keys with their own compilers (behavioural conditions...),
    # called as compiler(value, actor, path, entity).
    custom: Mapping[str, Callable[[Any, Actor, str, Any], ColumnElement[bool]]] = field(
        default_factory=dict
    )


class _Budget:
    def __init__(self) -> None:
        self.conditions = 0

    def spend(self, path: str) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise BadInput(
                f"The filter has more than {MAX_CONDITIONS} conditions.", field=path
            )


def compile_where(
    spec: EntitySpec,
    where: Mapping[str, Any] | None,
    actor: Actor,
    *,
    path: str = "where",
    entity: Any = None,
) -> ColumnElement[bool]:
    """SQL for `where` on `spec` (over `entity`, default its model); BadInput or
    Forbidden name the offending part."""
    if not where:
        return true()
    target = entity if entity is not None else spec.model()
    return _compile(spec, where, actor, path, 0, _Budget(), target)


def _known(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """`condition` with unknown (a NULL compared) read as false."""
    return func.coalesce(condition, false(), type_=Boolean)


def _compile(
    spec: EntitySpec,
    where: Mapping[str, Any],
    actor: Actor,
    path: str,
    depth: int,
    budget: _Budget,
    entity: Any,
) -> ColumnElement[bool]:
    if depth > MAX_DEPTH:
        raise BadInput(f"The filter nests deeper than {MAX_DEPTH} levels.", field=path)
    if not isinstance(where, Mapping):
        raise BadInput(f"{path} must be an object.", field=path)
    clauses: list[ColumnElement[bool]] = []
    for key, value in where.items():
        here = f"{path}.{key}"
        if value is None:
            continue
        if key in ("and", "or"):
            if not isinstance(value, list):
                raise BadInput(f"{here} must be a list.", field=here)
            parts = [
                _compile(spec, item, actor, f"{here}[{i}]", depth + 1, budget, entity)
                for i, item in enumerate(value)
            ]
            if key == "and":
                clauses.append(and_(true(), *parts))
            else:
                clauses.append(or_(false(), *parts))
        elif key == "not":
            inner = _compile(spec, value, actor, here, depth + 1, budget, entity)
            clauses.append(not_(_known(inner)))
        elif key in spec.fields:
            clauses.append(_field(spec.fields[key], value, actor, here, budget, entity))
        elif key in spec.relations:
            clauses.append(
                _relation(
                    spec.relations[key], value, actor, here, depth, budget, entity
                )
            )
        elif key in spec.custom:
            budget.spend(here)
            clauses.append(spec.custom[key](value, actor, here, entity))
        else:
            raise BadInput(
                f"{here}: {spec.name} has no filterable field {key!r}.", field=here
            )
    return and_(true(), *clauses)


def require_field_permission(
    permission: Permission | None, actor: Actor, path: str
) -> None:
    if permission is not None and not actor.can(permission):
        raise Forbidden(f"You may not filter or sort by {path}.", field=path)


def _relation(
    rel: RelationSpec,
    value: Any,
    actor: Actor,
    path: str,
    depth: int,
    budget: _Budget,
    entity: Any,
) -> ColumnElement[bool]:
    require_field_permission(rel.permission, actor, path)
    target = rel.target()
    # A fresh alias: the subquery correlates to `entity` only, even when the
    # related table is also the outer one (interactions -> customer -> interactions).
    related = aliased(target.model())

    def rows(condition: ColumnElement[bool]) -> Any:
        return exists(
            select(literal(1))
            .select_from(related)
            .where(rel.link(entity, related), condition)
        )

    if not rel.many:
        return rows(_compile(target, value, actor, path, depth + 1, budget, related))
    if not isinstance(value, Mapping):
        raise BadInput(
            f"{path} must be an object with some, none or every.", field=path
        )
    clauses = []
    for quantifier, sub in value.items():
        here = f"{path}.{quantifier}"
        if sub is None:
            continue
        if quantifier not in ("some", "none", "every"):
            raise BadInput(f"{here}: use some, none or every.", field=here)
        inner = _compile(target, sub, actor, here, depth + 1, budget, related)
        if quantifier == "some":
            clauses.append(rows(inner))
        elif quantifier == "none":
            clauses.append(~rows(inner))
        else:
            clauses.append(~rows(not_(_known(inner))))
    return and_(true(), *clauses)


def _field(
    spec: FieldSpec,
    ops: Any,
    actor: Actor,
    path: str,
    budget: _Budget,
    entity: Any,
) -> ColumnElement[bool]:
    require_field_permission(spec.permission, actor, path)
    if not isinstance(ops, Mapping):
        raise BadInput(f"{path} must be an object of operators.", field=path)
    column = spec.column(entity)
    allowed = OPERATORS[spec.kind]
    clauses: list[ColumnElement[bool]] = []
    for op, raw in ops.items():
        here = f"{path}.{op}"
        if raw is None:
            continue
        if op not in allowed:
            raise BadInput(f"{here}: operator {op!r} does not apply here.", field=here)
        budget.spend(here)
        clauses.append(_operator(spec, column, op, raw, here))
    return and_(true(), *clauses)


def _operator(
    spec: FieldSpec, column: ColumnElement[Any], op: str, raw: Any, path: str
) -> ColumnElement[bool]:
    if op == "is_null":
        if not isinstance(raw, bool):
            raise BadInput(f"{path} must be true or false.", field=path)
        return column.is_(None) if raw else column.is_not(None)
    if spec.kind == "tags":
        return _tags(column, op, raw, path)
    if op in ("in", "not_in"):
        if not isinstance(raw, list | tuple):
            raise BadInput(f"{path} must be a list.", field=path)
        if len(raw) > 1000:
            raise BadInput(f"{path} holds more than 1000 values.", field=path)
        values = [_coerce(spec, v, path) for v in raw]
        if op == "in":
            return column.in_(values)
        # Like neq: a missing value is not one of them.
        return or_(column.not_in(values), column.is_(None))
    value = _coerce(spec, raw, path)
    if op == "eq":
        return column == value
    if op == "neq":
        return or_(column != value, column.is_(None))
    if op == "gt":
        return column > value
    if op == "gte":
        return column >= value
    if op == "lt":
        return column < value
    if op == "lte":
        return column <= value
    pattern = _escape_like(str(value))
    if op == "contains":
        return CaseInsensitiveLike(column, f"%{pattern}%")
    return CaseInsensitiveLike(column, f"{pattern}%")  # starts_with


class CaseInsensitiveLike(ColumnElement[bool]):
    """`column` LIKE `pattern` whatever the case, for every alphabet: ILIKE on
    PostgreSQL; on SQLite (whose lower() and LIKE fold ASCII only) both sides
    go through Python's casefold, registered as `mutual_fold` in crm.db."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], pattern: str) -> None:
        self.column = column
        self.pattern = pattern


@compiles(CaseInsensitiveLike)
def _like_sqlite(element: CaseInsensitiveLike, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    pattern = compiler.process(
        bindparam(None, element.pattern.casefold(), type_=String()), **kw
    )
    return f"(mutual_fold({column}) LIKE {pattern} ESCAPE '\\')"


@compiles(CaseInsensitiveLike, "postgresql")
def _like_pg(element: CaseInsensitiveLike, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    pattern = compiler.process(bindparam(None, element.pattern, type_=String()), **kw)
    return f"({column} ILIKE {pattern} ESCAPE '\\')"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _tags(
    column: ColumnElement[Any], op: str, raw: Any, path: str
) -> ColumnElement[bool]:
    if op == "is_empty":
        if not isinstance(raw, bool):
            raise BadInput(f"{path} must be true or false.", field=path)
        return TagsEmpty(column) if raw else not_(TagsEmpty(column))
    values = [raw] if op == "has" else raw
    if not isinstance(values, list | tuple) or not all(
        isinstance(v, str) and "\x00" not in v for v in values
    ):
        raise BadInput(f"{path} must be text or a list of text.", field=path)
    if len(values) > 100:
        raise BadInput(f"{path} holds more than 100 tags.", field=path)
    conditions = [tag_contains(column, v) for v in values]
    if op in ("has", "has_all"):
        return and_(true(), *conditions)
    if op == "has_any":
        return or_(false(), *conditions)
    return not_(or_(false(), *conditions))  # has_none


class TagContains(ColumnElement[bool]):
    """`tags` holds `value`: JSONB containment on PostgreSQL, json_each on SQLite."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], value: str) -> None:
        self.column = column
        self.value = value


class TagsEmpty(ColumnElement[bool]):
    inherit_cache = False
    type = Boolean()

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column


@compiles(TagContains)
def _tag_contains_sqlite(element: TagContains, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    value = compiler.process(bindparam(None, element.value, type_=String()), **kw)
    return f"EXISTS (SELECT 1 FROM json_each({column}) AS t WHERE t.value = {value})"


@compiles(TagContains, "postgresql")
def _tag_contains_pg(element: TagContains, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    value = compiler.process(bindparam(None, [element.value], type_=JSONB()), **kw)
    return f"({column} @> {value})"


@compiles(TagsEmpty)
def _tags_empty_sqlite(element: TagsEmpty, compiler: Any, **kw: Any) -> str:
    return f"(json_array_length({compiler.process(element.column, **kw)}) = 0)"


@compiles(TagsEmpty, "postgresql")
def _tags_empty_pg(element: TagsEmpty, compiler: Any, **kw: Any) -> str:
    return f"(jsonb_array_length({compiler.process(element.column, **kw)}) = 0)"


def tag_contains(column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
    return TagContains(column, value)


def _coerce(spec: FieldSpec, raw: Any, path: str) -> Any:
    try:
        if spec.kind == "enum":
            assert spec.enum is not None
            return spec.enum(raw.lower() if isinstance(raw, str) else raw).value
        if spec.kind == "id":
            if spec.id_type is not None:
                return decode_id(raw, spec.id_type, field=path)
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ValueError
            return raw
        if spec.kind == "string":
            # NUL: no text column can hold it (PostgreSQL refuses the statement).
            if not isinstance(raw, str) or len(raw) > 1000 or "\x00" in raw:
                raise ValueError
            return spec.normalize(raw) if spec.normalize else raw
        if spec.kind == "int":
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ValueError
            return raw
        if spec.kind == "float":
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError
            return float(raw)
        if spec.kind == "decimal":
            if isinstance(raw, bool):
                raise ValueError
            number = Decimal(str(raw))
            if not number.is_finite():
                raise ValueError
            return number
        if spec.kind == "datetime":
            when = raw if isinstance(raw, datetime) else datetime.fromisoformat(raw)
            if when.tzinfo is None:
                raise ValueError
            return when
        if spec.kind == "bool":
            if not isinstance(raw, bool):
                raise ValueError
            return raw
    except (ValueError, TypeError, AttributeError, InvalidOperation, AssertionError):
        pass
    except BadInput:
        raise
    raise BadInput(f"{path}: {raw!r} is not a valid {spec.kind} value.", field=path)
