"""The customer's own view (`me`) of consent, contact preferences and feedback."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.consent import preferences, service
from crm.consent.models import ConsentEvent as ConsentEventModel
from crm.consent.models import ContactPreference
from crm.consent.service import ConsentStatus
from crm.pagination import count
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
from schema.context import Info
from schema.relay import Connection, connection, page_args


@strawberry.type(
    description="Your consent, as it applies now, for one purpose and channel."
)
class MyConsent:
    purpose: ConsentPurpose = strawberry.field(description="What it covers.")
    channel: ConsentChannel = strawberry.field(
        description="Which channel it covers (ANY: every channel)."
    )
    granted: bool = strawberry.field(
        description="Whether the firm may pursue the purpose on this channel now."
    )
    default: bool = strawberry.field(
        description="True when you never decided: `granted` is the documented default "
        "(profiling and partner sharing on, marketing and research off)."
    )
    source: ConsentSource | None = strawberry.field(
        description="Where the decision that applies was given (null by default)."
    )
    decided_at: datetime | None = strawberry.field(
        description="When the decision that applies was made (null by default)."
    )

    @classmethod
    def of(cls, status: ConsentStatus) -> MyConsent:
        return cls(**consent_status_values(status))


@strawberry.type(description="One of your consent decisions, as the firm recorded it.")
class MyConsentEvent:
    purpose: ConsentPurpose = strawberry.field(description="What it covers.")
    channel: ConsentChannel = strawberry.field(description="Which channel it covers.")
    granted: bool = strawberry.field(description="Granted (true) or withdrawn.")
    source: ConsentSource = strawberry.field(
        description="Where you gave it: CUSTOMER when you did it here."
    )
    evidence: str | None = strawberry.field(
        description="What the firm keeps as proof (form reference, call notes...)."
    )
    occurred_at: datetime = strawberry.field(description="When you gave it.")
    recorded_at: datetime = strawberry.field(description="When it was recorded.")

    @classmethod
    def from_model(cls, model: ConsentEventModel) -> MyConsentEvent:
        return cls(**consent_event_values(model))


@strawberry.type(description="How you like to be contacted.")
class MyPreferences:
    preferred_channel: ContactChannel | None = strawberry.field(
        description="The channel you prefer (null: not stated)."
    )
    contact_frequency: ContactFrequency | None = strawberry.field(
        description="How often you accept marketing contact (null: not stated)."
    )
    language: str | None = strawberry.field(
        description="The language to contact you in, as a BCP 47 tag."
    )
    updated_at: datetime | None = strawberry.field(
        description="When you last changed them (null: never stated)."
    )

    @classmethod
    def of(cls, row: ContactPreference | None) -> MyPreferences:
        return cls(**preference_values(row))


@strawberry.type
class MeConsent:
    @strawberry.field(
        description="Your consent for every purpose and channel as it applies now, "
        "defaults marked."
    )
    async def consents(self, info: Info) -> list[MyConsent]:
        ctx = info.context
        statuses = await service.my_consents(ctx.session, ctx.actor)
        return [MyConsent.of(s) for s in statuses]

    @strawberry.field(
        description="Every consent decision recorded for you, newest first."
    )
    async def consent_history(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[MyConsentEvent]:
        ctx = info.context
        listed = await service.my_history(
            ctx.session, ctx.actor, page=page_args(first, after, last, before)
        )
        return connection(
            listed.page,
            MyConsentEvent.from_model,
            lambda: count(ctx.session, listed.count_statement),
        )

    @strawberry.field(description="How you like to be contacted.")
    async def preferences(self, info: Info) -> MyPreferences:
        ctx = info.context
        return MyPreferences.of(
            await preferences.my_preferences(ctx.session, ctx.actor)
        )
