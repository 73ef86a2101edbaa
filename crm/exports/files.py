"""The files of an export: one JSON document, or CSV files in a zip for people."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from crm.exports.models import ExportFormat
from crm.exports.sections import Document

DOCUMENT_FORMAT = "mutual.data-export/1"
ABOUT = (
    "A copy of the personal data the firm holds about you and discloses to you "
    "(your right of access and to data portability): your profile, the "
    "interactions shared with you, your consents with their history, the "
    "insights and segments published to you, your correction requests and who "
    "at the firm accessed your record."
)
# Characters that make a spreadsheet read a cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    media_type: str
    file_name: str


def envelope(
    document: Document, *, customer_ref: str, generated_at: datetime
) -> dict[str, Any]:
    """The JSON document: what it is, when it was made, and every section."""
    return {
        "format": DOCUMENT_FORMAT,
        "about": ABOUT,
        "customer": customer_ref,
        "generated_at": generated_at.isoformat(),
        "sections": document.sections,
    }


def _stamp(generated_at: datetime) -> str:
    return generated_at.strftime("%Y%m%dT%H%M%SZ")


def json_file(body: dict[str, Any], generated_at: datetime) -> ExportFile:
    return ExportFile(
        content=orjson.dumps(body, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        file_name=f"my-data-{_stamp(generated_at)}.json",
    )


def _cell(value: Any) -> str:
    """A value as a spreadsheet shows it: nested values as JSON, text that would be
    read as a formula prefixed with an apostrophe (numbers are left alone)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    text = str(value)
    if text.startswith(_FORMULA_START) and not isinstance(value, int | float):
        try:
            Decimal(text)
        except InvalidOperation:
            return "'" + text
    return text


def _csv(columns: tuple[str, ...], records: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(name)) for name in columns])
    # A BOM so that spreadsheet programs read the file as UTF-8.
    return buffer.getvalue().encode("utf-8-sig")


def zip_file(
    document: Document, body: dict[str, Any], generated_at: datetime
) -> ExportFile:
    """One CSV per section (header row first, also when empty) and a README."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        readme = [
            ABOUT,
            "",
            f"Generated at {body['generated_at']} for {body['customer']}.",
            "One CSV file per section (UTF-8, comma-separated, header row first):",
            *(
                f"- {name}.csv: {len(records)} record(s)"
                for name, records in document.sections.items()
            ),
            "",
        ]
        archive.writestr("README.txt", "\n".join(readme))
        for name, records in document.sections.items():
            archive.writestr(f"{name}.csv", _csv(document.columns[name], records))
    return ExportFile(
        content=buffer.getvalue(),
        media_type="application/zip",
        file_name=f"my-data-{_stamp(generated_at)}.zip",
    )


def encode(
    document: Document,
    fmt: ExportFormat,
    *,
    customer_ref: str,
    generated_at: datetime,
) -> tuple[ExportFile, dict[str, Any]]:
    """The file of `fmt` and the JSON document it was made from."""
    body = envelope(document, customer_ref=customer_ref, generated_at=generated_at)
    if fmt is ExportFormat.JSON:
        return json_file(body, generated_at), body
    return zip_file(document, body, generated_at), body
