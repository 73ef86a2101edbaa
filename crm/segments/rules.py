"""Segment rules: the customers(where:) language plus behavioural conditions.

A rule is a customer `where` document (crm.filtering over CUSTOMER_SPEC: the same
fields, operators, and/or/not and relation filters, so a field added to the
customer filter is usable in rules at once) with one more key, `activity`:
aggregates of the customer's interactions in a window, compiled to correlated
subqueries over the (customer_id, kind, occurred_at) index.

    {"activity": {"kinds": ["purchase"], "within_days": 90, "count": {"gte": 3}}}
    {"activity": {"kinds": ["purchase", "refund"], "period": "year_to_date",
                  "amount": {"gte": 300}}}           # net: refunds subtract
    {"activity": {"within_days": 180, "count": {"eq": 0}}}   # no interaction
    {"activity": {"rating": {"lte": 6}}}             # gave a rating <= 6

Windows are kept relative (days, or "since the start of the year") and resolved
against `now` when the rule is evaluated (refresh, preview, explain).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    not_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from crm.actors import Actor
from crm.columns import MONEY_SCALE, Money
from crm.consent.rules import profiling_withdrawn
from crm.customers.filters import CUSTOMER_SPEC, mentions_archived
from crm.customers.models import Customer
from crm.errors import BadInput
from crm.events import jsonable
from crm.filtering import EntitySpec, FieldSpec, compile_where, require_field_permission
from crm.interactions.filters import INTERACTION_SPEC
from crm.interactions.models import Channel, Interaction, InteractionKind
from crm.permissions import Permission

ACTIVITY = "activity"
MAX_WINDOW_DAYS = 36_500
# Money columns are NUMERIC(18, MONEY_SCALE): bounds beyond them cannot compare.
MONEY_DIGITS = 18
ACTIVITY_KEYS = {
    "kinds",
    "channels",
    "within_days",
    "period",
    "rating",
    "currency",
    "where",
    "count",
    "amount",
}


class ActivityPeriod(StrEnum):
    """Calendar windows that end now."""

    YEAR_TO_DATE = "year_to_date"
    QUARTER_TO_DATE = "quarter_to_date"
    MONTH_TO_DATE = "month_to_date"


def period_start(period: ActivityPeriod, now: datetime) -> datetime:
    now = now.astimezone(UTC)
    if period is ActivityPeriod.YEAR_TO_DATE:
        return datetime(now.year, 1, 1, tzinfo=UTC)
    if period is ActivityPeriod.QUARTER_TO_DATE:
        return datetime(now.year, 3 * ((now.month - 1) // 3) + 1, 1, tzinfo=UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def rule_spec(now: datetime) -> EntitySpec:
    """The customer filter vocabulary with `activity` resolved against `now`.

    Built on each use from CUSTOMER_SPEC's live mappings, so any field, relation
    or custom key added to the customer filter is available in rules too."""

    def activity(value: Any, actor: Actor, path: str, entity: Any) -> Any:
        return compile_activity(value, actor, path, entity, now)

    return EntitySpec(
        name="Customer",
        model=CUSTOMER_SPEC.model,
        fields=CUSTOMER_SPEC.fields,
        relations=CUSTOMER_SPEC.relations,
        custom={**CUSTOMER_SPEC.custom, ACTIVITY: activity},
    )


# --- activity ----------------------------------------------------------------------


def _enum_list(raw: Any, enum: type[StrEnum], path: str) -> list[str]:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list | tuple) or not values:
        raise BadInput(f"{path} must be a non-empty list.", field=path)
    try:
        return sorted({enum(str(v).lower()).value for v in values})
    except ValueError:
        raise BadInput(
            f"{path}: use values of {', '.join(e.name for e in enum)}.", field=path
        ) from None


def _window_start(
    value: Mapping[str, Any], path: str, now: datetime
) -> datetime | None:
    days, period = value.get("within_days"), value.get("period")
    if days is not None and period is not None:
        raise BadInput(
            f"{path}: give withinDays or period, not both.", field=f"{path}.period"
        )
    if days is not None:
        here = f"{path}.within_days"
        if isinstance(days, bool) or not isinstance(days, int):
            raise BadInput(f"{here} must be a whole number of days.", field=here)
        if not 1 <= days <= MAX_WINDOW_DAYS:
            raise BadInput(
                f"{here} must be between 1 and {MAX_WINDOW_DAYS}.", field=here
            )
        return now - timedelta(days=days)
    if period is not None:
        try:
            return period_start(ActivityPeriod(str(period).lower()), now)
        except ValueError:
            here = f"{path}.period"
            names = ", ".join(p.name for p in ActivityPeriod)
            raise BadInput(f"{here}: use one of {names}.", field=here) from None
    return None


def _aggregate_spec(count: Any, amount: Any) -> EntitySpec:
    return EntitySpec(
        name="Activity",
        model=lambda: Customer,
        fields={
            "count": FieldSpec(lambda _e: count, "int"),
            "amount": FieldSpec(lambda _e: amount, "decimal"),
        },
    )


def _check_aggregate(value: Mapping[str, Any], key: str, path: str) -> None:
    ops = value.get(key)
    if ops is None:
        return
    here = f"{path}.{key}"
    if not isinstance(ops, Mapping) or not any(v is not None for v in ops.values()):
        raise BadInput(f"{here} must hold at least one operator.", field=here)
    for op, bound in ops.items():
        numbers = bound if isinstance(bound, list) else [bound]
        if key == "count":
            if any(isinstance(n, int) and n < 0 for n in numbers):
                raise BadInput(f"{here}.{op}: a count is never negative.", field=here)
        elif any(not _fits_money(n) for n in numbers):
            # Checked when the rule is saved, not when a refresh first runs it.
            raise BadInput(
                f"{here}.{op}: an amount has at most {MONEY_SCALE} decimals and "
                f"less than {MONEY_DIGITS - MONEY_SCALE} digits before them.",
                field=f"{here}.{op}",
            )


def _fits_money(raw: Any) -> bool:
    """Whether a bound compares with a money total (other wrong values are left
    to the compiler, which names them)."""
    if isinstance(raw, bool) or raw is None:
        return True
    try:
        number = Decimal(str(raw))
    except InvalidOperation:
        return True
    if not number.is_finite():
        return True
    exponent = number.as_tuple().exponent
    return (
        abs(number) < Decimal(10) ** (MONEY_DIGITS - MONEY_SCALE)
        and isinstance(exponent, int)
        and (
            exponent >= -MONEY_SCALE
            or number == number.normalize().quantize(Decimal(1).scaleb(-MONEY_SCALE))
        )
    )


def compile_activity(
    value: Any, actor: Actor, path: str, entity: Any, now: datetime
) -> ColumnElement[bool]:
    """SQL for one `activity` condition on customer `entity`."""
    require_field_permission(Permission.INTERACTIONS_READ, actor, path)
    if not isinstance(value, Mapping):
        raise BadInput(f"{path} must be an object.", field=path)
    for key in value:
        if key not in ACTIVITY_KEYS:
            raise BadInput(f"{path}: unknown activity field {key!r}.", field=path)
    related: Any = aliased(Interaction)
    conditions: list[ColumnElement[bool]] = []
    if value.get("kinds") is not None:
        kinds = _enum_list(value["kinds"], InteractionKind, f"{path}.kinds")
        conditions.append(related.kind.in_(kinds))
    if value.get("channels") is not None:
        channels = _enum_list(value["channels"], Channel, f"{path}.channels")
        conditions.append(related.channel.in_(channels))
    since = _window_start(value, path, now)
    if since is not None:
        conditions.append(related.occurred_at >= since)
    if value.get("currency") is not None:
        currency = value["currency"]
        if not isinstance(currency, str) or len(currency.strip()) != 3:
            here = f"{path}.currency"
            raise BadInput(f"{here} must be an ISO 4217 code.", field=here)
        conditions.append(related.currency == currency.strip().upper())
    if value.get("rating") is not None:
        conditions.append(
            compile_where(
                INTERACTION_SPEC,
                {"rating": value["rating"]},
                actor,
                path=path,
                entity=related,
            )
        )
    if value.get("where") is not None:
        conditions.append(
            compile_where(
                INTERACTION_SPEC,
                value["where"],
                actor,
                path=f"{path}.where",
                entity=related,
            )
        )
    _check_aggregate(value, "count", path)
    _check_aggregate(value, "amount", path)
    if value.get("count") is None and value.get("amount") is None:
        # "Has such activity": a semi-join that stops at the first row.
        return exists(
            select(related.id).where(related.customer_id == entity.id, *conditions)
        )
    signed = case(
        (related.kind == InteractionKind.REFUND.value, -related.amount),
        else_=related.amount,
    )
    aggregates = {k: value[k] for k in ("count", "amount") if value.get(k) is not None}
    having = compile_where(
        _aggregate_spec(
            func.count(related.id), func.coalesce(func.sum(signed), 0, type_=Money)
        ),
        aggregates,
        actor,
        path=path,
        entity=entity,
    )
    # One grouped pass over the window's interactions (not a correlated aggregate
    # per customer): those whose totals pass, or, when no activity at all passes
    # too ("count = 0"), everyone but those whose totals fail.
    grouped = (
        select(related.customer_id).where(*conditions).group_by(related.customer_id)
    )
    if all(_holds_at_zero(ops) for ops in aggregates.values()):
        return entity.id.not_in(grouped.having(not_(having)))  # type: ignore[no-any-return]
    return entity.id.in_(grouped.having(having))  # type: ignore[no-any-return]


def _holds_at_zero(ops: Mapping[str, Any]) -> bool:
    """Whether operators (already validated) accept a total of zero."""
    zero = Decimal(0)
    for op, raw in ops.items():
        if raw is None:
            continue
        if op == "is_null":
            holds = raw is False
        elif op in ("in", "not_in"):
            found = zero in [Decimal(str(v)) for v in raw]
            holds = found if op == "in" else not found
        else:
            bound = Decimal(str(raw))
            holds = {
                "eq": zero == bound,
                "neq": zero != bound,
                "gt": zero > bound,
                "gte": zero >= bound,
                "lt": zero < bound,
                "lte": zero <= bound,
            }[op]
        if not holds:
            return False
    return True


# --- whole rules -------------------------------------------------------------------


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_nulls(v) for v in value]
    return value


def uses_activity(rule: Any) -> bool:
    """Whether the rule has a behavioural condition (at any depth of and/or/not)."""
    if isinstance(rule, Mapping):
        if rule.get(ACTIVITY) is not None:
            return True
        return any(uses_activity(rule.get(k)) for k in ("and", "or", "not"))
    if isinstance(rule, list):
        return any(uses_activity(item) for item in rule)
    return False


def normalize_rule(rule: Any, actor: Actor, *, path: str = "rule") -> dict[str, Any]:
    """The rule as stored: nulls dropped, JSON values; BadInput/Forbidden name the
    offending part (the rule must compile for `actor`)."""
    if not isinstance(rule, Mapping):
        raise BadInput(f"{path} must be an object.", field=path)
    normalized = jsonable(_drop_nulls(rule))
    compile_where(rule_spec(datetime.now(UTC)), normalized, actor, path=path)
    # Bounded: whatever passes the compiler's depth and size limits is small.
    if len(json.dumps(normalized)) > 100_000:
        raise BadInput(f"{path} is too large.", field=path)
    return dict(normalized)


def compile_rule(
    rule: Mapping[str, Any] | None,
    actor: Actor,
    now: datetime,
    *,
    entity: Any = None,
    path: str = "rule",
) -> ColumnElement[bool]:
    """Who matches `rule` at `now`: archived customers only when the rule mentions
    `archived`; with behavioural conditions, never those who withdrew profiling."""
    target: Any = entity if entity is not None else Customer
    condition = compile_where(rule_spec(now), rule, actor, path=path, entity=target)
    parts = [condition]
    if not mentions_archived(rule):
        parts.append(target.archived_at.is_(None))
    if uses_activity(rule):
        # Behaviour is profiling: a customer who withdrew that consent is left out.
        parts.append(not_(profiling_withdrawn(target.id)))
    return and_(true(), *parts)


# --- explanation -------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """One condition of a rule that is not and/or/not."""

    path: str
    where: dict[str, Any]
    negated: bool

    @property
    def text(self) -> str:
        ((key, value),) = self.where.items()
        return describe(key, value)


def leaves(
    rule: Mapping[str, Any] | None, path: str = "rule", negated: bool = False
) -> Iterator[Leaf]:
    for key, value in (rule or {}).items():
        if value is None:
            continue
        if key in ("and", "or"):
            for i, item in enumerate(value):
                yield from leaves(item, f"{path}.{key}[{i}]", negated)
        elif key == "not":
            yield from leaves(value, f"{path}.not", not negated)
        else:
            yield Leaf(f"{path}.{key}", {key: value}, negated)


def compile_leaf(leaf: Leaf, actor: Actor, now: datetime) -> ColumnElement[bool]:
    """SQL for one leaf on its own (no archived or consent exclusion)."""
    parent = leaf.path.rsplit(".", 1)[0]
    return compile_where(rule_spec(now), leaf.where, actor, path=parent)


_PHRASES = {
    "eq": "is",
    "neq": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "contains": "contains",
    "starts_with": "starts with",
    "has": "includes",
    "has_any": "includes any of",
    "has_all": "includes all of",
    "has_none": "includes none of",
}


def _label(key: str) -> str:
    return key.replace("_", " ")


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ops(label: str, ops: Mapping[str, Any]) -> str:
    parts = []
    for op, raw in ops.items():
        if raw is None:
            continue
        if op == "is_null":
            parts.append(f"{label} is {'empty' if raw else 'set'}")
        elif op == "is_empty":
            parts.append(f"{label} {'are empty' if raw else 'are not empty'}")
        else:
            parts.append(f"{label} {_PHRASES.get(op, op)} {_value(raw)}")
    return " and ".join(parts)


def describe_where(where: Mapping[str, Any]) -> str:
    """A where document as one line of text."""
    parts = []
    for key, value in where.items():
        if value is None:
            continue
        if key in ("and", "or"):
            joined = f" {key} ".join(f"({describe_where(v)})" for v in value)
            parts.append(joined)
        elif key == "not":
            parts.append(f"not ({describe_where(value)})")
        else:
            parts.append(describe(key, value))
    return " and ".join(parts) or "anything"


def describe(key: str, value: Any) -> str:
    """One leaf condition as readable text."""
    if key == ACTIVITY and isinstance(value, Mapping):
        return describe_activity(value)
    relation = CUSTOMER_SPEC.relations.get(key)
    if relation is not None and not relation.many and isinstance(value, Mapping):
        return f"{_label(key)}: {describe_where(value)}"
    if relation is not None and isinstance(value, Mapping):
        quantifiers = {"some": "some", "none": "no", "every": "every"}
        parts = []
        for quantifier, inner in value.items():
            if inner is None:
                continue
            word = quantifiers.get(quantifier, quantifier)
            parts.append(f"{word} {_label(key)} where {describe_where(inner)}")
        return "has " + " and ".join(parts)
    if isinstance(value, Mapping):
        return _ops(_label(key), value)
    return f"{_label(key)} {_value(value)}"


def describe_activity(value: Mapping[str, Any]) -> str:
    what = "interactions"
    if value.get("kinds"):
        what = f"{_value(value['kinds'])} interactions"
    if value.get("channels"):
        what += f" on {_value(value['channels'])}"
    if value.get("currency"):
        what += f" in {value['currency']}"
    if value.get("rating") is not None:
        what += f" with {_ops('rating', value['rating'])}"
    if value.get("where") is not None:
        what += f" where {describe_where(value['where'])}"
    if value.get("within_days") is not None:
        window = f" in the last {value['within_days']} days"
    elif value.get("period") is not None:
        window = {
            "year_to_date": " since the start of the year",
            "quarter_to_date": " since the start of the quarter",
            "month_to_date": " since the start of the month",
        }.get(str(value["period"]).lower(), f" in {value['period']}")
    else:
        window = " ever"
    parts = []
    if value.get("count") is not None:
        parts.append(_ops(f"number of {what}{window}", value["count"]))
    if value.get("amount") is not None:
        parts.append(
            _ops(f"net amount of {what}{window} (refunds subtract)", value["amount"])
        )
    return " and ".join(parts) or f"has {what}{window}"


# --- the rule as GraphQL spells it ------------------------------------------------


def _enum_keys() -> frozenset[str]:
    keys = {"kinds", "channels", "period"}
    specs = [CUSTOMER_SPEC, INTERACTION_SPEC]
    specs += [relation.target() for relation in CUSTOMER_SPEC.relations.values()]
    for spec in specs:
        keys |= {name for name, f in spec.fields.items() if f.kind == "enum"}
    return frozenset(keys)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _upper(value: Any) -> Any:
    if isinstance(value, str):
        return value.upper()
    if isinstance(value, list):
        return [_upper(v) for v in value]
    if isinstance(value, Mapping):
        return {_camel(k): _upper(v) for k, v in value.items()}
    return value


def as_input(rule: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The stored rule spelled as a SegmentRule input (camelCase keys, enum names),
    so that a client can send it back as it reads it."""
    if rule is None:
        return None
    enum_keys = _enum_keys()

    def convert(value: Any, key: str | None = None) -> Any:
        if key is not None and key in enum_keys:
            return _upper(value)
        if isinstance(value, Mapping):
            return {_camel(k): convert(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return dict(convert(rule))
