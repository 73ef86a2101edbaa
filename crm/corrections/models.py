"""Profile corrections a customer asked for, and what became of them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from crm.columns import JSONDoc, UTCDateTime, utcnow


class CorrectionStatus(StrEnum):
    """APPLIED at once (low-risk fields), or PENDING until staff APPROVE or REJECT."""

    APPLIED = "applied"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProfileCorrection(SQLModel, table=True):
    """One correction request of a customer's own record.

    `changes` holds {field: {"before": value at request, "after": value asked}}:
    `before` lets an approval notice that the field changed meanwhile.
    """

    __tablename__ = "profile_correction"
    __table_args__ = (
        Index("ix_profile_correction_customer", "customer_id", "id"),
        Index("ix_profile_correction_status", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False
        )
    )
    status: str = Field(sa_column=Column(String(20), nullable=False))
    changes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONDoc, nullable=False)
    )
    reason: str | None = Field(default=None, sa_column=Column(String(1000)))
    requested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    reviewer_ref: str | None = Field(default=None, sa_column=Column(String(100)))
    reviewer_label: str | None = Field(default=None, sa_column=Column(String(200)))
    reviewer_role: str | None = Field(default=None, sa_column=Column(String(20)))
    review_reason: str | None = Field(default=None, sa_column=Column(String(1000)))
