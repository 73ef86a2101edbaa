"""GraphQL enums of insights: the domain's own enums, registered once."""

from __future__ import annotations

import strawberry

from crm.analytics.competence import ValueCreationMode, ValueGroup
from crm.analytics.rfm import RfmCell
from crm.insights.kinds import ChurnRisk, InsightKind, StrategicValueSource, TierBasis

strawberry.enum(
    InsightKind,
    description="A family of insight measures: what a policy publishes and a "
    "history follows.",
)
strawberry.enum(
    ChurnRisk,
    description="Risk that the customer has stopped buying, from the probability "
    "of being active (thresholds in insightSettings).",
)
strawberry.enum(RfmCell, description="The named RFM cell of a customer.")
strawberry.enum(
    ValueGroup,
    description="Which kind of value a customer brings the firm (confidential).",
)
strawberry.enum(
    ValueCreationMode,
    description="How the firm should create value with the customer: SUPPLY "
    "(standard offer), CUSTOMIZATION (tailored by the firm) or COOPERATION "
    "(developed with the customer).",
)
strawberry.enum(
    StrategicValueSource,
    description="RULE: from predicted value; STAFF: set by staff with a reason.",
)
strawberry.enum(TierBasis, description="The measure a tier ladder is compared with.")

__all__ = [
    "ChurnRisk",
    "InsightKind",
    "RfmCell",
    "StrategicValueSource",
    "TierBasis",
    "ValueCreationMode",
    "ValueGroup",
]
