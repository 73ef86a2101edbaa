"""Staff members of the firm: who signs in to the staff UI."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from crm.columns import UTCDateTime, utcnow


class StaffMember(SQLModel, table=True):
    __tablename__ = "staff_member"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(320), nullable=False))
    email_key: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    display_name: str = Field(sa_column=Column(String(200), nullable=False))
    role: str = Field(sa_column=Column(String(20), nullable=False))
    password_hash: str | None = Field(default=None, sa_column=Column(String(200)))
    external_ref: str | None = Field(
        default=None, sa_column=Column(String(200), unique=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    archived_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
