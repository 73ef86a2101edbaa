"""Data exports as the customer and the firm read them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.exports import links
from crm.exports.models import DataExport as DataExportModel
from crm.exports.models import ExportFormat, ExportStatus
from crm.exports.service import downloadable
from schema.context import Info
from schema.relay import Connection, Edge, Node, PageInfo, global_id

# The name of the HTTP route serving files (api/downloads.py).
DOWNLOAD_ROUTE = "data_export_download"
DOWNLOAD_PATH = "/exports/{token}"

strawberry.enum(
    ExportFormat,
    name="DataExportFormat",
    description="JSON: one document for programs. CSV_ZIP: one CSV file per "
    "section in a zip, for people (spreadsheets).",
)
strawberry.enum(
    ExportStatus,
    name="DataExportStatus",
    description="PENDING: queued. PROCESSING: being prepared. READY: downloadable "
    "until expiresAt. FAILED: could not be prepared; ask again. EXPIRED: the file "
    "was deleted; the request stays on record.",
)


@strawberry.type(description="A link to download an export's file.")
class DataExportDownload:
    url: str = strawberry.field(
        description="Fetch with GET, no credentials needed: the link itself is "
        "the key. Valid for 15 minutes and for this export only."
    )
    expires_at: datetime = strawberry.field(description="When the link stops working.")
    content_type: str = strawberry.field(
        description="application/json or application/zip."
    )


def download_url(info: Info, token: str) -> str:
    """The absolute URL of the download route when the request knows its host."""
    request = info.context.request
    if request is not None:
        try:
            return str(request.url_for(DOWNLOAD_ROUTE, token=token))
        except Exception:  # no router in scope (e.g. the schema run on its own)
            pass
    return DOWNLOAD_PATH.format(token=token)


def download_of(info: Info, model: DataExportModel) -> DataExportDownload | None:
    """A fresh link for the caller, while the file is there."""
    if not downloadable(model):
        return None
    assert model.id is not None
    issued = links.issue_link(
        info.context.signer,
        export_id=model.id,
        customer_id=model.customer_id,
        holder=info.context.actor.ref,
    )
    json = model.format == ExportFormat.JSON.value
    return DataExportDownload(
        url=download_url(info, issued.token),
        expires_at=issued.expires_at,
        content_type="application/json" if json else "application/zip",
    )


@strawberry.type(description="A copy of your data you asked for, and its file.")
class MyDataExport(Node):
    format: ExportFormat = strawberry.field(description="The file's format.")
    status: ExportStatus = strawberry.field(description="Where the export stands.")
    requested_at: datetime = strawberry.field(description="When it was asked for.")
    ready_at: datetime | None = strawberry.field(description="When the file was ready.")
    expires_at: datetime | None = strawberry.field(
        description="When the file is deleted (the request stays on record)."
    )
    record_count: int | None = strawberry.field(
        description="How many records the file holds, all sections together."
    )
    byte_size: int | None = strawberry.field(description="The file's size in bytes.")
    sha256: str | None = strawberry.field(
        description="SHA-256 of the file (hex), to check a download."
    )
    model_: strawberry.Private[DataExportModel]

    @strawberry.field(
        description="A fresh 15-minute link to the file while it is READY; null "
        "otherwise."
    )
    def download(self, info: Info) -> DataExportDownload | None:
        return download_of(info, self.model_)

    @classmethod
    def from_model(cls, model: DataExportModel) -> MyDataExport:
        return cls(
            id=global_id("DataExport", model.id),
            format=ExportFormat(model.format),
            status=ExportStatus(model.status),
            requested_at=model.requested_at,
            ready_at=model.ready_at,
            expires_at=model.expires_at,
            record_count=model.record_count,
            byte_size=model.byte_size,
            sha256=model.sha256,
            model_=model,
        )


@strawberry.type(description="Who asked for an export.")
class DataExportRequester:
    kind: str = strawberry.field(description="customer, staff or system.")
    ref: str = strawberry.field(description="kind:id of the requester.")
    label: str = strawberry.field(description="Their name at the time.")


@strawberry.type(
    description="A customer's data export request (data-subject access request)."
)
class DataExport(MyDataExport):
    customer_id: strawberry.ID = strawberry.field(
        description="Global ID of the customer whose data it holds."
    )
    requested_by: DataExportRequester = strawberry.field(
        description="The customer themselves, or the staff member who took it."
    )
    reason: str | None = strawberry.field(
        description="Why staff took the request (e.g. asked by phone)."
    )
    download_count: int = strawberry.field(
        description="How many times the file was downloaded."
    )
    last_downloaded_at: datetime | None = strawberry.field(
        description="When it was last downloaded."
    )

    @classmethod
    def from_model(cls, model: DataExportModel) -> DataExport:
        return cls(
            id=global_id("DataExport", model.id),
            format=ExportFormat(model.format),
            status=ExportStatus(model.status),
            requested_at=model.requested_at,
            ready_at=model.ready_at,
            expires_at=model.expires_at,
            record_count=model.record_count,
            byte_size=model.byte_size,
            sha256=model.sha256,
            model_=model,
            customer_id=global_id("Customer", model.customer_id),
            requested_by=DataExportRequester(
                kind=model.requested_by_kind,
                ref=model.requested_by,
                label=model.requested_by_label,
            ),
            reason=model.reason,
            download_count=model.download_count,
            last_downloaded_at=model.last_downloaded_at,
        )


@strawberry.type(description="One of your exports and its cursor.")
class MyDataExportEdge(Edge[MyDataExport]):
    cursor: str = strawberry.field(
        description="Where the item sits: pass it as `after` or `before`."
    )
    node: MyDataExport = strawberry.field(description="The export.")


@strawberry.type(description="A page of your exports, newest first.")
class MyDataExportConnection(Connection[MyDataExport]):
    edges: list[MyDataExportEdge] = strawberry.field(  # type: ignore[assignment]
        description="The page's items with their cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where the page sits.")


@strawberry.type(description="One export and its cursor.")
class DataExportEdge(Edge[DataExport]):
    cursor: str = strawberry.field(
        description="Where the item sits: pass it as `after` or `before`."
    )
    node: DataExport = strawberry.field(description="The export.")


@strawberry.type(description="A page of a customer's exports, newest first.")
class DataExportConnection(Connection[DataExport]):
    edges: list[DataExportEdge] = strawberry.field(  # type: ignore[assignment]
        description="The page's items with their cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where the page sits.")
