"""Field values shared by the firm's and the customer's consent types.

The firm types (schema/consent/types.py) and the customer's own `My*` types
(schema/me/consent.py) stay separate GraphQL types; they only share how a row is
turned into their common field values.
"""

from __future__ import annotations

from typing import Any

from crm.consent.models import ConsentEvent, ContactPreference
from crm.consent.service import ConsentStatus
from schema.consent.enums import (
    ConsentChannel,
    ConsentPurpose,
    ConsentSource,
    ContactChannel,
    ContactFrequency,
)


def consent_status_values(status: ConsentStatus) -> dict[str, Any]:
    """The fields both `Consent` and `MyConsent` show for a consent status."""
    return {
        "purpose": status.purpose,
        "channel": status.channel,
        "granted": status.granted,
        "default": status.default,
        "source": ConsentSource(status.source) if status.source else None,
        "decided_at": status.decided_at,
    }


def consent_event_values(model: ConsentEvent) -> dict[str, Any]:
    """The fields both `ConsentEvent` and `MyConsentEvent` show for a ledger row."""
    return {
        "purpose": ConsentPurpose(model.purpose),
        "channel": ConsentChannel(model.channel),
        "granted": model.granted,
        "source": ConsentSource(model.source),
        "evidence": model.evidence,
        "occurred_at": model.occurred_at,
        "recorded_at": model.recorded_at,
    }


def preference_values(row: ContactPreference | None) -> dict[str, Any]:
    """The fields of `ContactPreferences` and `MyPreferences` (null: never stated)."""
    if row is None:
        return {
            "preferred_channel": None,
            "contact_frequency": None,
            "language": None,
            "updated_at": None,
        }
    return {
        "preferred_channel": (
            ContactChannel(row.preferred_channel) if row.preferred_channel else None
        ),
        "contact_frequency": (
            ContactFrequency(row.contact_frequency) if row.contact_frequency else None
        ),
        "language": row.language,
        "updated_at": row.updated_at,
    }
