"""Permission-matrix entries for the exports root fields (see tests/matrix/core.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.exports.service import STAFF_READS
from tests.matrix.core import ERRORS, Audience, Op, P, World, gid, input_of, mutation

# Besides the gate (customers:read), the export spans every other read right.
EXPORT_READS = frozenset(STAFF_READS) - {P.CUSTOMERS_READ}

OPERATIONS: dict[tuple[str, str], Op] = {
    ("Query", "customerDataExports"): Op(
        "query($id: ID!) { customerDataExports(customerId: $id, first: 5) "
        "{ totalCount nodes { id } } }",
        lambda w: {"id": gid("Customer", w.customer)},
        gate=P.CUSTOMERS_READ,
        also=EXPORT_READS,
    ),
    ("Mutation", "myDataExport"): mutation(
        "myDataExport",
        "MyDataExportInput",
        f"export {{ id status }} {ERRORS}",
        variables=input_of(lambda w: {"format": "JSON"}),
        audience=Audience.CUSTOMER,
    ),
    ("Mutation", "customerDataExport"): mutation(
        "customerDataExport",
        "CustomerDataExportInput",
        f"export {{ id status }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "customerId": gid("Customer", w.customer),
                "format": "CSV_ZIP",
                "reason": "Asked by phone",
            }
        ),
        gate=P.CUSTOMERS_READ,
        also=EXPORT_READS,
    ),
}


async def build(session: AsyncSession, world: World) -> dict[str, int]:
    """The rows these operations work on, by name (world.extra): the world's
    customer is enough."""
    return {}
