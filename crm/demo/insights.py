"""Demo data for insights, written after the customers and interactions."""

from __future__ import annotations

from decimal import Decimal

from crm.actors import SystemActor
from crm.db import Database
from crm.demo.names import FX_TO_EUR
from crm.insights import config
from crm.insights.kinds import InsightKind, TierBasis
from crm.insights.refresh import refresh_insights

ACTOR = SystemActor(name="demo")
# A ladder over 12-month spend in EUR.
DEMO_LADDER = (("Bronze", "100"), ("Silver", "400"), ("Gold", "1200"))
DEMO_POLICIES = {
    InsightKind.SPEND_SUMMARY: (
        "Your spending",
        "What you bought from us, net of refunds.",
    ),
    InsightKind.TIER: (
        "Your membership tier",
        "Tiers follow what you spent with us over the last 12 months.",
    ),
    InsightKind.RFM_STATUS: ("Your status", "How we see your recent activity."),
}


async def seed(database: Database, *, seed: int) -> None:
    """Add the insights part of the demo (deterministic for `seed`): euro rates, a
    tier ladder, a policy publishing spend, tier and status, then a full refresh."""
    async with database.transaction() as session:
        await config.set_settings(
            session,
            ACTOR,
            {
                "reporting_currency": "EUR",
                "exchange_rates": {
                    code: str(rate) for code, rate in FX_TO_EUR.items() if code != "EUR"
                },
            },
        )
        await config.set_tier_ladder(
            session,
            ACTOR,
            basis=TierBasis.REVENUE_12M.value,
            tiers=[{"name": n, "threshold": Decimal(t)} for n, t in DEMO_LADDER],
        )
        for kind, (title, description) in DEMO_POLICIES.items():
            await config.set_policy(
                session,
                ACTOR,
                kind=kind,
                visible_to_customers=True,
                title=title,
                description=description,
            )
    await refresh_insights(database)
