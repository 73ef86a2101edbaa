"""Inputs of the segment queries and mutations: rules, definitions, members."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from crm.segments.models import SegmentKind
from crm.segments.rules import ActivityPeriod
from schema.enums import Channel, InteractionKind
from schema.filters import (
    BooleanFilter,
    CustomerWhere,
    DecimalFilter,
    IDFilter,
    InteractionWhere,
    IntFilter,
    StringFilter,
)


@strawberry.input(
    description="A behavioural condition: the customer's interactions (of some "
    "kinds, on some channels) in a window, counted or summed. Without count or "
    "amount it means 'at least one such interaction'."
)
class ActivityCondition:
    kinds: list[InteractionKind] | None = strawberry.field(
        default=UNSET, description="Only interactions of these kinds."
    )
    channels: list[Channel] | None = strawberry.field(
        default=UNSET, description="Only interactions on these channels."
    )
    within_days: int | None = strawberry.field(
        default=UNSET,
        description="Rolling window: the last N days before evaluation (1-36500).",
    )
    period: ActivityPeriod | None = strawberry.field(
        default=UNSET,
        description="Calendar window instead: since the start of the year, quarter "
        "or month. Without withinDays or period: all time.",
    )
    rating: IntFilter | None = strawberry.field(
        default=UNSET, description="Only interactions whose rating (0-10) matches."
    )
    currency: str | None = strawberry.field(
        default=UNSET, description="Only amounts in this ISO 4217 currency."
    )
    where: InteractionWhere | None = strawberry.field(
        default=UNSET, description="Any other condition on the interactions."
    )
    count: IntFilter | None = strawberry.field(
        default=UNSET, description="How many such interactions there are."
    )
    amount: DecimalFilter | None = strawberry.field(
        default=UNSET,
        description="Their net amount: purchases add, refunds subtract (amounts "
        "of every currency add up unless `currency` is given).",
    )


@strawberry.input(
    description="A segment rule: every condition of a customer filter (where:), "
    "plus behavioural `activity` conditions, combined with and/or/not."
)
class SegmentRule(CustomerWhere):
    activity: ActivityCondition | None = strawberry.field(
        default=UNSET, description="A condition on the customer's interactions."
    )
    and_: list[SegmentRule] | None = strawberry.field(  # type: ignore[assignment]
        default=UNSET, name="and", description="Every one of these holds."
    )
    or_: list[SegmentRule] | None = strawberry.field(  # type: ignore[assignment]
        default=UNSET, name="or", description="At least one of these holds."
    )
    not_: SegmentRule | None = strawberry.field(  # type: ignore[assignment]
        default=UNSET, name="not", description="This does not hold."
    )


@strawberry.input(description="A filter over segments.")
class SegmentWhere:
    id: IDFilter | None = strawberry.field(default=UNSET, description="Its ID.")
    name: StringFilter | None = strawberry.field(
        default=UNSET, description="The firm's name for it."
    )
    kind: SegmentKindFilter | None = strawberry.field(
        default=UNSET, description="Dynamic or static."
    )
    builtin_key: StringFilter | None = strawberry.field(
        default=UNSET, description="The built-in key (null for the firm's own)."
    )
    customer_visible: BooleanFilter | None = strawberry.field(
        default=UNSET, description="Whether members see it."
    )
    size: IntFilter | None = strawberry.field(
        default=UNSET, description="How many members it has."
    )
    and_: list[SegmentWhere] | None = strawberry.field(default=UNSET, name="and")
    or_: list[SegmentWhere] | None = strawberry.field(default=UNSET, name="or")
    not_: SegmentWhere | None = strawberry.field(default=UNSET, name="not")


@strawberry.input(description="Conditions on the segment kind.")
class SegmentKindFilter:
    eq: SegmentKind | None = strawberry.field(default=UNSET, description="Is.")
    neq: SegmentKind | None = strawberry.field(default=UNSET, description="Is not.")


@strawberry.input(description="A segment to create.")
class SegmentCreateInput:
    name: str = strawberry.field(description="The firm's name for it (200 chars).")
    kind: SegmentKind = strawberry.field(
        default=SegmentKind.DYNAMIC, description="Dynamic (default) or static."
    )
    rule: SegmentRule | None = strawberry.field(
        default=UNSET, description="Required for dynamic segments, absent for static."
    )
    description: str | None = strawberry.field(
        default=UNSET, description="What it is for (2000 chars)."
    )
    customer_visible: bool | None = strawberry.field(
        default=UNSET, description="Members see it in their own view."
    )
    customer_name: str | None = strawberry.field(
        default=UNSET, description="The name members see (needed when visible)."
    )
    customer_description: str | None = strawberry.field(
        default=UNSET, description="The description members see."
    )


@strawberry.input(description="Changes to a segment; omitted fields stay.")
class SegmentUpdateInput:
    id: strawberry.ID = strawberry.field(description="The segment to change.")
    expected_version: int | None = strawberry.field(
        default=UNSET, description="Refuse the change unless the segment is at it."
    )
    name: str | None = strawberry.field(default=UNSET, description="A new name.")
    rule: SegmentRule | None = strawberry.field(
        default=UNSET,
        description="A new rule: the members are recomputed at the next refresh.",
    )
    description: str | None = strawberry.field(
        default=UNSET, description="What it is for."
    )
    customer_visible: bool | None = strawberry.field(
        default=UNSET, description="Members see it in their own view."
    )
    customer_name: str | None = strawberry.field(
        default=UNSET, description="The name members see."
    )
    customer_description: str | None = strawberry.field(
        default=UNSET, description="The description members see."
    )


@strawberry.input(description="A segment to act on.")
class SegmentIdInput:
    id: strawberry.ID = strawberry.field(description="The segment's ID.")


@strawberry.input(
    description="Customers to add to or remove from a static segment: by IDs "
    "(at most 1000) or by a customer filter, not both."
)
class SegmentMembersInput:
    segment_id: strawberry.ID = strawberry.field(description="A static segment.")
    customer_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="The customers, by ID (at most 1000)."
    )
    where: CustomerWhere | None = strawberry.field(
        default=UNSET,
        description="The customers, by filter (archived ones only when it "
        "mentions archived).",
    )
