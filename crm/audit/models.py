"""Audit events (who changed what) and the outbox (what to tell the outside)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, String
from sqlmodel import Field, SQLModel

from crm.columns import JSONDoc, UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity_type", "entity_id", "id"),
        Index("ix_audit_event_actor", "actor_ref", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    actor_kind: str = Field(sa_column=Column(String(20), nullable=False))
    actor_ref: str = Field(sa_column=Column(String(100), nullable=False))
    actor_label: str = Field(sa_column=Column(String(200), nullable=False))
    action: str = Field(sa_column=Column(String(60), nullable=False))
    entity_type: str = Field(sa_column=Column(String(40), nullable=False))
    entity_id: int = Field(sa_column=Column(Integer, nullable=False))
    changes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONDoc, nullable=False)
    )


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "delivered_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    topic: str = Field(sa_column=Column(String(60), nullable=False))
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONDoc, nullable=False)
    )
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
