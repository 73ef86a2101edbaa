"""CSV and JSON lines on disk: columns, reading with line numbers, atomic writing."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from crm import events
from crm.customers.service import EDITABLE_FIELDS as CUSTOMER_FIELDS
from crm.errors import BadInput
from crm.interactions.service import EDITABLE_FIELDS as INTERACTION_FIELDS

Kind = Literal["customers", "interactions"]
Format = Literal["csv", "jsonl"]
Progress = Callable[[int], None]

# Owners are not exported: staff IDs differ between installations.
CUSTOMER_COLUMNS: tuple[str, ...] = tuple(f for f in CUSTOMER_FIELDS if f != "owner_id")
INTERACTION_COLUMNS: tuple[str, ...] = (
    "customer_external_ref",
    "customer_email",
    "external_ref",
    *INTERACTION_FIELDS,
)
SUFFIXES: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass
class Rejected:
    """A line that was not applied; `line` is 1-based (a CSV header is line 1)."""

    line: int
    reason: str
    field: str | None
    record: dict[str, Any]


@dataclass
class Raw:
    """One record as read: CSV cells by column, or one JSON object."""

    line: int
    data: dict[str, Any]


def format_of(path: Path, fmt: str | None) -> Format:
    """The format given, or the one the file's suffix names."""
    if fmt is None:
        if path.suffix.lower() not in SUFFIXES:
            raise BadInput(
                f"Cannot tell the format of {path.name}; name it .csv or .jsonl.",
                field="fmt",
            )
        return SUFFIXES[path.suffix.lower()]
    if fmt not in ("csv", "jsonl"):
        raise BadInput(f"{fmt!r} is not a format; use csv or jsonl.", field="fmt")
    return fmt  # type: ignore[return-value]


def check_kind(kind: str) -> None:
    """Refuse a kind other than customers or interactions."""
    if kind not in ("customers", "interactions"):
        raise BadInput(f"{kind!r} is not customers or interactions.", field="kind")


# Reading ---------------------------------------------------------------------


def _decoded(lines: IO[bytes], bad: set[int]) -> Iterator[str]:
    """Lines as text; a line that is not UTF-8 is noted, never silently altered."""
    for number, line in enumerate(lines, 1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(number)
            yield line.decode("utf-8", errors="replace")


def read_csv(path: Path) -> Iterator[Raw | Rejected]:
    """Each CSV record by column, or why its line cannot be read."""
    bad: set[int] = set()
    with path.open("rb") as lines:
        reader = csv.reader(_decoded(lines, bad), strict=True)
        header: list[str] | None = None
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Rejected(start, f"MALFORMED: {exc}.", None, {})
                continue
            if not cells:
                continue
            if bad.intersection(range(start, reader.line_num + 1)):
                if header is None:
                    raise BadInput("The CSV header is not UTF-8.", field="path")
                reason = "INVALID_ENCODING: the line is not valid UTF-8."
                yield Rejected(start, reason, None, {"cells": cells})
            elif header is None:
                header = [c.strip() for c in cells]
                twice = sorted({c for c in header if header.count(c) > 1})
                if twice:
                    raise BadInput(f"The CSV header repeats {twice}.", field="path")
            elif len(cells) != len(header):
                reason = f"MALFORMED: {len(cells)} cells; the header has {len(header)}."
                yield Rejected(start, reason, None, {"cells": cells})
            else:
                yield Raw(start, dict(zip(header, cells, strict=True)))


def read_jsonl(path: Path) -> Iterator[Raw | Rejected]:
    """Each JSON object of a file, or why its line cannot be read."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                text = line.decode("utf-8", errors="replace").rstrip("\r\n")[:1000]
                yield Rejected(
                    number, f"MALFORMED: not valid JSON ({exc}).", None, {"text": text}
                )
                continue
            if isinstance(value, dict):
                yield Raw(number, value)
            else:
                reason = "MALFORMED: a line must hold one JSON object."
                yield Rejected(number, reason, None, {"value": value})


# Writing ---------------------------------------------------------------------


def csv_cell(name: str, value: Any) -> str:
    """A value as CSV text; tags holding ";" are written as a JSON array."""
    if value is None:
        return ""
    if name == "tags":
        if any(";" in tag or tag.startswith("[") for tag in value):
            return orjson.dumps(value).decode()
        return ";".join(value)
    if name == "attributes":
        return orjson.dumps(value).decode() if value else ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class Writer:
    """Writes records to `path` + ".part" and moves it into place when closed."""

    def __init__(self, path: Path, is_csv: bool, columns: tuple[str, ...]) -> None:
        self.path, self.is_csv, self.columns = path, is_csv, columns
        self.part = path.with_name(path.name + ".part")
        self.file = self.part.open("w", encoding="utf-8", newline="")
        self.csv = csv.writer(self.file)
        if is_csv:
            self.csv.writerow(columns)

    def write(self, record: dict[str, Any]) -> None:
        if self.is_csv:
            self.csv.writerow([csv_cell(n, record[n]) for n in self.columns])
        else:
            self.file.write(orjson.dumps(events.jsonable(record)).decode() + "\n")

    def close(self, *, complete: bool) -> None:
        self.file.close()
        if complete:
            self.part.replace(self.path)
        else:
            self.part.unlink(missing_ok=True)
