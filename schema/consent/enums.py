"""GraphQL enums of consent, contact preferences and feedback (the domain's own)."""

from __future__ import annotations

import strawberry

from crm.consent.models import (
    ConsentChannel,
    ConsentPurpose,
    ConsentSource,
    ContactChannel,
    ContactFrequency,
)
from crm.interactions.models import FeedbackKind, Survey

strawberry.enum(
    ConsentPurpose,
    description="What a consent covers. Without a decision, PROFILING and "
    "PARTNER_SHARING are granted (legitimate interest, withdrawable at once); "
    "MARKETING and RESEARCH are not (opt-in).",
)
strawberry.enum(
    ConsentChannel,
    description="The channel a consent covers; ANY covers every channel of the "
    "purpose. PROFILING and PARTNER_SHARING are decided for ANY only.",
)
strawberry.enum(ConsentSource, description="Where a consent decision was given.")
strawberry.enum(ContactChannel, description="A channel the customer prefers.")
strawberry.enum(
    ContactFrequency, description="How often the customer is willing to be contacted."
)
strawberry.enum(Survey, description="NPS rates 0 to 10; CSAT rates 1 to 5.")
strawberry.enum(FeedbackKind, description="What a customer's own feedback is about.")

__all__ = [
    "ConsentChannel",
    "ConsentPurpose",
    "ConsentSource",
    "ContactChannel",
    "ContactFrequency",
    "FeedbackKind",
    "Survey",
]
