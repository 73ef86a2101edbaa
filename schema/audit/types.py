"""Audit events as the firm's staff read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row
from strawberry.scalars import JSON

from crm.actors import Actor
from crm.audit.models import AuditEvent as AuditModel
from crm.audit.service import readable_changes
from crm.ids import to_global_id
from schema.errors import camel
from schema.relay import Node, global_id


@strawberry.type(
    description="Who did something: a staff member, partner app or system."
)
class AuditActor:
    kind: str = strawberry.field(description="staff, partner, customer or system.")
    ref: str = strawberry.field(description="kind:id of the actor.")
    label: str = strawberry.field(description="Display name at the time of the event.")


@strawberry.type(description="One field's value before and after a change.")
class FieldChange:
    field: str = strawberry.field(description="The field (camelCase).")
    before: JSON | None = strawberry.field(description="Its value before the change.")
    after: JSON | None = strawberry.field(description="Its value after the change.")
    withheld: bool = strawberry.field(
        description="True when you may not read this field: the values are null."
    )


@strawberry.type(
    description="A recorded change: who, what, when, and the changed fields."
)
class AuditEvent(Node):
    occurred_at: datetime
    action: str = strawberry.field(
        description="e.g. customer.updated, interaction.logged."
    )
    entity_type: str
    entity_id: strawberry.ID = strawberry.field(description="Global ID of the entity.")
    actor: AuditActor
    changes: list[FieldChange]

    @classmethod
    def from_model(cls, model: AuditModel | Row[Any], actor: Actor) -> AuditEvent:
        """From the model or a row of its columns (crm.audit.service.first_pages)."""
        return cls(
            id=global_id("AuditEvent", model.id),
            occurred_at=model.occurred_at,
            action=model.action,
            entity_type=model.entity_type,
            entity_id=strawberry.ID(to_global_id(model.entity_type, model.entity_id)),
            actor=AuditActor(
                kind=model.actor_kind, ref=model.actor_ref, label=model.actor_label
            ),
            changes=[
                FieldChange(
                    field=camel(name) or name,
                    before=before,
                    after=after,
                    withheld=withheld,
                )
                for name, before, after, withheld in readable_changes(
                    actor, model.entity_type, model.changes
                )
            ],
        )
