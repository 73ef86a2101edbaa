"""Permission-matrix entries for the segments root fields (see tests/matrix/core.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tests.matrix.core import Op, World

OPERATIONS: dict[tuple[str, str], Op] = {}


async def build(session: AsyncSession, world: World) -> dict[str, int]:
    """The rows these operations work on, by name (world.extra)."""
    return {}
