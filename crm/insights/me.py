"""The customer's own insights: only published kinds, never a confidential one.

What a customer sees is read from the same row staff read, so the numbers agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import Actor
from crm.customers.models import Customer
from crm.insights.config import load_settings, published_policies
from crm.insights.kinds import InsightKind
from crm.insights.models import CustomerInsight, InsightPolicy, InsightSettings
from crm.insights.scoring import cohort_key
from crm.insights.service import latest_fit
from crm.me.policies import profile_scope


class ComparisonUnavailable(StrEnum):
    """Why a customer sees no comparison with customers like them."""

    NO_PURCHASE = "no_purchase"
    COHORT_TOO_SMALL = "cohort_too_small"
    NOT_PROFILED = "not_profiled"
    NOT_COMPUTED = "not_computed"


@dataclass
class PeerComparison:
    """Medians of the customer's cohort, or why there are none."""

    cohort: str | None
    median_spend_12m: Decimal | None
    median_purchases_12m: float | None
    unavailable: ComparisonUnavailable | None
    min_size: int


@dataclass
class MyInsightsView:
    insight: CustomerInsight | None
    locale: str | None
    policies: dict[InsightKind, InsightPolicy]
    settings: InsightSettings
    comparison: PeerComparison | None


async def my_insights(session: AsyncSession, actor: Actor) -> MyInsightsView:
    """The signed-in customer's insights and the kinds published to them."""
    found = (
        await session.execute(
            select(Customer.locale, CustomerInsight)  # type: ignore[call-overload]
            .select_from(Customer)
            .outerjoin(
                CustomerInsight,
                col(CustomerInsight.customer_id) == col(Customer.id),
            )
            .where(profile_scope(actor))
        )
    ).first()
    locale, insight = (found[0], found[1]) if found is not None else (None, None)
    policies = await published_policies(session)
    settings = await load_settings(session)
    comparison = None
    if InsightKind.PEER_COMPARISON in policies:
        comparison = await _comparison(session, insight, locale, settings)
    return MyInsightsView(insight, locale, policies, settings, comparison)


async def _comparison(
    session: AsyncSession,
    insight: CustomerInsight | None,
    locale: str | None,
    settings: InsightSettings,
) -> PeerComparison:
    k = settings.cohort_min_size

    def unavailable(
        reason: ComparisonUnavailable, cohort: str | None = None
    ) -> PeerComparison:
        return PeerComparison(cohort, None, None, reason, k)

    if insight is None:
        return unavailable(ComparisonUnavailable.NOT_COMPUTED)
    if insight.profiling_withdrawn:
        return unavailable(ComparisonUnavailable.NOT_PROFILED)
    if insight.first_purchase_at is None:
        return unavailable(ComparisonUnavailable.NO_PURCHASE)
    key = cohort_key(insight.first_purchase_at.year, locale)
    fit = await latest_fit(session)
    cohorts = (fit.cut_points or {}).get("cohorts", {}) if fit is not None else {}
    figures = cohorts.get(key) if key is not None else None
    if figures is None or int(figures.get("size", 0)) < k:
        return unavailable(ComparisonUnavailable.COHORT_TOO_SMALL, key)
    return PeerComparison(
        cohort=key,
        median_spend_12m=Decimal(str(figures["median_spend_12m"])).quantize(
            Decimal("0.01")
        ),
        median_purchases_12m=float(figures["median_purchases_12m"]),
        unavailable=None,
        min_size=k,
    )
