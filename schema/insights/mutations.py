"""Mutations for insights: the firm's customer intelligence."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from crm.insights import config, service
from crm.insights.kinds import InsightKind as DomainKind
from crm.insights.refresh import refresh_for
from crm.permissions import Permission
from schema.context import Info
from schema.errors import UserError, attempt
from schema.insights.config_types import (
    InsightPolicy,
    InsightRefresh,
    InsightSettings,
    TierLadder,
)
from schema.insights.enums import InsightKind, TierBasis
from schema.permissions import Has, gate
from schema.relay import pk_of
from schema.scalars import provided

if TYPE_CHECKING:
    from schema.customers.types import Customer

CustomerT = Annotated["Customer", strawberry.lazy("schema.customers.types")]


@strawberry.input(description="Set or clear a customer's strategic value.")
class StrategicValueSetInput:
    customer_id: strawberry.ID
    value: int | None = strawberry.field(
        description="1-5; null clears it back to the rule over predicted value."
    )
    reason: str | None = strawberry.field(
        default=None, description="Why (required with a value; audited)."
    )


@strawberry.input(description="Publish one kind of insight to customers, or not.")
class InsightPolicySetInput:
    kind: InsightKind
    visible_to_customers: bool
    title: str | None = strawberry.field(
        default=None, description="Heading customers see (at most 120 characters)."
    )
    description: str | None = strawberry.field(
        default=None, description="Wording customers see (at most 1000 characters)."
    )


@strawberry.input(description="One rung of a tier ladder.")
class TierInput:
    name: str
    threshold: Decimal = strawberry.field(description=">= 0, rising tier by tier.")


@strawberry.input(description="A new tier ladder (replaces the old one).")
class TierLadderSetInput:
    basis: TierBasis = strawberry.field(description="The measure compared.")
    tiers: list[TierInput] = strawberry.field(
        description="Lowest first; at most 10; an empty list removes the ladder."
    )


@strawberry.input(description="Model settings to change; omitted ones are kept.")
class InsightSettingsSetInput:
    rfm_window_days: int | None = strawberry.field(
        default=UNSET, description="30-3650."
    )
    clv_horizon_months: int | None = strawberry.field(
        default=UNSET, description="1-120."
    )
    annual_discount_rate: float | None = strawberry.field(
        default=UNSET, description="0-1."
    )
    cohort_min_size: int | None = strawberry.field(
        default=UNSET, description="k, at least 5."
    )
    churn_high_below: float | None = strawberry.field(default=UNSET, description="0-1.")
    churn_medium_below: float | None = strawberry.field(
        default=UNSET, description="0-1, at least churnHighBelow."
    )
    reporting_currency: str | None = strawberry.field(
        default=UNSET, description="ISO 4217."
    )
    exchange_rates: JSON | None = strawberry.field(
        default=UNSET, description='e.g. {"GBP": "1.17", "USD": "0.92"}.'
    )


@strawberry.type(description="The result of insightsRefresh.")
class InsightsRefreshPayload:
    refresh: InsightRefresh | None = strawberry.field(
        default=None, description="What the refresh did."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of strategicValueSet.")
class StrategicValueSetPayload:
    customer: CustomerT | None = strawberry.field(
        default=None, description="The customer, with the new value."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of insightPolicySet.")
class InsightPolicySetPayload:
    policy: InsightPolicy | None = strawberry.field(
        default=None, description="The policy as saved."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of tierLadderSet.")
class TierLadderSetPayload:
    tier_ladder: TierLadder | None = strawberry.field(
        default=None, description="The ladder as saved."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of insightSettingsSet.")
class InsightSettingsSetPayload:
    settings: InsightSettings | None = strawberry.field(
        default=None, description="The settings as saved."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type
class InsightMutations:
    @strawberry.mutation(
        description="Recompute every customer's insights now (a full refit); "
        "returns the time of each stage.",
        extensions=gate(Has(Permission.INSIGHTS_CONFIGURE)),
    )
    async def insights_refresh(self, info: Info) -> InsightsRefreshPayload:
        ctx = info.context
        report = await refresh_for(ctx.session, ctx.actor, ctx.database.dialect)
        return InsightsRefreshPayload(refresh=InsightRefresh.from_report(report))

    @strawberry.mutation(
        description="Set a customer's strategic value (1-5) with a reason, or clear "
        "it (value null) back to the rule; audited.",
        extensions=gate(Has(Permission.STRATEGIC_VALUE_WRITE)),
    )
    async def strategic_value_set(
        self, info: Info, input: StrategicValueSetInput
    ) -> StrategicValueSetPayload:
        from schema.customers.types import Customer

        ctx = info.context
        customer_id = pk_of(input.customer_id, "Customer", field="input.customerId")
        return await attempt(
            ctx.session,
            lambda: service.set_strategic_value(
                ctx.session,
                ctx.actor,
                customer_id,
                value=input.value,
                reason=input.reason,
            ),
            lambda customer: StrategicValueSetPayload(
                customer=Customer.from_model(customer)
            ),
            StrategicValueSetPayload,
        )

    @strawberry.mutation(
        description="Publish a kind of insight to customers (or withdraw it), with "
        "the title and wording they see. Profitability, strategic value, value "
        "group and the low-value flag can never be published.",
        extensions=gate(Has(Permission.INSIGHTS_CONFIGURE)),
    )
    async def insight_policy_set(
        self, info: Info, input: InsightPolicySetInput
    ) -> InsightPolicySetPayload:
        ctx = info.context
        return await attempt(
            ctx.session,
            lambda: config.set_policy(
                ctx.session,
                ctx.actor,
                kind=DomainKind(input.kind),
                visible_to_customers=input.visible_to_customers,
                title=input.title,
                description=input.description,
            ),
            lambda policy: InsightPolicySetPayload(
                policy=InsightPolicy.from_model(policy)
            ),
            InsightPolicySetPayload,
        )

    @strawberry.mutation(
        description="Replace the loyalty tier ladder; the next refresh (or "
        "purchase) places customers on it.",
        extensions=gate(Has(Permission.INSIGHTS_CONFIGURE)),
    )
    async def tier_ladder_set(
        self, info: Info, input: TierLadderSetInput
    ) -> TierLadderSetPayload:
        ctx = info.context
        tiers: list[Mapping[str, Any]] = [
            {"name": t.name, "threshold": t.threshold} for t in input.tiers
        ]
        return await attempt(
            ctx.session,
            lambda: config.set_tier_ladder(
                ctx.session, ctx.actor, basis=input.basis.value, tiers=tiers
            ),
            lambda settings: TierLadderSetPayload(
                tier_ladder=TierLadder.from_model(settings)
            ),
            TierLadderSetPayload,
        )

    @strawberry.mutation(
        description="Change model settings; the next refresh applies them.",
        extensions=gate(Has(Permission.INSIGHTS_CONFIGURE)),
    )
    async def insight_settings_set(
        self, info: Info, input: InsightSettingsSetInput
    ) -> InsightSettingsSetPayload:
        ctx = info.context
        changes = provided(input)
        return await attempt(
            ctx.session,
            lambda: config.set_settings(ctx.session, ctx.actor, changes),
            lambda settings: InsightSettingsSetPayload(
                settings=InsightSettings.from_model(settings)
            ),
            InsightSettingsSetPayload,
        )
