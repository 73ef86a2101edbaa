"""Import and export of customers and interactions as CSV or JSON lines.

Import applies a file line by line in order, in batches of one transaction each:
a line that reuses a key (external_ref or email) of a line in the same batch
closes the batch first, so a later line updates what an earlier one wrote, the
same at any batch size. Every line that is not applied is reported with its line
number and the reason. Export streams in id order and writes to a temporary file
that replaces `path` only when complete.

`formats` reads and writes the files, `importer` and `exporter` do the rest.
"""

from __future__ import annotations

from crm.transfer.exporter import EXPORT_CHUNK, export_file
from crm.transfer.formats import (
    CUSTOMER_COLUMNS,
    INTERACTION_COLUMNS,
    SUFFIXES,
    Format,
    Kind,
    Progress,
    Rejected,
)
from crm.transfer.importer import REQUIRED_INTERACTION_FIELDS, ImportReport, import_file

__all__ = [
    "CUSTOMER_COLUMNS",
    "EXPORT_CHUNK",
    "INTERACTION_COLUMNS",
    "REQUIRED_INTERACTION_FIELDS",
    "SUFFIXES",
    "Format",
    "ImportReport",
    "Kind",
    "Progress",
    "Rejected",
    "export_file",
    "import_file",
]
