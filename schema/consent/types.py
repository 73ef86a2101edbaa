"""Consent and contact preferences as the firm sees them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.consent.models import ConsentEvent as ConsentEventModel
from crm.consent.models import ContactPreference
from crm.consent.service import ConsentStatus
from schema.consent.enums import (
    ConsentChannel,
    ConsentPurpose,
    ConsentSource,
    ContactChannel,
    ContactFrequency,
)
from schema.consent.values import (
    consent_event_values,
    consent_status_values,
    preference_values,
)


@strawberry.type(description="The consent that applies now to one purpose and channel.")
class Consent:
    purpose: ConsentPurpose = strawberry.field(description="What it covers.")
    channel: ConsentChannel = strawberry.field(description="Which channel it covers.")
    granted: bool = strawberry.field(
        description="Whether the purpose may be pursued on this channel now."
    )
    default: bool = strawberry.field(
        description="True when the customer never decided: `granted` is then the "
        "purpose's documented default."
    )
    source: ConsentSource | None = strawberry.field(
        description="Where the decision that applies was given (null by default)."
    )
    decided_at: datetime | None = strawberry.field(
        description="When the decision that applies was made (null by default)."
    )
    decided_channel: ConsentChannel | None = strawberry.field(
        description="The channel of the decision that applies: ANY when a decision "
        "for every channel is the latest."
    )

    @classmethod
    def of(cls, status: ConsentStatus) -> Consent:
        return cls(
            **consent_status_values(status), decided_channel=status.decided_channel
        )


@strawberry.type(description="One consent decision, as recorded in the ledger.")
class ConsentEvent:
    purpose: ConsentPurpose = strawberry.field(description="What it covers.")
    channel: ConsentChannel = strawberry.field(description="Which channel it covers.")
    granted: bool = strawberry.field(description="Granted (true) or withdrawn.")
    source: ConsentSource = strawberry.field(description="Where it was given.")
    evidence: str | None = strawberry.field(
        description="What proves it (form reference, call notes...)."
    )
    recorded_by: str = strawberry.field(description="kind:id of who recorded it.")
    occurred_at: datetime = strawberry.field(description="When it was given.")
    recorded_at: datetime = strawberry.field(description="When it was recorded.")

    @classmethod
    def from_model(cls, model: ConsentEventModel) -> ConsentEvent:
        return cls(**consent_event_values(model), recorded_by=model.recorded_by)


@strawberry.type(description="How a customer likes to be contacted.")
class ContactPreferences:
    preferred_channel: ContactChannel | None = strawberry.field(
        description="The channel they prefer (null: not stated)."
    )
    contact_frequency: ContactFrequency | None = strawberry.field(
        description="How often they accept marketing contact (null: not stated)."
    )
    language: str | None = strawberry.field(
        description="The language to contact them in, as a BCP 47 tag."
    )
    updated_at: datetime | None = strawberry.field(
        description="When they last changed (null: never stated)."
    )

    @classmethod
    def of(cls, row: ContactPreference | None) -> ContactPreferences:
        return cls(**preference_values(row))
