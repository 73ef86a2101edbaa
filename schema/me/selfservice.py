"""The customer's own view (`me`) of corrections, erasure and the access log.

Own types: a reviewer appears by role only, never by name; the access log names
staff by display name and role, partner apps by name, never by email.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.access import service as access
from crm.corrections import service as corrections
from crm.corrections.models import ProfileCorrection
from crm.erasure import service as erasure
from crm.erasure.models import ErasureRequest as ErasureModel
from crm.pagination import count
from schema.context import Info
from schema.enums import StaffRole
from schema.relay import Connection, Node, connection, global_id, page_args
from schema.selfservice.enums import CorrectionStatus, ErasureStatus
from schema.selfservice.inputs import CorrectionWhere
from schema.selfservice.queries import filtered
from schema.selfservice.types import (
    AccessLogEntry,
    CorrectionChange,
    correction_changes,
)


@strawberry.type(description="Your request to correct your profile.")
class MyCorrection(Node):
    status: CorrectionStatus = strawberry.field(description="Where it stands.")
    changes: list[CorrectionChange] = strawberry.field(
        description="The fields it changes, with their values."
    )
    reason: str | None = strawberry.field(description="Your explanation.")
    requested_at: datetime = strawberry.field(description="When you asked.")
    reviewed_at: datetime | None = strawberry.field(
        description="When it was applied, approved or rejected."
    )
    reviewer_role: StaffRole | None = strawberry.field(
        description="The role of the staff member who reviewed it."
    )
    review_reason: str | None = strawberry.field(description="Why it was rejected.")

    @classmethod
    def from_model(cls, model: ProfileCorrection) -> MyCorrection:
        return cls(
            id=global_id("Correction", model.id),
            status=CorrectionStatus(model.status),
            changes=correction_changes(model.changes),
            reason=model.reason,
            requested_at=model.requested_at,
            reviewed_at=model.reviewed_at,
            reviewer_role=StaffRole(model.reviewer_role)
            if model.reviewer_role
            else None,
            review_reason=model.review_reason,
        )


@strawberry.type(description="Your request to have your personal data erased.")
class MyErasureRequest:
    status: ErasureStatus = strawberry.field(description="Where it stands.")
    requested_at: datetime = strawberry.field(description="When you asked.")
    due_at: datetime = strawberry.field(
        description="When it is carried out at the latest, unless declined."
    )
    decided_at: datetime | None = strawberry.field(description="When it was declined.")
    decision_reason: str | None = strawberry.field(description="Why it was declined.")

    @classmethod
    def from_model(cls, model: ErasureModel) -> MyErasureRequest:
        return cls(
            status=ErasureStatus(model.status),
            requested_at=model.requested_at,
            due_at=model.due_at,
            decided_at=model.decided_at,
            decision_reason=model.decision_reason,
        )


@strawberry.type(description="Who at the firm read or changed your record, and when.")
class MyAccessLogEntry(AccessLogEntry):
    pass


@strawberry.type
class MeSelfService:
    @strawberry.field(description="Your profile corrections, newest first.")
    async def corrections(
        self,
        info: Info,
        where: CorrectionWhere | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[MyCorrection]:
        return await filtered(
            info,
            corrections.my_corrections,
            MyCorrection.from_model,
            where,
            page_args(first, after, last, before),
        )

    @strawberry.field(description="Your latest erasure request, if you made one.")
    async def erasure_request(self, info: Info) -> MyErasureRequest | None:
        ctx = info.context
        found = await erasure.my_erasure_request(ctx.session, ctx.actor)
        return MyErasureRequest.from_model(found) if found is not None else None

    @strawberry.field(
        description="Who at the firm read or changed your record, newest first. "
        "Reads are counted per reader and day, and appear within seconds."
    )
    async def access_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[MyAccessLogEntry]:
        session = info.context.session
        log = await access.my_access_log(
            session, info.context.actor, page=page_args(first, after, last, before)
        )
        return connection(
            log.page,
            MyAccessLogEntry.of,
            lambda: count(session, log.count_statement),
        )
