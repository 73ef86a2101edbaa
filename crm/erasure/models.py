"""Erasure requests: the right to be forgotten, asked for and carried out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from crm.columns import UTCDateTime, utcnow


class ErasureStatus(StrEnum):
    PENDING = "pending"
    CARRIED_OUT = "carried_out"
    DECLINED = "declined"


class ErasureSource(StrEnum):
    """Who asked: the customer in their own view, or the firm's staff."""

    CUSTOMER = "customer"
    STAFF = "staff"


class ErasureRequest(SQLModel, table=True):
    __tablename__ = "erasure_request"
    __table_args__ = (
        Index("ix_erasure_request_customer", "customer_id", "id"),
        Index("ix_erasure_request_status_due", "status", "due_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False
        )
    )
    status: str = Field(sa_column=Column(String(20), nullable=False))
    source: str = Field(sa_column=Column(String(20), nullable=False))
    # The customer's own words; cleared when the request is carried out.
    reason: str | None = Field(default=None, sa_column=Column(String(1000)))
    requested_by: str = Field(sa_column=Column(String(100), nullable=False))
    requested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # End of the review window: a pending request is carried out from then on.
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    decided_by: str | None = Field(default=None, sa_column=Column(String(100)))
    decided_by_label: str | None = Field(default=None, sa_column=Column(String(200)))
    decided_by_role: str | None = Field(default=None, sa_column=Column(String(20)))
    decision_reason: str | None = Field(default=None, sa_column=Column(String(1000)))
