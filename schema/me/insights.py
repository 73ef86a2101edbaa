"""The customer's own view (`me`) of insights: only what the firm published, in
customer-facing types and wording. Firm-only measures cannot be selected here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from crm.analytics.rfm import customer_label
from crm.insights import me as service
from crm.insights.kinds import InsightKind
from crm.insights.models import InsightPolicy
from schema.context import Info
from schema.interactions.types import Money


@strawberry.type(description="Your spending and activity with us.")
class MySpendSummary:
    title: str | None = strawberry.field(description="The heading the firm chose.")
    description: str | None = strawberry.field(description="What it means.")
    purchases: int = strawberry.field(description="Purchases you have made.")
    last_purchase_at: datetime | None = strawberry.field(
        description="When you last bought."
    )
    spend_12m: Money = strawberry.field(
        description="What you spent in the last 12 months, net of refunds."
    )
    spend_lifetime: Money = strawberry.field(
        description="What you have spent with us, net of refunds."
    )


@strawberry.type(description="Your loyalty tier and how close the next one is.")
class MyTier:
    title: str | None = strawberry.field(description="The heading the firm chose.")
    description: str | None = strawberry.field(description="What it means.")
    name: str | None = strawberry.field(description="Your tier (null: none yet).")
    next_tier: str | None = strawberry.field(
        description="The next tier (null: you are at the top)."
    )
    progress: float | None = strawberry.field(
        description="How far you are toward the next tier, 0 to 1."
    )


@strawberry.type(description="How we see your recent activity, in a few words.")
class MyStatus:
    title: str | None = strawberry.field(description="The heading the firm chose.")
    description: str | None = strawberry.field(description="What it means.")
    label: str = strawberry.field(description="Your status.")


@strawberry.type(
    description="How you compare with customers like you: those who first bought "
    "in the same year, with the same language and region. Shown only for groups "
    "large enough that no one in them can be singled out."
)
class MyComparison:
    title: str | None = strawberry.field(description="The heading the firm chose.")
    description: str | None = strawberry.field(description="What it means.")
    available: bool = strawberry.field(description="Whether figures are shown.")
    reason: str | None = strawberry.field(
        description="Why not, when they are not shown."
    )
    minimum_group_size: int = strawberry.field(
        description="Customers a group needs before figures are shown."
    )
    your_spend_12m: Money | None = strawberry.field(
        description="What you spent in the last 12 months."
    )
    median_spend_12m: Money | None = strawberry.field(
        description="What the middle customer of your group spent."
    )
    median_purchases_12m: float | None = strawberry.field(
        description="How many purchases the middle customer of your group made."
    )


_REASONS = {
    service.ComparisonUnavailable.NO_PURCHASE: "You have not made a purchase yet.",
    service.ComparisonUnavailable.COHORT_TOO_SMALL: (
        "Too few customers are like you for a comparison that keeps everyone anonymous."
    ),
    service.ComparisonUnavailable.NOT_PROFILED: (
        "You asked us not to analyse your activity, so we do not compare it."
    ),
    service.ComparisonUnavailable.NOT_COMPUTED: "Your figures are not ready yet.",
}


@strawberry.type(
    description="What the firm shares with you from its analysis of your "
    "activity. Each part is null unless the firm chose to share it."
)
class MyInsights:
    computed_at: datetime | None = strawberry.field(
        description="When these figures were last updated."
    )
    spend_summary: MySpendSummary | None = strawberry.field(
        description="Your spending and activity."
    )
    tier: MyTier | None = strawberry.field(description="Your loyalty tier.")
    status: MyStatus | None = strawberry.field(description="Your status with us.")
    comparison: MyComparison | None = strawberry.field(
        description="How you compare with customers like you."
    )

    @classmethod
    def of(cls, view: service.MyInsightsView) -> MyInsights:
        i = view.insight
        policies = view.policies

        def wording(kind: InsightKind) -> tuple[str | None, str | None] | None:
            policy: InsightPolicy | None = policies.get(kind)
            if policy is None:
                return None
            return policy.title, policy.description

        spend = tier = status = comparison = None
        if i is not None and (words := wording(InsightKind.SPEND_SUMMARY)):
            spend = MySpendSummary(
                title=words[0],
                description=words[1],
                purchases=i.purchases,
                last_purchase_at=i.last_purchase_at,
                spend_12m=Money.of(i.revenue_12m or Decimal(0), i.currency),
                spend_lifetime=Money.of(i.revenue_lifetime or Decimal(0), i.currency),
            )
        if (
            i is not None
            and view.settings.tier_ladder
            and (words := wording(InsightKind.TIER))
        ):
            tier = MyTier(
                title=words[0],
                description=words[1],
                name=i.tier,
                next_tier=i.next_tier,
                progress=i.tier_progress,
            )
        if (
            i is not None
            and i.rfm_cell is not None
            and (words := wording(InsightKind.RFM_STATUS))
        ):
            status = MyStatus(
                title=words[0], description=words[1], label=customer_label(i.rfm_cell)
            )
        found = view.comparison
        if found is not None and (words := wording(InsightKind.PEER_COMPARISON)):
            currency = i.currency if i is not None else view.settings.reporting_currency
            shown = found.unavailable is None
            comparison = MyComparison(
                title=words[0],
                description=words[1],
                available=shown,
                reason=None if shown else _REASONS[found.unavailable],  # type: ignore[index]
                minimum_group_size=found.min_size,
                your_spend_12m=(
                    Money.of(i.revenue_12m or Decimal(0), currency)
                    if shown and i is not None
                    else None
                ),
                median_spend_12m=(
                    Money.of(found.median_spend_12m, currency)
                    if found.median_spend_12m is not None
                    else None
                ),
                median_purchases_12m=found.median_purchases_12m,
            )
        return cls(
            computed_at=i.computed_at if i is not None else None,
            spend_summary=spend,
            tier=tier,
            status=status,
            comparison=comparison,
        )


@strawberry.type
class MeInsights:
    @strawberry.field(
        description="What the firm shares with you from its analysis of your "
        "activity: only the parts it chose to publish."
    )
    async def insights(self, info: Info) -> MyInsights:
        ctx = info.context
        return MyInsights.of(await service.my_insights(ctx.session, ctx.actor))
