"""Consent checks as SQL expressions, for any query that must respect consent.

Every function takes the customer id column (or expression) of the outer query and
returns a correlated boolean expression: one lookup in the unique index of
`consent_state`. Use them in WHERE clauses (partner scopes, profiling insights,
behavioural segments, marketing filters).

The rule: for a (purpose, channel), the latest decision (by `occurred_at`, then by
ledger order) among the customer's decisions for that channel and for `any` applies;
without any decision the purpose's documented default applies (profiling and partner
sharing granted, marketing and research not).
"""

from __future__ import annotations

from sqlalchemy import Boolean, ColumnElement, exists, false, func, literal, select
from sqlalchemy.orm import Mapped
from sqlmodel import col

from crm.consent.models import ConsentChannel, ConsentPurpose, ConsentState

# A customer id column: `Customer.id`, `Interaction.customer_id`, an alias's column.
CustomerId = ColumnElement[int] | Mapped[int] | Mapped[int | None]


def _withdrawn_any(
    purpose: ConsentPurpose, customer_id: CustomerId
) -> ColumnElement[bool]:
    return exists().where(
        col(ConsentState.customer_id) == customer_id,
        col(ConsentState.purpose) == purpose.value,
        col(ConsentState.channel) == ConsentChannel.ANY.value,
        col(ConsentState.granted) == false(),
    )


def profiling_withdrawn(customer_id: CustomerId) -> ColumnElement[bool]:
    """True when the customer withdrew consent to profiling (insights, segments)."""
    return _withdrawn_any(ConsentPurpose.PROFILING, customer_id)


def partner_sharing_withdrawn(customer_id: CustomerId) -> ColumnElement[bool]:
    """True when the customer withdrew consent to sharing their data with partners."""
    return _withdrawn_any(ConsentPurpose.PARTNER_SHARING, customer_id)


def granted(
    purpose: ConsentPurpose,
    channel: ConsentChannel,
    customer_id: CustomerId,
) -> ColumnElement[bool]:
    """True when `purpose` on `channel` is granted for the customer now.

    For `channel=any` on a per-channel purpose this asks about the customer's
    decision for every channel at once (the `any` row only), not "some channel".
    """
    channels = (
        [ConsentChannel.ANY.value]
        if channel is ConsentChannel.ANY
        else [channel.value, ConsentChannel.ANY.value]
    )
    latest = (
        select(col(ConsentState.granted))
        .where(
            col(ConsentState.customer_id) == customer_id,
            col(ConsentState.purpose) == purpose.value,
            col(ConsentState.channel).in_(channels),
        )
        .order_by(
            col(ConsentState.occurred_at).desc(),
            col(ConsentState.event_id).desc(),
        )
        .limit(1)
        .correlate_except(ConsentState)
        .scalar_subquery()
    )
    return func.coalesce(
        latest, literal(purpose.default_granted, Boolean), type_=Boolean
    )


def withdrawn(
    purpose: ConsentPurpose,
    channel: ConsentChannel,
    customer_id: CustomerId,
) -> ColumnElement[bool]:
    """The negation of `granted` (never NULL: the default fills the gap)."""
    return ~granted(purpose, channel, customer_id)


def partner_visible(customer_id: CustomerId) -> ColumnElement[bool]:
    """The row rule partner keys are held to: partner sharing not withdrawn."""
    return ~partner_sharing_withdrawn(customer_id)
