"""Partner apps (integrations) and their API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from crm.columns import JSONDoc, UTCDateTime, utcnow


class PartnerApp(SQLModel, table=True):
    __tablename__ = "partner_app"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(2000)))
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    archived_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class ApiKey(SQLModel, table=True):
    """A key is shown once; only its SHA-256 is kept, found by its visible prefix."""

    __tablename__ = "api_key"
    __table_args__ = (Index("ix_api_key_partner_app_id", "partner_app_id"),)

    id: int | None = Field(default=None, primary_key=True)
    partner_app_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("partner_app.id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(sa_column=Column(String(200), nullable=False))
    prefix: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    secret_hash: str = Field(sa_column=Column(String(64), nullable=False))
    scopes: list[str] = Field(
        default_factory=list, sa_column=Column(JSONDoc, nullable=False)
    )
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
