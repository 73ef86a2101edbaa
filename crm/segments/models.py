"""Tables of crm.segments: segment definitions and membership stints."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from crm.columns import JSONDoc, UTCDateTime, utcnow


class SegmentKind(StrEnum):
    DYNAMIC = "dynamic"
    STATIC = "static"


class Segment(SQLModel, table=True):
    """A group of customers: by a rule (dynamic) or hand-picked (static)."""

    __tablename__ = "segment"
    __table_args__ = (
        Index("ix_segment_name_id", "name", "id"),
        Index("ix_segment_created_at_id", "created_at", "id"),
        Index("ix_segment_size_id", "size", "id"),
        Index("ix_segment_kind_refreshed_at", "kind", "refreshed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    kind: str = Field(
        default=SegmentKind.DYNAMIC.value, sa_column=Column(String(20), nullable=False)
    )
    # The rule of a dynamic segment, in the customers(where:) language (normalized).
    rule: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDoc))
    customer_visible: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False)
    )
    customer_name: str | None = Field(default=None, sa_column=Column(String(200)))
    customer_description: str | None = Field(default=None, sa_column=Column(Text))
    builtin_key: str | None = Field(
        default=None, sa_column=Column(String(40), unique=True)
    )
    size: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    refreshed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))

    __mapper_args__ = {"version_id_col": version.sa_column}  # type: ignore[attr-defined]


class SegmentMembership(SQLModel, table=True):
    """One stint of a customer in a segment: current while `left_at` is null."""

    __tablename__ = "segment_membership"
    __table_args__ = (
        # At most one current stint per customer and segment; also the members list.
        Index(
            "ux_segment_membership_current",
            "segment_id",
            "customer_id",
            unique=True,
            sqlite_where=text("left_at IS NULL"),
            postgresql_where=text("left_at IS NULL"),
        ),
        # Customer.segments and me.segments.
        Index("ix_segment_membership_customer", "customer_id", "segment_id"),
        Index("ix_segment_membership_segment_entered", "segment_id", "entered_at"),
        Index("ix_segment_membership_segment_left", "segment_id", "left_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    segment_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("segment.id", ondelete="CASCADE"), nullable=False
        )
    )
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False
        )
    )
    entered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    left_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
