"""Mutations for corrections and erasure."""

from __future__ import annotations

import strawberry

from crm.corrections import service as corrections
from crm.erasure import service as erasure
from crm.errors import ValidationFailed
from crm.permissions import Permission
from schema.context import Info
from schema.errors import UserError, in_savepoint, user_errors
from schema.me.permissions import IsCustomer
from schema.me.selfservice import MyCorrection, MyErasureRequest
from schema.me.types import MyProfile
from schema.permissions import Has, gate
from schema.relay import pk_of
from schema.scalars import provided
from schema.selfservice.inputs import (
    CorrectionApproveInput,
    CorrectionRejectInput,
    CustomerEraseInput,
    ErasureCarryOutInput,
    ErasureDeclineInput,
    MyErasureRequestInput,
    MyProfileCorrectionRequestInput,
)
from schema.selfservice.types import Correction, ErasureRequest


@strawberry.type(description="The result of myProfileCorrectionRequest.")
class MyProfileCorrectionPayload:
    profile: MyProfile | None = strawberry.field(
        default=None, description="Your profile, with the low-risk fields applied."
    )
    corrections: list[MyCorrection] = strawberry.field(
        default_factory=list,
        description="What the request made: an APPLIED correction for fields that "
        "apply at once, a PENDING one for fields staff review.",
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done, field by field."
    )


@strawberry.type(description="The result of a correction review.")
class CorrectionPayload:
    correction: Correction | None = strawberry.field(
        default=None, description="The correction, as it stands now."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why it was not done (e.g. DUPLICATE email, CONFLICT); the "
        "correction then stays pending.",
    )


@strawberry.type(description="The result of myErasureRequest.")
class MyErasureRequestPayload:
    erasure_request: MyErasureRequest | None = strawberry.field(
        default=None, description="Your request (the pending one, if you asked before)."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done."
    )


@strawberry.type(description="The result of an erasure mutation.")
class ErasureRequestPayload:
    erasure_request: ErasureRequest | None = strawberry.field(
        default=None, description="The request, as it stands now."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done."
    )


@strawberry.type
class SelfServiceMutations:
    @strawberry.mutation(
        description="Correct your profile: displayName, locale, timeZone and phone "
        "apply at once; email, givenName, familyName and company wait for review.",
        extensions=gate(IsCustomer()),
    )
    async def my_profile_correction_request(
        self, info: Info, input: MyProfileCorrectionRequestInput
    ) -> MyProfileCorrectionPayload:
        ctx = info.context
        changes = provided(input.changes)
        try:
            outcome = await in_savepoint(
                ctx.session,
                lambda: corrections.request_correction(
                    ctx.session, ctx.actor, changes=changes, reason=input.reason
                ),
            )
        except ValidationFailed as exc:
            return MyProfileCorrectionPayload(errors=user_errors(exc))
        return MyProfileCorrectionPayload(
            profile=MyProfile.from_model(outcome.profile),
            corrections=[MyCorrection.from_model(c) for c in outcome.corrections],
        )

    @strawberry.mutation(
        description="Apply a pending correction (validation and uniqueness are "
        "checked again).",
        extensions=gate(Has(Permission.CORRECTIONS_REVIEW)),
    )
    async def correction_approve(
        self, info: Info, input: CorrectionApproveInput
    ) -> CorrectionPayload:
        ctx = info.context
        correction_id = pk_of(input.id, "Correction", field="input.id")
        try:
            found = await in_savepoint(
                ctx.session,
                lambda: corrections.approve_correction(
                    ctx.session, ctx.actor, correction_id
                ),
            )
        except ValidationFailed as exc:
            return CorrectionPayload(errors=user_errors(exc))
        return CorrectionPayload(correction=Correction.from_model(found))

    @strawberry.mutation(
        description="Reject a pending correction with a reason the customer sees.",
        extensions=gate(Has(Permission.CORRECTIONS_REVIEW)),
    )
    async def correction_reject(
        self, info: Info, input: CorrectionRejectInput
    ) -> CorrectionPayload:
        ctx = info.context
        correction_id = pk_of(input.id, "Correction", field="input.id")
        try:
            found = await in_savepoint(
                ctx.session,
                lambda: corrections.reject_correction(
                    ctx.session, ctx.actor, correction_id, reason=input.reason
                ),
            )
        except ValidationFailed as exc:
            return CorrectionPayload(errors=user_errors(exc))
        return CorrectionPayload(correction=Correction.from_model(found))

    @strawberry.mutation(
        description="Ask the firm to erase your personal data. It is carried out "
        "within 7 days unless the firm must keep it (it then declines, saying "
        "why); afterwards you can no longer sign in.",
        extensions=gate(IsCustomer()),
    )
    async def my_erasure_request(
        self, info: Info, input: MyErasureRequestInput
    ) -> MyErasureRequestPayload:
        ctx = info.context
        try:
            found = await in_savepoint(
                ctx.session,
                lambda: erasure.request_erasure(
                    ctx.session,
                    ctx.actor,
                    confirmation=input.confirmation,
                    reason=input.reason,
                ),
            )
        except ValidationFailed as exc:
            return MyErasureRequestPayload(errors=user_errors(exc))
        return MyErasureRequestPayload(
            erasure_request=MyErasureRequest.from_model(found)
        )

    @strawberry.mutation(
        description="Carry out a pending erasure request now, in one transaction.",
        extensions=gate(Has(Permission.ERASURE_MANAGE)),
    )
    async def erasure_carry_out(
        self, info: Info, input: ErasureCarryOutInput
    ) -> ErasureRequestPayload:
        ctx = info.context
        request_id = pk_of(input.id, "ErasureRequest", field="input.id")
        try:
            found = await in_savepoint(
                ctx.session,
                lambda: erasure.carry_out_request(ctx.session, ctx.actor, request_id),
            )
        except ValidationFailed as exc:
            return ErasureRequestPayload(errors=user_errors(exc))
        return ErasureRequestPayload(erasure_request=ErasureRequest.from_model(found))

    @strawberry.mutation(
        description="Decline a pending erasure request with a reason the customer "
        "sees (e.g. a legal hold).",
        extensions=gate(Has(Permission.ERASURE_MANAGE)),
    )
    async def erasure_decline(
        self, info: Info, input: ErasureDeclineInput
    ) -> ErasureRequestPayload:
        ctx = info.context
        request_id = pk_of(input.id, "ErasureRequest", field="input.id")
        try:
            found = await in_savepoint(
                ctx.session,
                lambda: erasure.decline_request(
                    ctx.session, ctx.actor, request_id, reason=input.reason
                ),
            )
        except ValidationFailed as exc:
            return ErasureRequestPayload(errors=user_errors(exc))
        return ErasureRequestPayload(erasure_request=ErasureRequest.from_model(found))

    @strawberry.mutation(
        description="Erase a customer's personal data now (the firm's own decision "
        "or a request received elsewhere), with a reason.",
        extensions=gate(Has(Permission.ERASURE_MANAGE)),
    )
    async def customer_erase(
        self, info: Info, input: CustomerEraseInput
    ) -> ErasureRequestPayload:
        ctx = info.context
        customer_id = pk_of(input.customer_id, "Customer", field="input.customerId")
        try:
            found = await in_savepoint(
                ctx.session,
                lambda: erasure.erase_customer(
                    ctx.session, ctx.actor, customer_id, reason=input.reason
                ),
            )
        except ValidationFailed as exc:
            return ErasureRequestPayload(errors=user_errors(exc))
        return ErasureRequestPayload(erasure_request=ErasureRequest.from_model(found))
