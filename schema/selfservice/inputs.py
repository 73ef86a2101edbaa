"""Inputs of corrections and erasure."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from schema.filters import DateTimeFilter
from schema.selfservice.enums import CorrectionStatus, ErasureSource, ErasureStatus


@strawberry.input(description="Conditions on a correction's status.")
class CorrectionStatusFilter:
    eq: CorrectionStatus | None = UNSET
    neq: CorrectionStatus | None = UNSET
    in_: list[CorrectionStatus] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[CorrectionStatus] | None = UNSET


@strawberry.input(description="A filter over corrections.")
class CorrectionWhere:
    status: CorrectionStatusFilter | None = UNSET
    requested_at: DateTimeFilter | None = UNSET


@strawberry.input(description="Conditions on an erasure request's status.")
class ErasureStatusFilter:
    eq: ErasureStatus | None = UNSET
    neq: ErasureStatus | None = UNSET
    in_: list[ErasureStatus] | None = strawberry.field(default=UNSET, name="in")
    not_in: list[ErasureStatus] | None = UNSET


@strawberry.input(description="Conditions on who asked for an erasure.")
class ErasureSourceFilter:
    eq: ErasureSource | None = UNSET
    neq: ErasureSource | None = UNSET


@strawberry.input(description="A filter over erasure requests.")
class ErasureRequestWhere:
    status: ErasureStatusFilter | None = UNSET
    source: ErasureSourceFilter | None = UNSET
    requested_at: DateTimeFilter | None = UNSET
    due_at: DateTimeFilter | None = UNSET


@strawberry.input(
    description="The profile fields to correct; omitted fields stay as they are. "
    "displayName, locale, timeZone and phone apply at once; email, givenName, "
    "familyName and company wait for staff review."
)
class ProfileChangesInput:
    display_name: str | None = strawberry.field(
        default=UNSET,
        description="The name shown for you (null: derived from your names).",
    )
    locale: str | None = strawberry.field(
        default=UNSET, description="Your language, as a BCP 47 tag (e.g. en-GB)."
    )
    time_zone: str | None = strawberry.field(
        default=UNSET, description="Your IANA time zone."
    )
    phone: str | None = strawberry.field(default=UNSET, description="Your phone.")
    email: str | None = strawberry.field(
        default=UNSET, description="Your email address (reviewed)."
    )
    given_name: str | None = strawberry.field(
        default=UNSET, description="Your legal given name (reviewed)."
    )
    family_name: str | None = strawberry.field(
        default=UNSET, description="Your legal family name (reviewed)."
    )
    company: str | None = strawberry.field(
        default=UNSET, description="The company you are with (reviewed)."
    )


@strawberry.input(description="Ask to correct your profile.")
class MyProfileCorrectionRequestInput:
    changes: ProfileChangesInput = strawberry.field(
        description="The fields to correct and their right values."
    )
    reason: str | None = strawberry.field(
        default=None, description="Why (helps the reviewer; at most 1000 characters)."
    )


@strawberry.input(description="Approve a pending correction.")
class CorrectionApproveInput:
    id: strawberry.ID = strawberry.field(description="The correction.")


@strawberry.input(description="Reject a pending correction.")
class CorrectionRejectInput:
    id: strawberry.ID = strawberry.field(description="The correction.")
    reason: str | None = strawberry.field(
        default=None, description="Why (required; the customer sees it)."
    )


@strawberry.input(description="Ask the firm to erase your personal data.")
class MyErasureRequestInput:
    confirmation: str | None = strawberry.field(
        default=None,
        description="Type ERASE MY DATA to confirm: erasure cannot be undone.",
    )
    reason: str | None = strawberry.field(
        default=None, description="Why, if you wish to say (at most 1000 characters)."
    )


@strawberry.input(description="Carry out a pending erasure request now.")
class ErasureCarryOutInput:
    id: strawberry.ID = strawberry.field(description="The erasure request.")


@strawberry.input(description="Decline a pending erasure request.")
class ErasureDeclineInput:
    id: strawberry.ID = strawberry.field(description="The erasure request.")
    reason: str | None = strawberry.field(
        default=None,
        description="Why, e.g. a legal hold (required; the customer sees it).",
    )


@strawberry.input(description="Erase a customer's personal data now.")
class CustomerEraseInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    reason: str | None = strawberry.field(
        default=None, description="Why (required; kept with the erasure record)."
    )
