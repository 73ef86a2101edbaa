"""Reads of customer records by the firm, aggregated per reader and day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from crm.columns import UTCDateTime


class AccessView(SQLModel, table=True):
    """How often one staff member or partner app read one customer on one day.

    Written in bulk by crm.access.recorder, never inside the request that read.
    """

    __tablename__ = "access_view"
    __table_args__ = (
        UniqueConstraint("customer_id", "actor_ref", "day"),
        Index("ix_access_view_customer_seen", "customer_id", "last_seen_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False
        )
    )
    actor_kind: str = Field(sa_column=Column(String(20), nullable=False))
    actor_ref: str = Field(sa_column=Column(String(100), nullable=False))
    # Name and role when first seen that day (the staff row may change later).
    actor_label: str = Field(sa_column=Column(String(200), nullable=False))
    actor_role: str | None = Field(default=None, sa_column=Column(String(20)))
    day: date = Field(sa_column=Column(Date, nullable=False))
    first_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    views: int = Field(sa_column=Column(Integer, nullable=False))
