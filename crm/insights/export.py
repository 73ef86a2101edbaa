"""The insights part of a customer's data export: the kinds the firm published to
customers, with the same figures and wording as `me.insights`, never a
confidential measure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm.actors import CustomerActor
from crm.analytics.rfm import customer_label
from crm.insights.kinds import InsightKind
from crm.insights.me import my_insights

INSIGHT_COLUMNS = ("kind", "title", "description", "computed_at")


async def customer_export(
    session: AsyncSession, customer_id: int
) -> dict[str, list[dict[str, Any]]]:
    """Section `insights`: one record per published kind that has figures."""
    view = await my_insights(session, CustomerActor(customer_id=customer_id))
    insight = view.insight
    records: list[dict[str, Any]] = []

    def add(kind: InsightKind, **figures: Any) -> None:
        policy = view.policies[kind]
        records.append(
            {
                "kind": kind.value,
                "title": policy.title,
                "description": policy.description,
                "computed_at": insight.computed_at if insight is not None else None,
                **figures,
            }
        )

    if insight is None:
        return {"insights": records}
    currency = insight.currency
    if InsightKind.SPEND_SUMMARY in view.policies:
        add(
            InsightKind.SPEND_SUMMARY,
            purchases=insight.purchases,
            last_purchase_at=insight.last_purchase_at,
            spend_12m=insight.revenue_12m or Decimal(0),
            spend_lifetime=insight.revenue_lifetime or Decimal(0),
            currency=currency,
        )
    if InsightKind.TIER in view.policies and view.settings.tier_ladder:
        add(
            InsightKind.TIER,
            tier=insight.tier,
            next_tier=insight.next_tier,
            tier_progress=insight.tier_progress,
        )
    if InsightKind.RFM_STATUS in view.policies and insight.rfm_cell is not None:
        add(InsightKind.RFM_STATUS, status=customer_label(insight.rfm_cell))
    comparison = view.comparison
    if comparison is not None and comparison.unavailable is None:
        add(
            InsightKind.PEER_COMPARISON,
            your_spend_12m=insight.revenue_12m or Decimal(0),
            median_spend_12m=comparison.median_spend_12m,
            median_purchases_12m=comparison.median_purchases_12m,
            currency=currency,
        )
    return {"insights": records}
