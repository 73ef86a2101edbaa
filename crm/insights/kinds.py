"""The kinds of insight, who may see each, and the vocabularies they use."""

from __future__ import annotations

from enum import StrEnum

from crm.analytics.churn import ChurnRisk

__all__ = [
    "CONFIDENTIAL_KINDS",
    "CUSTOMER_FACING_KINDS",
    "FINANCIAL_KINDS",
    "HISTORY_KINDS",
    "ChurnRisk",
    "InsightKind",
    "StrategicValueSource",
    "TierBasis",
]


class InsightKind(StrEnum):
    """A family of measures: what a policy publishes and a history follows."""

    SPEND_SUMMARY = "spend_summary"
    RFM_STATUS = "rfm_status"
    TIER = "tier"
    PEER_COMPARISON = "peer_comparison"
    SATISFACTION = "satisfaction"
    LOYALTY = "loyalty"
    CHURN_RISK = "churn_risk"
    PREDICTED_VALUE = "predicted_value"
    COST_TO_SERVE = "cost_to_serve"
    PROFITABILITY = "profitability"
    STRATEGIC_VALUE = "strategic_value"
    VALUE_GROUP = "value_group"
    LOW_VALUE = "low_value"
    VALUE_CREATION_MODE = "value_creation_mode"


# Confidential by nature: never shown to the customer, whatever a policy says.
CONFIDENTIAL_KINDS = frozenset(
    {
        InsightKind.PROFITABILITY,
        InsightKind.STRATEGIC_VALUE,
        InsightKind.VALUE_GROUP,
        InsightKind.LOW_VALUE,
    }
)

# What the customer's own view has customer-facing types and wording for.
CUSTOMER_FACING_KINDS = frozenset(
    {
        InsightKind.SPEND_SUMMARY,
        InsightKind.RFM_STATUS,
        InsightKind.TIER,
        InsightKind.PEER_COMPARISON,
    }
)

# Staff need FINANCIALS_READ for these (revenue, cost, margin, CLV, strategy).
FINANCIAL_KINDS = frozenset(
    {
        InsightKind.SPEND_SUMMARY,
        InsightKind.PREDICTED_VALUE,
        InsightKind.COST_TO_SERVE,
        InsightKind.PROFITABILITY,
        InsightKind.STRATEGIC_VALUE,
        InsightKind.VALUE_GROUP,
        InsightKind.LOW_VALUE,
    }
)


# What snapshots keep: every kind but the comparison with peers (computed on read).
HISTORY_KINDS = frozenset(InsightKind) - {InsightKind.PEER_COMPARISON}


class StrategicValueSource(StrEnum):
    RULE = "rule"
    STAFF = "staff"


class TierBasis(StrEnum):
    """The measure a tier ladder's thresholds are compared with."""

    REVENUE_12M = "revenue_12m"
    REVENUE_LIFETIME = "revenue_lifetime"
    PURCHASES_12M = "purchases_12m"
