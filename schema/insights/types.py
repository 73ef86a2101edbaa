"""The firm's view of a customer's insights: measures grouped, each with its inputs
and a plain-language explanation. Financial and strategic measures read as null
without financials:read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from crm.analytics.rfm import RFM_CELL_DESCRIPTIONS, RfmCell
from crm.insights.kinds import StrategicValueSource
from crm.insights.models import CustomerInsight, InsightSettings
from crm.insights.scoring import WEEKS_PER_MONTH
from crm.insights.service import InsightRow
from schema.insights.enums import ChurnRisk, ValueCreationMode, ValueGroup
from schema.interactions.types import Money


def money(amount: Decimal | None, currency: str) -> Money | None:
    return None if amount is None else Money.of(amount, currency)


@strawberry.type(description="Purchases and contacts: what the measures start from.")
class ActivityInsight:
    purchases: int = strawberry.field(description="Purchases ever made.")
    first_purchase_at: datetime | None = strawberry.field(
        description="When the first purchase was made."
    )
    last_purchase_at: datetime | None = strawberry.field(
        description="When the last purchase was made."
    )
    last_interaction_at: datetime | None = strawberry.field(
        description="The last interaction of any kind."
    )
    customer_initiated: int = strawberry.field(
        description="Interactions the customer started in the RFM window (feedback, "
        "inbound contacts, corrections, self-service)."
    )


@strawberry.type(description="Recency, frequency and monetary value, scored 1-5.")
class RfmInsight:
    window_days: int = strawberry.field(description="The window measured, in days.")
    recency_days: int | None = strawberry.field(
        description="Days since the last purchase (input of R)."
    )
    frequency: int = strawberry.field(
        description="Purchases in the window (input of F)."
    )
    monetary: Money | None = strawberry.field(
        description="Spend in the window net of refunds (input of M). Needs "
        "financials:read."
    )
    recency_score: int = strawberry.field(description="R: 5 = most recent fifth.")
    frequency_score: int = strawberry.field(description="F: 5 = most frequent fifth.")
    monetary_score: int = strawberry.field(description="M: 5 = biggest spenders.")
    cell: RfmCell = strawberry.field(description="The named cell of (R, (F+M)/2).")
    explanation: str = strawberry.field(description="What the cell means.")


@strawberry.type(description="Revenue, cost to serve and margin (financial).")
class ValueInsight:
    revenue_lifetime: Money = strawberry.field(
        description="Purchases minus refunds, ever."
    )
    revenue_12m: Money = strawberry.field(description="The same, last 12 months.")
    cost_to_serve_lifetime: Money = strawberry.field(
        description="Sum of the cost to serve of every interaction."
    )
    cost_to_serve_12m: Money = strawberry.field(description="The same, 12 months.")
    margin_lifetime: Money = strawberry.field(description="Revenue minus cost.")
    margin_12m: Money = strawberry.field(description="The same, 12 months.")
    explanation: str = strawberry.field(
        description="The measure in plain words, with its inputs."
    )


@strawberry.type(
    description="BG/NBD: will the customer keep buying? Time unit: weeks, counted "
    "in whole days."
)
class RetentionInsight:
    repeat_purchases: int = strawberry.field(
        description="x: purchases after the first."
    )
    weeks_first_to_last: float = strawberry.field(
        description="t_x: weeks from the first to the last purchase."
    )
    weeks_since_first: float = strawberry.field(
        description="T: weeks from the first purchase to the refresh."
    )
    probability_alive: float | None = strawberry.field(
        description="Probability that the customer still buys (0-1)."
    )
    expected_purchases: float | None = strawberry.field(
        description="Purchases expected over the horizon."
    )
    horizon_weeks: float = strawberry.field(description="The horizon, in weeks.")
    churn_risk: ChurnRisk | None = strawberry.field(
        description="HIGH below churnHighBelow, MEDIUM below churnMediumBelow."
    )
    explanation: str = strawberry.field(
        description="The measure in plain words, with its inputs."
    )


@strawberry.type(description="Gamma-Gamma spend and predicted lifetime value.")
class PredictedValueInsight:
    average_spend: Money | None = strawberry.field(
        description="Mean purchase value so far (input)."
    )
    expected_spend_per_purchase: Money | None = strawberry.field(
        description="Expected value of a future purchase."
    )
    predicted_lifetime_value: Money | None = strawberry.field(
        description="Expected purchases x spend over the horizon, discounted."
    )
    percentile: float | None = strawberry.field(
        description="Share of the base with a lower predicted value (0-100)."
    )
    horizon_months: int = strawberry.field(description="The horizon, in months.")
    annual_discount_rate: float = strawberry.field(
        description="Discount rate per year (0.1 = 10%)."
    )
    explanation: str = strawberry.field(
        description="The measure in plain words, with its inputs."
    )


@strawberry.type(description="Net Promoter Score and CSAT from the customer's ratings.")
class SatisfactionInsight:
    nps_responses: int = strawberry.field(description="Ratings on the 0-10 scale.")
    promoters: int = strawberry.field(description="Ratings of 9 or 10.")
    detractors: int = strawberry.field(description="Ratings of 0 to 6.")
    nps: float | None = strawberry.field(
        description="% promoters - % detractors (-100 to 100)."
    )
    csat_responses: int = strawberry.field(description="CSAT answers (1-5).")
    satisfied: int = strawberry.field(description="CSAT answers of 4 or 5.")
    csat: float | None = strawberry.field(description="% satisfied (0-100).")
    explanation: str = strawberry.field(
        description="The measure in plain words, with its inputs."
    )


@strawberry.type(
    description="Competence-based classification: worth to the firm and how to "
    "create value with the customer."
)
class ClassificationInsight:
    profitability: int | None = strawberry.field(
        description="1-5: quintile of 12-month margin. Needs financials:read."
    )
    loyalty: int | None = strawberry.field(
        description="1-5: tenure, repeat purchases and probability of being active."
    )
    strategic_value: int | None = strawberry.field(
        description="1-5: set by staff, else the quintile of predicted value. Needs "
        "financials:read."
    )
    strategic_value_source: StrategicValueSource | None = strawberry.field(
        description="Who decided the strategic value. Needs financials:read."
    )
    strategic_value_reason: str | None = strawberry.field(
        description="Staff's reason, when they set it. Needs financials:read."
    )
    value_group: ValueGroup | None = strawberry.field(
        description="Profitable, strategic, loyal or low-value. Needs financials:read."
    )
    low_value: bool | None = strawberry.field(
        description="In the low-value group. Needs financials:read."
    )
    willingness: float | None = strawberry.field(
        description="1-5: how much the customer takes part (customer-initiated "
        "interactions)."
    )
    value_creation_mode: ValueCreationMode | None = strawberry.field(
        description="From importance and willingness (docs/insights.md)."
    )
    explanation: str = strawberry.field(
        description="The measure in plain words, with its inputs."
    )


@strawberry.type(description="The customer's loyalty tier and progress to the next.")
class TierInsight:
    name: str | None = strawberry.field(description="Null below the first tier.")
    next_tier: str | None = strawberry.field(description="Null in the top tier.")
    progress: float | None = strawberry.field(
        description="0-1 of the way to the next tier (1 at the top). On a money "
        "ladder it needs financials:read (with the thresholds it gives the spend)."
    )
    measure: Money | None = strawberry.field(
        description="The customer's value of the ladder's measure (money bases). "
        "Needs financials:read."
    )
    explanation: str = strawberry.field(
        description="The measure in plain words, with its inputs."
    )


@strawberry.type(
    description="A customer's insights as of the last refresh (or purchase). "
    "Profiling measures are null when the customer withdrew consent to profiling."
)
class CustomerInsights:
    computed_at: datetime = strawberry.field(description="When they were computed.")
    model_version: int | None = strawberry.field(
        description="The model fit used (a full refresh)."
    )
    currency: str = strawberry.field(description="Currency of every amount.")
    profiling_withdrawn: bool = strawberry.field(
        description="The customer withdrew consent to profiling: only descriptive "
        "aggregates are kept."
    )
    activity: ActivityInsight = strawberry.field(description="Purchases and contacts.")
    rfm: RfmInsight | None = strawberry.field(description="Null when not profiled.")
    value: ValueInsight | None = strawberry.field(description="Needs financials:read.")
    retention: RetentionInsight | None = strawberry.field(
        description="Null for customers who never bought or are not profiled."
    )
    predicted_value: PredictedValueInsight | None = strawberry.field(
        description="Needs financials:read; null without a prediction."
    )
    satisfaction: SatisfactionInsight = strawberry.field(
        description="NPS and CSAT from the customer's ratings."
    )
    classification: ClassificationInsight | None = strawberry.field(
        description="Null when not profiled."
    )
    tier: TierInsight | None = strawberry.field(
        description="Null while the firm has no tier ladder."
    )

    @classmethod
    def of(
        cls, row: InsightRow, settings: InsightSettings, *, financial: bool
    ) -> CustomerInsights:
        i = row.insight
        return cls(
            computed_at=i.computed_at,
            model_version=i.model_version,
            currency=i.currency,
            profiling_withdrawn=i.profiling_withdrawn,
            activity=ActivityInsight(
                purchases=i.purchases,
                first_purchase_at=i.first_purchase_at,
                last_purchase_at=i.last_purchase_at,
                last_interaction_at=i.last_interaction_at,
                customer_initiated=i.customer_initiated,
            ),
            rfm=_rfm(i, settings, financial),
            value=_value(i) if financial else None,
            retention=_retention(i, settings),
            predicted_value=_predicted(i, settings) if financial else None,
            satisfaction=_satisfaction(i),
            classification=_classification(row, financial),
            tier=_tier(i, settings, financial),
        )


def _rfm(i: CustomerInsight, s: InsightSettings, financial: bool) -> RfmInsight | None:
    if i.rfm_cell is None or i.rfm_r is None or i.rfm_f is None or i.rfm_m is None:
        return None
    cell = RfmCell(i.rfm_cell)
    return RfmInsight(
        window_days=s.rfm_window_days,
        recency_days=i.recency_days,
        frequency=i.frequency,
        monetary=money(i.monetary, i.currency) if financial else None,
        recency_score=i.rfm_r,
        frequency_score=i.rfm_f,
        monetary_score=i.rfm_m,
        cell=cell,
        explanation=(
            f"R{i.rfm_r} F{i.rfm_f} M{i.rfm_m} over the last {s.rfm_window_days} "
            f"days: {RFM_CELL_DESCRIPTIONS[cell][0]} Scores are fifths of the "
            "customers who bought in the window."
        ),
    )


def _value(i: CustomerInsight) -> ValueInsight:
    def m(amount: Decimal | None) -> Money:
        return Money.of(amount or Decimal(0), i.currency)

    return ValueInsight(
        revenue_lifetime=m(i.revenue_lifetime),
        revenue_12m=m(i.revenue_12m),
        cost_to_serve_lifetime=m(i.cost_to_serve_lifetime),
        cost_to_serve_12m=m(i.cost_to_serve_12m),
        margin_lifetime=m(i.margin_lifetime),
        margin_12m=m(i.margin_12m),
        explanation=(
            f"Revenue is purchases minus refunds in {i.currency}; margin is revenue "
            f"minus the cost to serve recorded on interactions. Last 12 months: "
            f"{i.revenue_12m} revenue, {i.cost_to_serve_12m} cost."
        ),
    )


def _retention(i: CustomerInsight, s: InsightSettings) -> RetentionInsight | None:
    if i.repeat_purchases is None or i.weeks_since_first is None:
        return None
    horizon = round(s.clv_horizon_months * WEEKS_PER_MONTH, 2)
    alive = i.p_alive
    said = (
        "no model fit yet"
        if alive is None
        else f"a {alive:.0%} chance of still being an active buyer"
    )
    if alive is not None and i.repeat_purchases == 0:
        said += (
            " (the model cannot tell a one-time buyer has left: their churn risk "
            "is how unlikely an active buyer would stay silent this long)"
        )
    return RetentionInsight(
        repeat_purchases=i.repeat_purchases,
        weeks_first_to_last=i.weeks_first_to_last or 0.0,
        weeks_since_first=i.weeks_since_first,
        probability_alive=alive,
        expected_purchases=i.expected_purchases,
        horizon_weeks=horizon,
        churn_risk=ChurnRisk(i.churn_band) if i.churn_band else None,
        explanation=(
            f"{i.repeat_purchases} repeat purchases, the last "
            f"{(i.weeks_since_first - (i.weeks_first_to_last or 0)):.1f} weeks ago, "
            f"over {i.weeks_since_first:.1f} weeks as a customer give {said} "
            "(BG/NBD fitted on the whole base)."
        ),
    )


def _predicted(i: CustomerInsight, s: InsightSettings) -> PredictedValueInsight | None:
    if i.predicted_clv is None and i.average_spend is None:
        return None
    return PredictedValueInsight(
        average_spend=money(i.average_spend, i.currency),
        expected_spend_per_purchase=money(i.expected_spend, i.currency),
        predicted_lifetime_value=money(i.predicted_clv, i.currency),
        percentile=i.clv_percentile,
        horizon_months=s.clv_horizon_months,
        annual_discount_rate=s.annual_discount_rate,
        explanation=(
            f"Purchases expected over {s.clv_horizon_months} months (BG/NBD) times "
            "the expected value of a purchase (Gamma-Gamma, shrunk toward the base "
            f"mean), discounted monthly at {s.annual_discount_rate:.0%} a year."
        ),
    )


def _satisfaction(i: CustomerInsight) -> SatisfactionInsight:
    return SatisfactionInsight(
        nps_responses=i.nps_responses,
        promoters=i.promoters,
        detractors=i.detractors,
        nps=i.nps,
        csat_responses=i.csat_responses,
        satisfied=i.satisfied,
        csat=i.csat,
        explanation=(
            f"NPS from {i.nps_responses} ratings on 0-10 (promoters 9-10, "
            f"detractors 0-6); CSAT from {i.csat_responses} answers on 1-5 "
            "(satisfied: 4-5)."
        ),
    )


def _classification(row: InsightRow, financial: bool) -> ClassificationInsight | None:
    i = row.insight
    if i.loyalty_score is None and i.strategic_score is None:
        return None
    source = (
        StrategicValueSource.STAFF
        if i.strategic_overridden
        else StrategicValueSource.RULE
    )
    reason = row.override.reason if row.override is not None else None
    return ClassificationInsight(
        profitability=i.profitability_score if financial else None,
        loyalty=i.loyalty_score,
        strategic_value=i.strategic_score if financial else None,
        strategic_value_source=source if financial else None,
        strategic_value_reason=reason if financial else None,
        value_group=(
            ValueGroup(i.value_group) if financial and i.value_group else None
        ),
        low_value=i.low_value if financial else None,
        willingness=i.willingness,
        value_creation_mode=(
            ValueCreationMode(i.value_creation_mode) if i.value_creation_mode else None
        ),
        explanation=(
            "Importance (the higher of profitability and strategic value) and "
            "willingness to take part choose the value-creation mode; see the "
            "matrix in docs/insights.md."
        ),
    )


def _tier(
    i: CustomerInsight, s: InsightSettings, financial: bool
) -> TierInsight | None:
    if not s.tier_ladder:
        return None
    money_basis = s.tier_basis != "purchases_12m"
    return TierInsight(
        name=i.tier,
        next_tier=i.next_tier,
        # Progress on a money ladder, with its thresholds, gives the spend away.
        progress=i.tier_progress if financial or not money_basis else None,
        measure=(
            money(i.tier_measure, i.currency) if financial and money_basis else None
        ),
        explanation=(
            f"Tiers compare {s.tier_basis.replace('_', ' ')} with the firm's "
            "ladder; progress is the share of the way from this tier's threshold "
            "to the next."
        ),
    )
