"""Interactions: every touchpoint with a customer, on any channel."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from crm.columns import Money, UTCDateTime, utcnow


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    WEB = "web"
    STORE = "store"
    SOCIAL = "social"
    SMS = "sms"
    EVENT = "event"
    OTHER = "other"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InteractionKind(StrEnum):
    PURCHASE = "purchase"
    REFUND = "refund"
    SUPPORT = "support"
    VISIT = "visit"
    CAMPAIGN = "campaign"
    FEEDBACK = "feedback"
    NOTE = "note"
    OTHER = "other"


MONETARY_KINDS = frozenset({InteractionKind.PURCHASE, InteractionKind.REFUND})


class Visibility(StrEnum):
    INTERNAL = "internal"
    SHARED = "shared"


class Source(StrEnum):
    STAFF = "staff"
    PARTNER = "partner"
    CUSTOMER = "customer"
    IMPORT = "import"


class Survey(StrEnum):
    """The survey a rating answers: NPS rates 0-10, CSAT rates 1-5."""

    NPS = "nps"
    CSAT = "csat"


SURVEY_RANGES: dict[Survey, tuple[int, int]] = {
    Survey.NPS: (0, 10),
    Survey.CSAT: (1, 5),
}


class FeedbackKind(StrEnum):
    """What a customer's own feedback (co-creation) is: an idea, a request..."""

    IDEA = "idea"
    REQUEST = "request"
    COMPLAINT = "complaint"
    PRAISE = "praise"


class Interaction(SQLModel, table=True):
    __tablename__ = "interaction"
    __table_args__ = (
        Index("ix_interaction_customer_occurred", "customer_id", "occurred_at", "id"),
        # Relation filters ("customers with a purchase since ...") probe this one.
        Index(
            "ix_interaction_customer_kind_occurred",
            "customer_id",
            "kind",
            "occurred_at",
        ),
        Index("ix_interaction_occurred_at_id", "occurred_at", "id"),
        Index("ix_interaction_created_at_id", "created_at", "id"),
        # Newest of a kind or channel; with customer_id, relation-filter counts
        # ("customers with a purchase since ...") read the ids from the index alone.
        Index(
            "ix_interaction_kind_occurred_customer",
            "kind",
            "occurred_at",
            "customer_id",
        ),
        Index(
            "ix_interaction_channel_occurred_customer",
            "channel",
            "occurred_at",
            "customer_id",
        ),
        Index("ix_interaction_reply_to_id", "reply_to_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False
        )
    )
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    channel: str = Field(sa_column=Column(String(20), nullable=False))
    direction: str = Field(sa_column=Column(String(20), nullable=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    subject: str | None = Field(default=None, sa_column=Column(String(500)))
    body: str | None = Field(default=None, sa_column=Column(Text))
    amount: Decimal | None = Field(default=None, sa_column=Column(Money))
    currency: str | None = Field(default=None, sa_column=Column(String(3)))
    cost_to_serve: Decimal | None = Field(default=None, sa_column=Column(Money))
    rating: int | None = Field(default=None, sa_column=Column(Integer))
    sentiment: float | None = Field(default=None, sa_column=Column(Float))
    visibility: str = Field(
        default=Visibility.INTERNAL.value, sa_column=Column(String(20), nullable=False)
    )
    source: str = Field(
        default=Source.STAFF.value, sa_column=Column(String(20), nullable=False)
    )
    external_ref: str | None = Field(
        default=None, sa_column=Column(String(200), unique=True)
    )
    # Feedback: the survey a rating answers, and the interaction this one answers
    # (a rating of a shared interaction, or a staff answer to customer feedback).
    survey: str | None = Field(default=None, sa_column=Column(String(10)))
    feedback_kind: str | None = Field(default=None, sa_column=Column(String(20)))
    reply_to_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("interaction.id", ondelete="SET NULL"), nullable=True
        ),
    )
    recorded_by: str = Field(sa_column=Column(String(100), nullable=False))
    recorded_by_staff_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("staff_member.id", ondelete="SET NULL"), nullable=True
        ),
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))

    __mapper_args__ = {"version_id_col": version.sa_column}  # type: ignore[attr-defined]
