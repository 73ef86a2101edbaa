"""Stage 1 of a refresh: every customer's aggregates in one SQL pass.

One GROUP BY over `customer LEFT JOIN interaction`, the same statement on
PostgreSQL and SQLite (times as epoch seconds and money as floats through two
small dialect-specific expressions), returned as numpy columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    and_,
    bindparam,
    case,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement as Element
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import col

from crm.columns import UTCDateTime
from crm.corrections.models import ProfileCorrection
from crm.customers.models import Customer
from crm.insights.models import StrategicValueOverride
from crm.interactions.models import Direction, Interaction, InteractionKind, Source

# Ratings without a survey are read on the NPS scale (0-10), as feedback was
# recorded before surveys were named.
NPS, CSAT = "nps", "csat"
# Customer-initiated contacts (willingness to take part), besides feedback.
CONTACT_KINDS = (InteractionKind.SUPPORT.value, InteractionKind.OTHER.value)


class EpochSeconds(Element[float]):
    """Seconds since 1970 of a UTC timestamp column, as a float."""

    # The wrapped column is part of the cache key: without it the statements
    # holding this element were not cacheable at all (compiled on every run).
    _traverse_internals = [("value", InternalTraversal.dp_clauseelement)]
    inherit_cache = True
    type = Float()

    def __init__(self, value: Any) -> None:
        self.value = value


@compiles(EpochSeconds)
def _epoch_sqlite(element: EpochSeconds, compiler: Any, **kw: Any) -> str:
    return (
        f"((julianday({compiler.process(element.value, **kw)}) - 2440587.5) * 86400.0)"
    )


@compiles(EpochSeconds, "postgresql")
def _epoch_pg(element: EpochSeconds, compiler: Any, **kw: Any) -> str:
    value = compiler.process(element.value, **kw)
    return f"CAST(EXTRACT(EPOCH FROM {value}) AS DOUBLE PRECISION)"


class MoneyFloat(Element[float]):
    """A money column as a float in currency units (SQLite keeps 1/10,000ths)."""

    _traverse_internals = [("value", InternalTraversal.dp_clauseelement)]
    inherit_cache = True
    type = Float()

    def __init__(self, value: Any) -> None:
        self.value = value


@compiles(MoneyFloat)
def _money_sqlite(element: MoneyFloat, compiler: Any, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.value, **kw)} AS REAL) / 10000.0)"


@compiles(MoneyFloat, "postgresql")
def _money_pg(element: MoneyFloat, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.value, **kw)} AS DOUBLE PRECISION)"


@dataclass(frozen=True)
class Window:
    """The instants the aggregates are measured against."""

    as_of: datetime
    rfm_days: int

    @property
    def rfm_start(self) -> datetime:
        return self.as_of - timedelta(days=self.rfm_days)

    @property
    def year_start(self) -> datetime:
        return self.as_of - timedelta(days=365)


COLUMNS = (
    "customer_id",
    "created_at",
    "locale",
    "purchases",
    "first_purchase",
    "last_purchase",
    "last_interaction",
    "gross_spend",
    "revenue_lifetime",
    "revenue_12m",
    "cost_lifetime",
    "cost_12m",
    "frequency",
    "monetary",
    "purchases_12m",
    "nps_responses",
    "promoters",
    "detractors",
    "csat_responses",
    "satisfied",
    "feedback",
    "inbound_contacts",
    "self_service",
    "corrections",
    "strategic_override",
    "withdrawn",
)


Rates = tuple[tuple[str, float], ...]  # (currency, factor), hashable


def _rate(rates: Rates) -> ColumnElement[float]:
    """The factor into the reporting currency. `rates` holds every currency that
    counts, the reporting one at 1; an amount in any other currency has no factor
    (NULL): it is left out of every sum, never counted 1:1."""
    currency = col(Interaction.currency)
    return case(
        (currency.is_(None), literal(1.0, Float)),
        *((currency == code, literal(rate, Float)) for code, rate in rates),
        else_=null(),
    )


def rate_table(rates: Mapping[str, Decimal]) -> Rates:
    return tuple((code, float(rate)) for code, rate in rates.items())


def aggregate_params(
    window: Window, customer_ids: Sequence[int] | None = None
) -> dict[str, Any]:
    """The values of the statement's parameters: the window, and the customers."""
    params: dict[str, Any] = {
        "as_of": window.as_of,
        "year_start": window.year_start,
        "rfm_start": window.rfm_start,
    }
    if customer_ids is not None:
        params["customer_ids"] = list(customer_ids)
    return params


@lru_cache(maxsize=32)
def aggregate_statement(rates: Rates, *, by_ids: bool) -> Any:
    """The per-customer aggregates of the active (not archived) customers, of the
    `customer_ids` parameter's only when `by_ids`; see `aggregate_params`.

    Built once per rate table: the instants and the customers are parameters, so
    an update of one customer neither builds nor compiles a statement."""
    from crm.consent.rules import profiling_withdrawn

    as_of = bindparam("as_of", type_=UTCDateTime())
    kind = col(Interaction.kind)
    occurred = col(Interaction.occurred_at)
    purchase = kind == InteractionKind.PURCHASE.value
    refund = kind == InteractionKind.REFUND.value
    rate = _rate(rates)
    amount = func.coalesce(MoneyFloat(col(Interaction.amount)), 0.0) * rate
    signed = case((purchase, amount), (refund, -amount), else_=0.0)
    cost = func.coalesce(MoneyFloat(col(Interaction.cost_to_serve)), 0.0) * rate
    recent = occurred >= bindparam("year_start", type_=UTCDateTime())
    rfm_start = bindparam("rfm_start", type_=UTCDateTime())
    in_window = occurred >= rfm_start
    rating = col(Interaction.rating)
    survey = col(Interaction.survey)
    nps = and_(rating.is_not(None), or_(survey.is_(None), survey == NPS))
    csat = and_(rating.is_not(None), survey == CSAT)
    inbound = col(Interaction.direction) == Direction.INBOUND.value
    by_customer = col(Interaction.source) == Source.CUSTOMER.value
    feedback = and_(in_window, inbound, kind == InteractionKind.FEEDBACK.value)
    contacts = and_(in_window, inbound, kind.in_(CONTACT_KINDS))
    self_service = and_(
        in_window,
        by_customer,
        kind.not_in((InteractionKind.FEEDBACK.value, *CONTACT_KINDS)),
    )
    corrections = (
        select(func.count())
        .where(
            col(ProfileCorrection.customer_id) == col(Customer.id),
            col(ProfileCorrection.requested_at) >= rfm_start,
            col(ProfileCorrection.requested_at) <= as_of,
        )
        .correlate(Customer)
        .scalar_subquery()
    )
    epoch = EpochSeconds(occurred)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)

    def total(value: ColumnElement[float]) -> ColumnElement[float]:
        return func.coalesce(func.sum(value), 0.0).cast(Float)

    customer_id = col(Customer.id)
    stmt: Any = (
        select(
            customer_id.label("customer_id"),
            EpochSeconds(col(Customer.created_at)).label("created_at"),
            col(Customer.locale).label("locale"),
            count(purchase).label("purchases"),
            func.min(case((purchase, epoch))).label("first_purchase"),
            func.max(case((purchase, epoch))).label("last_purchase"),
            func.max(epoch).label("last_interaction"),
            total(case((purchase, amount), else_=0.0)).label("gross_spend"),
            total(signed).label("revenue_lifetime"),
            total(case((recent, signed), else_=0.0)).label("revenue_12m"),
            total(cost).label("cost_lifetime"),
            total(case((recent, cost), else_=0.0)).label("cost_12m"),
            count(and_(purchase, in_window)).label("frequency"),
            total(case((in_window, signed), else_=0.0)).label("monetary"),
            count(and_(purchase, recent)).label("purchases_12m"),
            count(nps).label("nps_responses"),
            count(and_(nps, rating >= 9)).label("promoters"),
            count(and_(nps, rating <= 6)).label("detractors"),
            count(csat).label("csat_responses"),
            count(and_(csat, rating >= 4)).label("satisfied"),
            count(feedback).label("feedback"),
            count(contacts).label("inbound_contacts"),
            count(self_service).label("self_service"),
            corrections.label("corrections"),
            func.coalesce(func.max(col(StrategicValueOverride.value)), 0)
            .cast(Integer)
            .label("strategic_override"),
            profiling_withdrawn(customer_id).label("withdrawn"),
        )
        .select_from(Customer)
        .outerjoin(
            Interaction,
            and_(col(Interaction.customer_id) == customer_id, occurred <= as_of),
        )
        .outerjoin(
            StrategicValueOverride,
            col(StrategicValueOverride.customer_id) == customer_id,
        )
        .where(col(Customer.archived_at).is_(None))
        .group_by(customer_id)
        .order_by(customer_id)
    )
    if by_ids:
        stmt = stmt.where(customer_id.in_(bindparam("customer_ids", expanding=True)))
    return stmt


async def fetch_aggregates(
    session: AsyncSession,
    window: Window,
    rates: Mapping[str, Decimal],
    customer_ids: Sequence[int] | None = None,
) -> dict[str, np.ndarray]:
    """The aggregates as numpy columns (NaN where a customer has no such time)."""
    stmt = aggregate_statement(rate_table(rates), by_ids=customer_ids is not None)
    result = await session.execute(stmt, aggregate_params(window, customer_ids))
    rows = result.all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in COLUMNS]
    data = dict(zip(COLUMNS, columns, strict=True))
    out: dict[str, np.ndarray] = {}
    for name, values in data.items():
        if name == "locale":
            out[name] = np.array(values, dtype=object)
        elif name == "withdrawn":
            out[name] = np.array([bool(v) for v in values], dtype=bool)
        elif name in ("customer_id", "strategic_override") or name in _COUNTS:
            out[name] = np.array(values, dtype=np.int64)
        else:
            out[name] = np.array(
                [np.nan if v is None else v for v in values], dtype=np.float64
            )
    return out


_COUNTS = frozenset(
    {
        "purchases",
        "frequency",
        "purchases_12m",
        "nps_responses",
        "promoters",
        "detractors",
        "csat_responses",
        "satisfied",
        "feedback",
        "inbound_contacts",
        "self_service",
        "corrections",
    }
)
