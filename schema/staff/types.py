"""The staff member as other types show it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.staff.models import StaffMember as StaffModel
from schema.enums import StaffRole
from schema.relay import Node, global_id


@strawberry.type(description="A member of the firm's staff.")
class StaffMember(Node):
    email: str
    display_name: str
    role: StaffRole
    created_at: datetime
    active: bool = strawberry.field(description="False once the member is archived.")

    @classmethod
    def from_model(cls, model: StaffModel) -> StaffMember:
        return cls(
            id=global_id("StaffMember", model.id),
            email=model.email,
            display_name=model.display_name,
            role=StaffRole(model.role),
            created_at=model.created_at,
            active=model.archived_at is None,
        )
