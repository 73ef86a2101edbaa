"""Permission-matrix entries for the self-service root fields (tests/matrix/core.py):
corrections, erasure requests (the access log is a field of `me` and Customer)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from crm.columns import utcnow
from crm.corrections.models import CorrectionStatus, ProfileCorrection
from crm.customers.models import Customer
from crm.erasure.models import ErasureRequest, ErasureSource, ErasureStatus
from tests.matrix.core import ERRORS, Audience, Op, World, gid, input_of, mutation
from tests.matrix.core import P as Perm

OPERATIONS: dict[tuple[str, str], Op] = {
    ("Query", "corrections"): Op(
        "{ corrections(first: 5) { totalCount nodes { id status } } }",
        gate=Perm.CORRECTIONS_REVIEW,
    ),
    ("Query", "erasureRequests"): Op(
        "{ erasureRequests(first: 5) { totalCount nodes { id status } } }",
        gate=Perm.ERASURE_MANAGE,
    ),
    ("Mutation", "myProfileCorrectionRequest"): mutation(
        "myProfileCorrectionRequest",
        "MyProfileCorrectionRequestInput",
        f"corrections {{ id status }} {ERRORS}",
        variables=input_of(lambda w: {"changes": {"timeZone": "Asia/Tokyo"}}),
        audience=Audience.CUSTOMER,
    ),
    ("Mutation", "correctionApprove"): mutation(
        "correctionApprove",
        "CorrectionApproveInput",
        f"correction {{ id status }} {ERRORS}",
        variables=input_of(
            lambda w: {"id": gid("Correction", w.extra["correction_to_approve"])}
        ),
        gate=Perm.CORRECTIONS_REVIEW,
        also=frozenset({Perm.CUSTOMERS_READ}),
    ),
    ("Mutation", "correctionReject"): mutation(
        "correctionReject",
        "CorrectionRejectInput",
        f"correction {{ id status }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "id": gid("Correction", w.extra["correction_to_reject"]),
                "reason": "Not in the matrix",
            }
        ),
        gate=Perm.CORRECTIONS_REVIEW,
        also=frozenset({Perm.CUSTOMERS_READ}),
    ),
    ("Mutation", "myErasureRequest"): mutation(
        "myErasureRequest",
        "MyErasureRequestInput",
        f"erasureRequest {{ status }} {ERRORS}",
        variables=input_of(lambda w: {"confirmation": "ERASE MY DATA"}),
        audience=Audience.CUSTOMER,
    ),
    ("Mutation", "erasureCarryOut"): mutation(
        "erasureCarryOut",
        "ErasureCarryOutInput",
        f"erasureRequest {{ id status }} {ERRORS}",
        variables=input_of(
            lambda w: {"id": gid("ErasureRequest", w.extra["erasure_to_carry_out"])}
        ),
        gate=Perm.ERASURE_MANAGE,
        also=frozenset({Perm.CUSTOMERS_READ}),
    ),
    ("Mutation", "erasureDecline"): mutation(
        "erasureDecline",
        "ErasureDeclineInput",
        f"erasureRequest {{ id status }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "id": gid("ErasureRequest", w.extra["erasure_to_decline"]),
                "reason": "Legal hold",
            }
        ),
        gate=Perm.ERASURE_MANAGE,
        also=frozenset({Perm.CUSTOMERS_READ}),
    ),
    ("Mutation", "customerErase"): mutation(
        "customerErase",
        "CustomerEraseInput",
        f"erasureRequest {{ id status }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "customerId": gid("Customer", w.extra["customer_to_erase"]),
                "reason": "Asked by letter",
            }
        ),
        gate=Perm.ERASURE_MANAGE,
        also=frozenset({Perm.CUSTOMERS_READ}),
    ),
}


async def build(session: AsyncSession, world: World) -> dict[str, int]:
    """The rows these operations work on, by name (world.extra)."""

    async def customer(name: str) -> int:
        row = Customer(display_name=name, search_text=name.lower())
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id

    async def correction(customer_id: int) -> int:
        row = ProfileCorrection(
            customer_id=customer_id,
            status=CorrectionStatus.PENDING.value,
            changes={"company": {"before": None, "after": "Corrected Co"}},
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id

    async def erasure(customer_id: int) -> int:
        now = utcnow()
        row = ErasureRequest(
            customer_id=customer_id,
            status=ErasureStatus.PENDING.value,
            source=ErasureSource.CUSTOMER.value,
            requested_by=f"customer:{customer_id}",
            requested_at=now,
            due_at=now + timedelta(days=7),
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id

    return {
        "correction_to_approve": await correction(await customer("Approve me")),
        "correction_to_reject": await correction(await customer("Reject me")),
        "erasure_to_carry_out": await erasure(await customer("Erase me")),
        "erasure_to_decline": await erasure(await customer("Keep me")),
        "customer_to_erase": await customer("Erase me now"),
    }
