"""viewer: who the caller is."""

from __future__ import annotations

import strawberry

from crm.actors import StaffActor
from crm.staff.service import active_staff
from schema.context import Info
from schema.permissions import IsAuthenticated, gate
from schema.staff.types import StaffMember


@strawberry.type
class ViewerQueries:
    @strawberry.field(
        description="The signed-in staff member (null for other kinds of caller).",
        extensions=gate(IsAuthenticated()),
    )
    async def viewer(self, info: Info) -> StaffMember | None:
        actor = info.context.actor
        if not isinstance(actor, StaffActor):
            return None
        member = await active_staff(info.context.session, actor.staff_id)
        return StaffMember.from_model(member) if member else None
