"""The customer record."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from crm.columns import JSONDoc, UTCDateTime, utcnow


class LifecycleStage(StrEnum):
    LEAD = "lead"
    PROSPECT = "prospect"
    ACTIVE = "active"
    CHURNED = "churned"


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        Index("ix_customer_created_at_id", "created_at", "id"),
        Index("ix_customer_updated_at_id", "updated_at", "id"),
        Index("ix_customer_display_name_id", "display_name", "id"),
        # The stage filter with "not archived" (the default) from the index alone,
        # ids included: relation-filter counts join on them (docs/search.md).
        Index(
            "ix_customer_lifecycle_stage_archived_id",
            "lifecycle_stage",
            "archived_at",
            "id",
        ),
        Index("ix_customer_owner_id", "owner_id"),
        Index("ix_customer_company", "company"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_ref: str | None = Field(
        default=None, sa_column=Column(String(200), unique=True)
    )
    email: str | None = Field(default=None, sa_column=Column(String(320)))
    email_key: str | None = Field(
        default=None, sa_column=Column(String(320), unique=True)
    )
    phone: str | None = Field(default=None, sa_column=Column(String(40)))
    given_name: str | None = Field(default=None, sa_column=Column(String(200)))
    family_name: str | None = Field(default=None, sa_column=Column(String(200)))
    display_name: str = Field(sa_column=Column(String(200), nullable=False))
    company: str | None = Field(default=None, sa_column=Column(String(200)))
    locale: str | None = Field(default=None, sa_column=Column(String(35)))
    time_zone: str | None = Field(default=None, sa_column=Column(String(64)))
    lifecycle_stage: str = Field(
        default=LifecycleStage.LEAD.value,
        sa_column=Column(String(20), nullable=False),
    )
    tags: list[str] = Field(
        default_factory=list, sa_column=Column(JSONDoc, nullable=False)
    )
    attributes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONDoc, nullable=False)
    )
    owner_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("staff_member.id", ondelete="SET NULL"), nullable=True
        ),
    )
    search_text: str = Field(default="", sa_column=Column(String(1200), nullable=False))
    merged_into_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="SET NULL"), nullable=True
        ),
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    archived_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set when the customer's personal data was erased (crm.erasure): the row stays
    # as an anonymous shell so that financial records keep their customer.
    erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))

    __mapper_args__ = {"version_id_col": version.sa_column}  # type: ignore[attr-defined]
