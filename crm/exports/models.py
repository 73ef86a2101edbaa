"""Tables of crm.exports: data export requests and the files prepared for them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel

from crm.columns import UTCDateTime, utcnow


class ExportFormat(StrEnum):
    JSON = "json"
    CSV_ZIP = "csv_zip"


class ExportStatus(StrEnum):
    PENDING = "pending"  # waiting for the worker
    PROCESSING = "processing"  # a worker claimed it
    READY = "ready"  # the file can be downloaded until expires_at
    FAILED = "failed"  # the worker gave up after MAX_ATTEMPTS
    EXPIRED = "expired"  # the file was deleted; the request stays on record


class DataExport(SQLModel, table=True):
    """One request for a copy of a customer's data (kept after the file is gone)."""

    __tablename__ = "data_export"
    __table_args__ = (
        Index("ix_data_export_customer_id_id", "customer_id", "id"),
        Index("ix_data_export_status_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False
        )
    )
    format: str = Field(sa_column=Column(String(20), nullable=False))
    status: str = Field(
        default=ExportStatus.PENDING.value,
        sa_column=Column(String(20), nullable=False),
    )
    requested_by_kind: str = Field(sa_column=Column(String(20), nullable=False))
    requested_by: str = Field(sa_column=Column(String(100), nullable=False))
    requested_by_label: str = Field(sa_column=Column(String(200), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(String(500)))
    requested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    ready_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    record_count: int | None = Field(default=None, sa_column=Column(Integer))
    byte_size: int | None = Field(default=None, sa_column=Column(Integer))
    sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    error: str | None = Field(default=None, sa_column=Column(String(500)))
    download_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    last_downloaded_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime())
    )


class DataExportFile(SQLModel, table=True):
    """The prepared file of an export, in the database so that any API worker can
    serve it; deleted when the export expires."""

    __tablename__ = "data_export_file"

    export_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("data_export.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    media_type: str = Field(sa_column=Column(String(100), nullable=False))
    file_name: str = Field(sa_column=Column(String(200), nullable=False))
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
