"""The customer's own view: the `me` root."""

from __future__ import annotations

import strawberry

from schema.context import Info
from schema.me.permissions import IsCustomer
from schema.me.types import Me
from schema.permissions import gate
from schema.planner import roots as planner


@strawberry.type
class MeQueries:
    @strawberry.field(
        description="Your own view, for a signed-in customer (staff and partner "
        "apps use the firm's fields instead).",
        extensions=gate(IsCustomer()),
    )
    async def me(self, info: Info) -> Me:
        planned = await planner.me(info)
        if planned is not None:
            return planned  # type: ignore[return-value]
        return Me()
