"""Firm types of corrections, erasure requests and the access log.

The customer's own view has its own types (schema/me/selfservice.py): these show
staff identities and firm notes, those never do.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry.scalars import JSON

from crm.access.service import AccessEntry
from crm.corrections.models import ProfileCorrection
from crm.erasure.models import ErasureRequest as ErasureModel
from schema.context import Info
from schema.enums import StaffRole
from schema.errors import camel
from schema.relay import Node, global_id
from schema.selfservice.enums import (
    AccessKind,
    AccessorKind,
    CorrectionStatus,
    ErasureSource,
    ErasureStatus,
)

if TYPE_CHECKING:
    from schema.customers.types import Customer

CustomerT = Annotated["Customer", strawberry.lazy("schema.customers.types")]


@strawberry.type(description="One field a correction changes.")
class CorrectionChange:
    field: str = strawberry.field(description="The profile field (camelCase).")
    before: JSON | None = strawberry.field(
        description="Its value when the correction was asked for (null once erased)."
    )
    after: JSON | None = strawberry.field(
        description="The value asked for (null once erased)."
    )


def correction_changes(changes: dict[str, Any]) -> list[CorrectionChange]:
    return [
        CorrectionChange(
            field=camel(name) or name,
            before=change.get("before"),
            after=change.get("after"),
        )
        for name, change in sorted(changes.items())
    ]


def _role(value: str | None) -> StaffRole | None:
    return StaffRole(value) if value else None


async def _customer(info: Info, customer_id: int) -> Customer | None:
    from schema.customers.types import Customer

    model = await info.context.loaders.customers.load(customer_id)
    return Customer.from_model(model) if model is not None else None


@strawberry.type(description="A customer's request to correct their profile.")
class Correction(Node):
    status: CorrectionStatus = strawberry.field(description="Where it stands.")
    changes: list[CorrectionChange] = strawberry.field(
        description="The fields it changes, with their values."
    )
    reason: str | None = strawberry.field(description="The customer's explanation.")
    requested_at: datetime = strawberry.field(description="When it was asked for.")
    reviewed_at: datetime | None = strawberry.field(
        description="When it was applied, approved or rejected."
    )
    reviewer_name: str | None = strawberry.field(
        description="Who approved or rejected it (staff display name)."
    )
    reviewer_role: StaffRole | None = strawberry.field(
        description="The reviewer's role then (null for an automatic application)."
    )
    review_reason: str | None = strawberry.field(
        description="Why it was rejected (the customer sees this)."
    )
    customer_id: strawberry.Private[int]

    @strawberry.field(description="The customer who asked.")
    async def customer(self, info: Info) -> CustomerT | None:
        return await _customer(info, self.customer_id)

    @classmethod
    def from_model(cls, model: ProfileCorrection) -> Correction:
        return cls(
            id=global_id("Correction", model.id),
            status=CorrectionStatus(model.status),
            changes=correction_changes(model.changes),
            reason=model.reason,
            requested_at=model.requested_at,
            reviewed_at=model.reviewed_at,
            reviewer_name=model.reviewer_label,
            reviewer_role=_role(model.reviewer_role),
            review_reason=model.review_reason,
            customer_id=model.customer_id,
        )


@strawberry.type(description="A request to erase a customer's personal data.")
class ErasureRequest(Node):
    status: ErasureStatus = strawberry.field(description="Where it stands.")
    source: ErasureSource = strawberry.field(description="Who asked.")
    reason: str | None = strawberry.field(
        description="The customer's explanation (cleared once carried out)."
    )
    requested_at: datetime = strawberry.field(description="When it was asked for.")
    due_at: datetime = strawberry.field(
        description="End of the review window: a request still pending then is "
        "carried out by the worker."
    )
    decided_at: datetime | None = strawberry.field(
        description="When it was carried out or declined."
    )
    decided_by_name: str | None = strawberry.field(
        description="Who carried it out or declined it."
    )
    decided_by_role: StaffRole | None = strawberry.field(
        description="Their role then (null for the worker)."
    )
    decision_reason: str | None = strawberry.field(
        description="Why it was declined, or why staff erased the customer."
    )
    customer_id: strawberry.Private[int]

    @strawberry.field(
        description="The customer (an anonymous shell once the request is carried out)."
    )
    async def customer(self, info: Info) -> CustomerT | None:
        return await _customer(info, self.customer_id)

    @classmethod
    def from_model(cls, model: ErasureModel) -> ErasureRequest:
        return cls(
            id=global_id("ErasureRequest", model.id),
            status=ErasureStatus(model.status),
            source=ErasureSource(model.source),
            reason=model.reason,
            requested_at=model.requested_at,
            due_at=model.due_at,
            decided_at=model.decided_at,
            decided_by_name=model.decided_by_label,
            decided_by_role=_role(model.decided_by_role),
            decision_reason=model.decision_reason,
            customer_id=model.customer_id,
        )


@strawberry.type(
    description="Who at the firm read or changed a customer record, and when."
)
class AccessLogEntry:
    kind: AccessKind = strawberry.field(description="Read or changed.")
    occurred_at: datetime = strawberry.field(
        description="When (for views: the last read of that day)."
    )
    actor_kind: AccessorKind = strawberry.field(
        description="A staff member, a partner app or the system."
    )
    actor_name: str = strawberry.field(
        description="The staff member's display name, the partner app's name or the "
        "job's name (never an email address)."
    )
    actor_role: StaffRole | None = strawberry.field(
        description="The staff member's role (null for apps and the system)."
    )
    views: int | None = strawberry.field(description="VIEWED: how many times that day.")
    first_viewed_at: datetime | None = strawberry.field(
        description="VIEWED: the first read of that day."
    )
    action: str | None = strawberry.field(
        description="CHANGED: what was done, e.g. customer.updated."
    )

    @classmethod
    def of(cls, entry: AccessEntry) -> Self:
        return cls(
            kind=entry.kind,
            occurred_at=entry.occurred_at,
            actor_kind=entry.actor_kind,
            actor_name=entry.actor_name,
            actor_role=_role(entry.actor_role),
            views=entry.views,
            first_viewed_at=entry.first_viewed_at,
            action=entry.action,
        )
