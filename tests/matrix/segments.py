"""Permission-matrix entries for the segments root fields (see tests/matrix/core.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.permissions import Permission
from crm.segments import service
from tests.client import SYSTEM
from tests.matrix.core import ERRORS, Op, World, gid, input_of, mutation

P = Permission
SEGMENT = "segment { id size }"


def _members(w: World) -> dict[str, object]:
    return {
        "segmentId": gid("Segment", w.extra["static_segment"]),
        "customerIds": [gid("Customer", w.customer)],
    }


OPERATIONS: dict[tuple[str, str], Op] = {
    ("Query", "segments"): Op(
        "{ segments(first: 5) { totalCount nodes { id } } }", gate=P.SEGMENTS_READ
    ),
    ("Query", "segment"): Op(
        "query($id: ID!) { segment(id: $id) { id name } }",
        lambda w: {"id": gid("Segment", w.extra["segment"])},
        gate=P.SEGMENTS_READ,
    ),
    ("Query", "segmentPreview"): Op(
        "query($rule: SegmentRule!) { segmentPreview(rule: $rule, first: 3) "
        "{ count customers { nodes { id } } } }",
        lambda w: {"rule": {"tags": {"has": "matrix"}}},
        gate=P.SEGMENTS_READ,
        # The customers it lists must be visible.
        also=frozenset({P.CUSTOMERS_READ}),
    ),
    ("Mutation", "segmentCreate"): mutation(
        "segmentCreate",
        "SegmentCreateInput",
        f"{SEGMENT} {ERRORS}",
        variables=input_of(
            lambda w: {"name": "Created in the matrix", "kind": "STATIC"}
        ),
        gate=P.SEGMENTS_MANAGE,
    ),
    ("Mutation", "segmentUpdate"): mutation(
        "segmentUpdate",
        "SegmentUpdateInput",
        f"{SEGMENT} {ERRORS}",
        variables=input_of(
            lambda w: {"id": gid("Segment", w.extra["segment"]), "name": "Renamed"}
        ),
        gate=P.SEGMENTS_MANAGE,
        also=frozenset({P.SEGMENTS_READ}),
    ),
    ("Mutation", "segmentDelete"): mutation(
        "segmentDelete",
        "SegmentIdInput",
        f"deletedId {ERRORS}",
        variables=input_of(
            lambda w: {"id": gid("Segment", w.extra["segment_to_delete"])}
        ),
        gate=P.SEGMENTS_MANAGE,
        also=frozenset({P.SEGMENTS_READ}),
    ),
    ("Mutation", "segmentRefresh"): mutation(
        "segmentRefresh",
        "SegmentIdInput",
        f"{SEGMENT} entered left {ERRORS}",
        variables=input_of(lambda w: {"id": gid("Segment", w.extra["segment"])}),
        gate=P.SEGMENTS_MANAGE,
        also=frozenset({P.SEGMENTS_READ}),
    ),
    ("Mutation", "segmentMembersAdd"): mutation(
        "segmentMembersAdd",
        "SegmentMembersInput",
        f"{SEGMENT} entered {ERRORS}",
        variables=input_of(_members),
        gate=P.SEGMENTS_MANAGE,
        also=frozenset({P.SEGMENTS_READ, P.CUSTOMERS_READ}),
    ),
    ("Mutation", "segmentMembersRemove"): mutation(
        "segmentMembersRemove",
        "SegmentMembersInput",
        f"{SEGMENT} left {ERRORS}",
        variables=input_of(_members),
        gate=P.SEGMENTS_MANAGE,
        also=frozenset({P.SEGMENTS_READ, P.CUSTOMERS_READ}),
    ),
}


async def build(session: AsyncSession, world: World) -> dict[str, int]:
    """The rows these operations work on, by name (world.extra)."""

    async def segment(name: str, **fields: object) -> int:
        made = await service.create_segment(session, SYSTEM, {"name": name, **fields})
        assert made.id is not None
        return made.id

    return {
        "segment": await segment("Matrix", rule={"tags": {"has": "matrix"}}),
        "segment_to_delete": await segment("To delete", kind="static"),
        "static_segment": await segment("Static", kind="static"),
    }
