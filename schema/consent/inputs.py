"""Inputs of consent, contact preferences and feedback; filter inputs for customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET

from schema.consent.enums import (
    ConsentChannel,
    ConsentPurpose,
    ConsentSource,
    ContactChannel,
    ContactFrequency,
    FeedbackKind,
    Survey,
)


def _field(description: str) -> Any:
    return strawberry.field(default=UNSET, description=description)


@strawberry.input(
    description="Grant or withdraw one of your consents; it applies at once."
)
class MyConsentSetInput:
    purpose: ConsentPurpose = strawberry.field(description="What the consent covers.")
    channel: ConsentChannel = strawberry.field(
        default=ConsentChannel.ANY,
        description="Which channel (ANY: every channel of the purpose).",
    )
    granted: bool = strawberry.field(description="true grants, false withdraws.")


@strawberry.input(
    description="A consent given or withdrawn elsewhere, with its source."
)
class ConsentRecordInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's ID.")
    purpose: ConsentPurpose = strawberry.field(description="What the consent covers.")
    channel: ConsentChannel = strawberry.field(
        default=ConsentChannel.ANY,
        description="Which channel (ANY: every channel of the purpose).",
    )
    granted: bool = strawberry.field(description="true grants, false withdraws.")
    source: ConsentSource = strawberry.field(
        description="Where it was given (CUSTOMER is kept for the customer's own "
        "decisions)."
    )
    evidence: str | None = _field(
        "What proves it, e.g. a form reference (1,000 chars). The customer sees it "
        "in their consent history: no internal notes."
    )
    occurred_at: datetime | None = _field(
        "When it was given (defaults to now; never in the future). A decision "
        "older than the one that applies is kept in the ledger but does not apply."
    )


@strawberry.input(description="Contact preferences; omitted fields stay, null clears.")
class PreferencesFields:
    preferred_channel: ContactChannel | None = _field("The channel preferred.")
    contact_frequency: ContactFrequency | None = _field(
        "How often marketing contact is accepted."
    )
    language: str | None = _field("BCP 47 language tag, e.g. fr-CA.")


@strawberry.input(
    description="Your contact preferences; omitted fields stay, null clears."
)
class MyPreferencesSetInput(PreferencesFields):
    pass


@strawberry.input(
    description="A customer's contact preferences, as they told the firm."
)
class CustomerPreferencesSetInput(PreferencesFields):
    customer_id: strawberry.ID = strawberry.field(description="The customer's ID.")


@strawberry.input(description="Rate an interaction the firm shared with you (CSAT).")
class MyInteractionRateInput:
    interaction_id: strawberry.ID = strawberry.field(
        description="One of your interactions (as listed in me.interactions)."
    )
    rating: int = strawberry.field(description="1 (very unhappy) to 5 (very happy).")
    comment: str | None = _field("What you want to tell the firm (4,000 chars).")


@strawberry.input(description="Your answer to a survey.")
class MySurveyAnswerInput:
    survey: Survey = strawberry.field(description="NPS (0 to 10) or CSAT (1 to 5).")
    rating: int = strawberry.field(description="Your score on the survey's scale.")
    comment: str | None = _field("What you want to tell the firm (4,000 chars).")


@strawberry.input(description="An idea, a request, a complaint or praise for the firm.")
class MyFeedbackSubmitInput:
    kind: FeedbackKind = strawberry.field(description="What it is.")
    subject: str = strawberry.field(description="A title (200 chars).")
    body: str = strawberry.field(description="The text (4,000 chars).")


@strawberry.input(description="The firm's answer to a customer's feedback.")
class FeedbackAnswerInput:
    interaction_id: strawberry.ID = strawberry.field(
        description="The customer's feedback (a FEEDBACK interaction they gave)."
    )
    body: str = strawberry.field(
        description="The answer (4,000 chars); the customer sees it in their view."
    )


# --- customer filters (used by CustomerWhere) ------------------------------------


@strawberry.input(
    description="Customers whose consent for a purpose and channel is (or is not) "
    "granted now, defaults applied. Needs the right to read consents."
)
class ConsentCondition:
    purpose: ConsentPurpose = strawberry.field(description="What the consent covers.")
    channel: ConsentChannel = strawberry.field(
        default=ConsentChannel.ANY,
        description="The channel asked about; a channel's own decision or a later "
        "one for ANY applies. ANY asks about the decision for every channel.",
    )
    granted: bool = strawberry.field(
        default=True, description="true: granted now; false: not granted now."
    )


@strawberry.input(description="Conditions on a preferred channel.")
class ContactChannelFilter:
    eq: ContactChannel | None = UNSET
    neq: ContactChannel | None = UNSET
    in_: list[ContactChannel] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[ContactChannel] | None = UNSET
    is_null: bool | None = _field("true: not stated.")


@strawberry.input(description="Conditions on a contact frequency.")
class ContactFrequencyFilter:
    eq: ContactFrequency | None = UNSET
    neq: ContactFrequency | None = _field("Also keeps customers who did not state one.")
    in_: list[ContactFrequency] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[ContactFrequency] | None = _field(
        "Also keeps customers who did not state one."
    )
    is_null: bool | None = _field("true: not stated.")


@strawberry.input(description="Conditions on a language tag.")
class LanguageFilter:
    eq: str | None = UNSET
    neq: str | None = UNSET
    in_: list[str] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[str] | None = UNSET
    starts_with: str | None = _field("e.g. fr matches fr, fr-CA, fr-BE.")
    is_null: bool | None = _field("true: not stated.")


@strawberry.input(
    description="Conditions on a customer's contact preferences (unstated ones are "
    "null)."
)
class PreferencesWhere:
    preferred_channel: ContactChannelFilter | None = UNSET
    contact_frequency: ContactFrequencyFilter | None = UNSET
    language: LanguageFilter | None = UNSET
    and_: list[PreferencesWhere] | None = strawberry.field(default=UNSET, name="and")
    or_: list[PreferencesWhere] | None = strawberry.field(default=UNSET, name="or")
    not_: PreferencesWhere | None = strawberry.field(default=UNSET, name="not")
