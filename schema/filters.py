"""`where:` inputs: per-field operators, and/or/not, relation filters.

They are converted to plain dicts (schema.scalars.plain) and compiled to SQL by
crm.filtering, the same compiler segment rules will use.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import UNSET

from schema.consent.inputs import ConsentCondition, PreferencesWhere
from schema.enums import (
    Channel,
    Direction,
    InteractionKind,
    LifecycleStage,
    Source,
    Visibility,
)
from schema.insights.enums import ChurnRisk, RfmCell, ValueCreationMode, ValueGroup


@strawberry.input(
    description="Conditions on a text field (contains/startsWith ignore case)."
)
class StringFilter:
    eq: str | None = UNSET
    neq: str | None = UNSET
    in_: list[str] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[str] | None = UNSET
    contains: str | None = UNSET
    starts_with: str | None = UNSET
    gt: str | None = UNSET
    gte: str | None = UNSET
    lt: str | None = UNSET
    lte: str | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on an ID field.")
class IDFilter:
    eq: strawberry.ID | None = UNSET
    neq: strawberry.ID | None = UNSET
    in_: list[strawberry.ID] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[strawberry.ID] | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on a date-time field (ISO 8601 with offset).")
class DateTimeFilter:
    eq: datetime | None = UNSET
    neq: datetime | None = UNSET
    in_: list[datetime] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[datetime] | None = UNSET
    gt: datetime | None = UNSET
    gte: datetime | None = UNSET
    lt: datetime | None = UNSET
    lte: datetime | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on a decimal (money) field.")
class DecimalFilter:
    eq: Decimal | None = UNSET
    neq: Decimal | None = UNSET
    in_: list[Decimal] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[Decimal] | None = UNSET
    gt: Decimal | None = UNSET
    gte: Decimal | None = UNSET
    lt: Decimal | None = UNSET
    lte: Decimal | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on a whole-number field.")
class IntFilter:
    eq: int | None = UNSET
    neq: int | None = UNSET
    in_: list[int] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[int] | None = UNSET
    gt: int | None = UNSET
    gte: int | None = UNSET
    lt: int | None = UNSET
    lte: int | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on a number field.")
class FloatFilter:
    eq: float | None = UNSET
    neq: float | None = UNSET
    gt: float | None = UNSET
    gte: float | None = UNSET
    lt: float | None = UNSET
    lte: float | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on a true/false field.")
class BooleanFilter:
    eq: bool | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on tags (exact tag text).")
class TagsFilter:
    has: str | None = UNSET
    has_any: list[str] | None = UNSET
    has_all: list[str] | None = UNSET
    has_none: list[str] | None = UNSET
    is_empty: bool | None = UNSET


@strawberry.input(description="Conditions on the lifecycle stage.")
class LifecycleStageFilter:
    eq: LifecycleStage | None = UNSET
    neq: LifecycleStage | None = UNSET
    in_: list[LifecycleStage] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[LifecycleStage] | None = UNSET


@strawberry.input(description="Conditions on the channel.")
class ChannelFilter:
    eq: Channel | None = UNSET
    neq: Channel | None = UNSET
    in_: list[Channel] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[Channel] | None = UNSET


@strawberry.input(description="Conditions on the direction.")
class DirectionFilter:
    eq: Direction | None = UNSET
    neq: Direction | None = UNSET


@strawberry.input(description="Conditions on the interaction kind.")
class InteractionKindFilter:
    eq: InteractionKind | None = UNSET
    neq: InteractionKind | None = UNSET
    in_: list[InteractionKind] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[InteractionKind] | None = UNSET


@strawberry.input(description="Conditions on the visibility.")
class VisibilityFilter:
    eq: Visibility | None = UNSET
    neq: Visibility | None = UNSET


@strawberry.input(description="Conditions on the source.")
class SourceFilter:
    eq: Source | None = UNSET
    neq: Source | None = UNSET
    in_: list[Source] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[Source] | None = UNSET


@strawberry.input(description="A filter over customers.")
class CustomerWhere:
    id: IDFilter | None = UNSET
    external_ref: StringFilter | None = UNSET
    email: StringFilter | None = strawberry.field(
        default=UNSET, description="Compared case-insensitively."
    )
    phone: StringFilter | None = UNSET
    given_name: StringFilter | None = UNSET
    family_name: StringFilter | None = UNSET
    display_name: StringFilter | None = UNSET
    company: StringFilter | None = UNSET
    locale: StringFilter | None = UNSET
    time_zone: StringFilter | None = UNSET
    lifecycle_stage: LifecycleStageFilter | None = UNSET
    tags: TagsFilter | None = UNSET
    owner: IDFilter | None = strawberry.field(
        default=UNSET, description="The owner's ID."
    )
    created_at: DateTimeFilter | None = UNSET
    updated_at: DateTimeFilter | None = UNSET
    archived: BooleanFilter | None = strawberry.field(
        default=UNSET,
        description="Archived customers are left out unless the filter mentions this.",
    )
    interactions: InteractionRelationFilter | None = strawberry.field(
        default=UNSET, description="Customers with some / no / only such interactions."
    )
    insights: CustomerInsightsWhere | None = strawberry.field(
        default=UNSET,
        description="Customers whose current insight measures match (needs "
        "insights:read; financial measures need financials:read). Customers "
        "without insights yet never match.",
    )
    consent: ConsentCondition | None = strawberry.field(
        default=UNSET,
        description="Customers whose consent for a purpose and channel is (not) "
        "granted now, defaults applied (needs consents:read).",
    )
    preferences: PreferencesWhere | None = strawberry.field(
        default=UNSET,
        description="Customers whose contact preferences match (unstated ones are "
        "null).",
    )
    and_: list[CustomerWhere] | None = strawberry.field(default=UNSET, name="and")
    or_: list[CustomerWhere] | None = strawberry.field(default=UNSET, name="or")
    not_: CustomerWhere | None = strawberry.field(default=UNSET, name="not")


@strawberry.input(description="A filter over interactions.")
class InteractionWhere:
    id: IDFilter | None = UNSET
    customer_id: IDFilter | None = UNSET
    customer: CustomerWhere | None = strawberry.field(
        default=UNSET, description="Interactions of customers matching this filter."
    )
    occurred_at: DateTimeFilter | None = UNSET
    created_at: DateTimeFilter | None = UNSET
    channel: ChannelFilter | None = UNSET
    direction: DirectionFilter | None = UNSET
    kind: InteractionKindFilter | None = UNSET
    visibility: VisibilityFilter | None = UNSET
    source: SourceFilter | None = UNSET
    subject: StringFilter | None = UNSET
    body: StringFilter | None = UNSET
    amount: DecimalFilter | None = UNSET
    currency: StringFilter | None = UNSET
    cost_to_serve: DecimalFilter | None = UNSET
    rating: IntFilter | None = UNSET
    sentiment: FloatFilter | None = UNSET
    external_ref: StringFilter | None = UNSET
    and_: list[InteractionWhere] | None = strawberry.field(default=UNSET, name="and")
    or_: list[InteractionWhere] | None = strawberry.field(default=UNSET, name="or")
    not_: InteractionWhere | None = strawberry.field(default=UNSET, name="not")


@strawberry.input(description="A condition over a customer's interactions.")
class InteractionRelationFilter:
    some: InteractionWhere | None = strawberry.field(
        default=UNSET, description="At least one interaction matches."
    )
    none: InteractionWhere | None = strawberry.field(
        default=UNSET, description="No interaction matches."
    )
    every: InteractionWhere | None = strawberry.field(
        default=UNSET,
        description="Every interaction matches (true when there are none).",
    )


@strawberry.input(description="Conditions on the churn risk band.")
class ChurnRiskFilter:
    eq: ChurnRisk | None = UNSET
    neq: ChurnRisk | None = UNSET
    in_: list[ChurnRisk] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[ChurnRisk] | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on the RFM cell.")
class RfmCellFilter:
    eq: RfmCell | None = UNSET
    neq: RfmCell | None = UNSET
    in_: list[RfmCell] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[RfmCell] | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on the value-creation mode.")
class ValueCreationModeFilter:
    eq: ValueCreationMode | None = UNSET
    neq: ValueCreationMode | None = UNSET
    in_: list[ValueCreationMode] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[ValueCreationMode] | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on the value group.")
class ValueGroupFilter:
    eq: ValueGroup | None = UNSET
    neq: ValueGroup | None = UNSET
    in_: list[ValueGroup] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[ValueGroup] | None = UNSET
    is_null: bool | None = UNSET


def _financial(description: str) -> Any:
    return strawberry.field(
        default=UNSET, description=f"{description} Needs financials:read."
    )


@strawberry.input(
    description="Conditions on a customer's current insight measures (see "
    "Customer.insights for their meaning)."
)
class CustomerInsightsWhere:
    rfm_cell: RfmCellFilter | None = UNSET
    recency_score: IntFilter | None = strawberry.field(
        default=UNSET, description="RFM recency score, 1-5."
    )
    frequency_score: IntFilter | None = strawberry.field(
        default=UNSET, description="RFM frequency score, 1-5."
    )
    monetary_score: IntFilter | None = strawberry.field(
        default=UNSET, description="RFM monetary score, 1-5."
    )
    recency_days: IntFilter | None = strawberry.field(
        default=UNSET, description="Days since the last purchase."
    )
    frequency: IntFilter | None = strawberry.field(
        default=UNSET, description="Purchases in the RFM window."
    )
    purchases: IntFilter | None = strawberry.field(
        default=UNSET, description="Purchases ever."
    )
    last_purchase_at: DateTimeFilter | None = UNSET
    probability_alive: FloatFilter | None = strawberry.field(
        default=UNSET, description="Probability of still being an active buyer, 0-1."
    )
    expected_purchases: FloatFilter | None = strawberry.field(
        default=UNSET, description="Purchases expected over the CLV horizon."
    )
    churn_risk: ChurnRiskFilter | None = UNSET
    loyalty: IntFilter | None = strawberry.field(
        default=UNSET, description="Loyalty score, 1-5."
    )
    willingness: FloatFilter | None = strawberry.field(
        default=UNSET, description="Willingness to take part, 1-5."
    )
    value_creation_mode: ValueCreationModeFilter | None = UNSET
    tier: StringFilter | None = strawberry.field(
        default=UNSET, description="Name of the loyalty tier."
    )
    nps: FloatFilter | None = strawberry.field(
        default=UNSET, description="The customer's NPS, -100 to 100."
    )
    csat: FloatFilter | None = strawberry.field(
        default=UNSET, description="The customer's CSAT, 0-100 (% satisfied)."
    )
    monetary: DecimalFilter | None = _financial("Net spend in the RFM window.")
    revenue_lifetime: DecimalFilter | None = _financial("Revenue net of refunds.")
    revenue_12m: DecimalFilter | None = _financial("Revenue, trailing 12 months.")
    cost_to_serve_12m: DecimalFilter | None = _financial("Cost to serve, 12 months.")
    margin_lifetime: DecimalFilter | None = _financial("Revenue minus cost to serve.")
    margin_12m: DecimalFilter | None = _financial("Margin, trailing 12 months.")
    predicted_value: DecimalFilter | None = _financial("Predicted lifetime value.")
    predicted_value_percentile: FloatFilter | None = _financial(
        "Percentile of predicted value in the base (80: top 20%)."
    )
    profitability: IntFilter | None = _financial("Profitability score, 1-5.")
    strategic_value: IntFilter | None = _financial("Strategic value, 1-5.")
    value_group: ValueGroupFilter | None = _financial("Value group.")
    low_value: BooleanFilter | None = _financial("Low-value flag.")
