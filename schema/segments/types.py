"""Segments as the firm sees them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from crm.errors import BadInput
from crm.segments import reads
from crm.segments.filters import SegmentOrderField
from crm.segments.models import Segment as SegmentModel
from crm.segments.models import SegmentKind
from crm.segments.reads import HistoryChange
from crm.segments.rules import ActivityPeriod, as_input
from schema.context import Info
from schema.enums import OrderDirection
from schema.errors import camel
from schema.relay import (
    Connection,
    Node,
    connection,
    global_id,
    page_args,
    pk_of,
    row_view,
)
from schema.segments import loaders

if TYPE_CHECKING:
    from schema.customers.types import Customer

CustomerT = Annotated["Customer", strawberry.lazy("schema.customers.types")]

strawberry.enum(
    SegmentKind,
    description="DYNAMIC: members follow a rule, recomputed on refresh. STATIC: "
    "members are added and removed explicitly.",
)
strawberry.enum(
    ActivityPeriod, description="A calendar window from its start until now."
)
strawberry.enum(HistoryChange, description="Whether a customer entered or left.")
strawberry.enum(SegmentOrderField, description="Fields a segment list sorts by.")


@strawberry.input(description="How to sort segments.")
class SegmentOrder:
    field: SegmentOrderField = strawberry.field(description="The field to sort by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Ascending or descending."
    )


@strawberry.type(description="A customer entering or leaving a segment.")
class SegmentHistoryEntry:
    change: HistoryChange = strawberry.field(description="Entered or left.")
    at: datetime = strawberry.field(description="When.")
    customer_id: strawberry.ID = strawberry.field(
        description="The customer's global ID (kept when the record is gone)."
    )
    customer_pk: strawberry.Private[int]

    @strawberry.field(description="The customer (null if you may not see it).")
    async def customer(self, info: Info) -> CustomerT | None:
        from schema.customers.types import Customer

        found = await info.context.loaders.customers.load(self.customer_pk)
        return Customer.from_model(found) if found is not None else None

    @classmethod
    def of(cls, entry: reads.HistoryEntry) -> SegmentHistoryEntry:
        return cls(
            change=entry.change,
            at=entry.at,
            customer_id=global_id("Customer", entry.customer_id),
            customer_pk=entry.customer_id,
        )


@strawberry.type(description="One condition of a rule and whether it holds.")
class SegmentClause:
    path: str = strawberry.field(
        description="Where the condition sits in the rule, e.g. rule.and[1].activity."
    )
    text: str = strawberry.field(description="The condition in words.")
    negated: bool = strawberry.field(
        description="It sits under a `not`: the rule wants it to be false."
    )
    matched: bool = strawberry.field(
        description="Whether the condition itself holds for the customer now."
    )


@strawberry.type(description="Why a customer is (or is not) in a segment.")
class SegmentExplanation:
    customer: CustomerT = strawberry.field(description="The customer explained.")
    member: bool = strawberry.field(
        description="Whether the customer is a member now (as of the last refresh)."
    )
    matches: bool | None = strawberry.field(
        description="Whether the rule selects the customer now (null for static "
        "segments); differs from `member` until the next refresh."
    )
    clauses: list[SegmentClause] = strawberry.field(
        description="Every leaf condition of the rule, in order, with its outcome."
    )


@strawberry.type(
    description="How satisfied the members are: Net Promoter Score over their 0-10 "
    "ratings, CSAT over their answers to CSAT surveys (1-5)."
)
class SegmentSatisfaction:
    responses: int = strawberry.field(description="0-10 ratings counted for NPS.")
    promoters: int = strawberry.field(description="Ratings of 9 or 10.")
    passives: int = strawberry.field(description="Ratings of 7 or 8.")
    detractors: int = strawberry.field(description="Ratings of 0 to 6.")
    nps: float | None = strawberry.field(
        description="% promoters minus % detractors (-100..100); null without ratings."
    )
    csat_responses: int = strawberry.field(description="CSAT answers counted.")
    csat: float | None = strawberry.field(
        description="% of CSAT answers that are 4 or 5; null without answers."
    )
    since: datetime = strawberry.field(description="Start of the window counted.")


@strawberry.type(
    description="A group of customers: by a rule (dynamic) or hand-picked (static)."
)
class Segment(Node):
    name: str = strawberry.field(description="The firm's name for it.")
    description: str | None = strawberry.field(description="What it is for.")
    kind: SegmentKind = strawberry.field(description="Dynamic or static.")
    rule: JSON | None = strawberry.field(
        description="The rule of a dynamic segment, spelled as a SegmentRule input "
        "(null for static segments)."
    )
    customer_visible: bool = strawberry.field(
        description="Whether members see it in their own view (me.segments)."
    )
    customer_name: str | None = strawberry.field(description="The name members see.")
    customer_description: str | None = strawberry.field(
        description="The description members see."
    )
    builtin_key: str | None = strawberry.field(
        description="profitable, loyal or strategic for the built-in segments."
    )
    size: int = strawberry.field(description="Members now (as of the last change).")
    refreshed_at: datetime | None = strawberry.field(
        description="When the members were last recomputed or changed; null: never."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last edited.")
    version: int = strawberry.field(
        description="Increments on every edit; pass it as expectedVersion to update."
    )
    model_: strawberry.Private[SegmentModel]

    @strawberry.field(description="The current members, by customer ID.")
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CustomerT]:
        from schema.customers.types import Customer

        assert self.model_.id is not None
        segment_id = self.model_.id
        page = page_args(first, after, last, before)

        async def total() -> int:
            return await loaders.member_counts(info).load(segment_id)

        if page.after is None and page.before is None and page.last is None:
            first_page = await loaders.member_pages(info, page.size).load(segment_id)
            return connection(first_page, Customer.from_model, total)
        listed = await reads.members(
            info.context.session, info.context.actor, segment_id, page=page
        )
        return connection(listed.page, Customer.from_model, total)

    @strawberry.field(description="Who entered and left, and when; newest first.")
    async def history(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SegmentHistoryEntry]:
        assert self.model_.id is not None
        segment_id = self.model_.id
        page = page_args(first, after, last, before)

        async def total() -> int:
            return await loaders.history_counts(info).load(segment_id)

        if page.after is None and page.before is None and page.last is None:
            first_page = await loaders.history_pages(info, page.size).load(segment_id)
            return connection(first_page, SegmentHistoryEntry.of, total)
        listed = await reads.history(
            info.context.session, info.context.actor, segment_id, page=page
        )
        return connection(listed.page, SegmentHistoryEntry.of, total)

    @strawberry.field(
        description="Why a customer is or is not in it: each condition of the rule "
        "evaluated for them now."
    )
    async def explain(
        self,
        info: Info,
        customer_id: Annotated[
            strawberry.ID, strawberry.argument(description="The customer to explain.")
        ],
    ) -> SegmentExplanation:
        from schema.customers.types import Customer

        ctx = info.context
        found = await reads.explain(
            ctx.session,
            ctx.actor,
            self.model_,
            pk_of(customer_id, "Customer", field="customerId"),
        )
        return SegmentExplanation(
            customer=Customer.from_model(found.customer),
            member=found.member,
            matches=found.matches,
            clauses=[
                SegmentClause(
                    path=camel(c.path) or c.path,
                    text=c.text,
                    negated=c.negated,
                    matched=c.matched,
                )
                for c in found.clauses
            ],
        )

    @strawberry.field(description="NPS and CSAT over the members' ratings in a window.")
    async def satisfaction(
        self,
        info: Info,
        within_days: Annotated[
            int,
            strawberry.argument(description="The window: the last N days (1-36500)."),
        ] = 365,
    ) -> SegmentSatisfaction:
        assert self.model_.id is not None
        if not 1 <= within_days <= 36_500:
            raise BadInput(
                "withinDays must be between 1 and 36500.", field="withinDays"
            )
        found = await loaders.satisfaction(info, within_days).load(self.model_.id)
        return SegmentSatisfaction(
            responses=found.responses,
            promoters=found.promoters,
            passives=found.passives,
            detractors=found.detractors,
            nps=found.nps,
            csat_responses=found.csat_responses,
            csat=found.csat,
            since=found.since,
        )

    @classmethod
    def from_model(cls, model: SegmentModel) -> Segment:
        return _segment_of_row(model)


_segment_of_row = row_view(
    Segment,
    columns=(
        "name",
        "description",
        "kind",
        "customer_visible",
        "customer_name",
        "customer_description",
        "builtin_key",
        "size",
        "refreshed_at",
        "created_at",
        "updated_at",
        "version",
    ),
    computed={
        "id": lambda model: global_id("Segment", model.id),
        "rule": lambda model: as_input(model.rule),
    },
)


@strawberry.type(description="A segment a customer is in, and since when.")
class CustomerSegment:
    segment: Segment = strawberry.field(description="The segment.")
    joined_at: datetime = strawberry.field(
        description="When the customer's current stint in it began."
    )
