"""Tables of crm.consent: the consent ledger, its current state, contact preferences.

`consent_event` is append-only: rows are inserted, never deleted, and a decision is
never changed (erasure alone clears the free-text `evidence`: docs/consent.md).
`consent_state` holds, per (customer, purpose, channel), the decision that
currently applies (the latest by `occurred_at`, then ledger id), maintained in the
same transaction as the ledger row, so a check is one indexed lookup.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from crm.columns import UTCDateTime, utcnow


class ConsentPurpose(StrEnum):
    """What the customer's data or attention may be used for."""

    MARKETING = "marketing"
    PROFILING = "profiling"
    PARTNER_SHARING = "partner_sharing"
    RESEARCH = "research"

    @property
    def default_granted(self) -> bool:
        """The state that applies while the customer never decided."""
        return self in DEFAULT_GRANTED

    @property
    def per_channel(self) -> bool:
        """Whether the purpose is decided per contact channel (else only `any`)."""
        return self in PER_CHANNEL


# Profiling and partner sharing rest on legitimate interest / the contract: they
# apply until withdrawn. Marketing and research need an opt-in.
DEFAULT_GRANTED = frozenset({ConsentPurpose.PROFILING, ConsentPurpose.PARTNER_SHARING})
# Purposes that contact the customer are decided per channel; the others use `any`.
PER_CHANNEL = frozenset({ConsentPurpose.MARKETING, ConsentPurpose.RESEARCH})


class ConsentChannel(StrEnum):
    """The channel a consent covers; `any` covers every channel of the purpose."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"
    PUSH = "push"
    ANY = "any"


class ContactChannel(StrEnum):
    """A channel the customer can be contacted on (a preference names one)."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"
    PUSH = "push"


class ConsentSource(StrEnum):
    """Where a consent decision was given."""

    CUSTOMER = "customer"  # the customer, in their own view (self-service)
    STAFF = "staff"  # told to a staff member (in person, at the counter)
    WEB_FORM = "web_form"
    PAPER_FORM = "paper_form"
    PHONE_CALL = "phone_call"
    EMAIL = "email"
    EVENT = "event"
    PARTNER = "partner"
    IMPORT = "import"


class ContactFrequency(StrEnum):
    """How often the customer is willing to be contacted (marketing, news)."""

    ANY = "any"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    NEVER = "never"


class ConsentEvent(SQLModel, table=True):
    """One consent decision, as recorded: append-only."""

    __tablename__ = "consent_event"
    __table_args__ = (
        Index("ix_consent_event_customer_occurred", "customer_id", "occurred_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False
        )
    )
    purpose: str = Field(sa_column=Column(String(30), nullable=False))
    channel: str = Field(sa_column=Column(String(20), nullable=False))
    granted: bool = Field(sa_column=Column(Boolean, nullable=False))
    source: str = Field(sa_column=Column(String(20), nullable=False))
    evidence: str | None = Field(default=None, sa_column=Column(String(1000)))
    recorded_by: str = Field(sa_column=Column(String(100), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ConsentState(SQLModel, table=True):
    """The decision that applies now to one (customer, purpose, channel)."""

    __tablename__ = "consent_state"
    __table_args__ = (
        UniqueConstraint("customer_id", "purpose", "channel"),
        Index("ix_consent_state_purpose_channel", "purpose", "channel", "granted"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False
        )
    )
    purpose: str = Field(sa_column=Column(String(30), nullable=False))
    channel: str = Field(sa_column=Column(String(20), nullable=False))
    granted: bool = Field(sa_column=Column(Boolean, nullable=False))
    source: str = Field(sa_column=Column(String(20), nullable=False))
    event_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("consent_event.id", ondelete="CASCADE"), nullable=False
        )
    )
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ContactPreference(SQLModel, table=True):
    """How the customer likes to be contacted; one row per customer, once stated."""

    __tablename__ = "contact_preference"
    __table_args__ = (
        Index("ix_contact_preference_channel", "preferred_channel"),
        Index("ix_contact_preference_frequency", "contact_frequency"),
    )

    customer_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("customer.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    preferred_channel: str | None = Field(default=None, sa_column=Column(String(20)))
    contact_frequency: str | None = Field(default=None, sa_column=Column(String(20)))
    language: str | None = Field(default=None, sa_column=Column(String(35)))
    updated_by: str = Field(sa_column=Column(String(100), nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
