"""Mutations for corrections and erasure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec

import strawberry

from crm.corrections import service as corrections
from crm.corrections.models import ProfileCorrection
from crm.erasure import service as erasure
from crm.erasure.models import ErasureRequest as ErasureModel
from crm.permissions import Permission
from schema.context import Info
from schema.errors import UserError, attempt
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

Params = ParamSpec("Params")


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


async def _reviewed(
    info: Info,
    id_: strawberry.ID,
    review: Callable[Concatenate[Any, Any, int, Params], Awaitable[ProfileCorrection]],
    *args: Params.args,
    **kwargs: Params.kwargs,
) -> CorrectionPayload:
    """The pending correction `id_` after a staff `review` (approve or reject)."""
    ctx = info.context
    correction_id = pk_of(id_, "Correction", field="input.id")
    return await attempt(
        ctx.session,
        lambda: review(ctx.session, ctx.actor, correction_id, *args, **kwargs),
        lambda found: CorrectionPayload(correction=Correction.from_model(found)),
        CorrectionPayload,
    )


async def _erased(
    info: Info,
    act: Callable[Concatenate[Any, Any, Params], Awaitable[ErasureModel]],
    *args: Params.args,
    **kwargs: Params.kwargs,
) -> ErasureRequestPayload:
    """The erasure request as staff `act` on it (carry out, decline or erase)."""
    ctx = info.context
    return await attempt(
        ctx.session,
        lambda: act(ctx.session, ctx.actor, *args, **kwargs),
        lambda found: ErasureRequestPayload(
            erasure_request=ErasureRequest.from_model(found)
        ),
        ErasureRequestPayload,
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
        return await attempt(
            ctx.session,
            lambda: corrections.request_correction(
                ctx.session, ctx.actor, changes=changes, reason=input.reason
            ),
            lambda outcome: MyProfileCorrectionPayload(
                profile=MyProfile.from_model(outcome.profile),
                corrections=[MyCorrection.from_model(c) for c in outcome.corrections],
            ),
            MyProfileCorrectionPayload,
        )

    @strawberry.mutation(
        description="Apply a pending correction (validation and uniqueness are "
        "checked again).",
        extensions=gate(Has(Permission.CORRECTIONS_REVIEW)),
    )
    async def correction_approve(
        self, info: Info, input: CorrectionApproveInput
    ) -> CorrectionPayload:
        return await _reviewed(info, input.id, corrections.approve_correction)

    @strawberry.mutation(
        description="Reject a pending correction with a reason the customer sees.",
        extensions=gate(Has(Permission.CORRECTIONS_REVIEW)),
    )
    async def correction_reject(
        self, info: Info, input: CorrectionRejectInput
    ) -> CorrectionPayload:
        return await _reviewed(
            info, input.id, corrections.reject_correction, reason=input.reason
        )

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
        return await attempt(
            ctx.session,
            lambda: erasure.request_erasure(
                ctx.session,
                ctx.actor,
                confirmation=input.confirmation,
                reason=input.reason,
            ),
            lambda found: MyErasureRequestPayload(
                erasure_request=MyErasureRequest.from_model(found)
            ),
            MyErasureRequestPayload,
        )

    @strawberry.mutation(
        description="Carry out a pending erasure request now, in one transaction.",
        extensions=gate(Has(Permission.ERASURE_MANAGE)),
    )
    async def erasure_carry_out(
        self, info: Info, input: ErasureCarryOutInput
    ) -> ErasureRequestPayload:
        request_id = pk_of(input.id, "ErasureRequest", field="input.id")
        return await _erased(info, erasure.carry_out_request, request_id)

    @strawberry.mutation(
        description="Decline a pending erasure request with a reason the customer "
        "sees (e.g. a legal hold).",
        extensions=gate(Has(Permission.ERASURE_MANAGE)),
    )
    async def erasure_decline(
        self, info: Info, input: ErasureDeclineInput
    ) -> ErasureRequestPayload:
        request_id = pk_of(input.id, "ErasureRequest", field="input.id")
        return await _erased(
            info, erasure.decline_request, request_id, reason=input.reason
        )

    @strawberry.mutation(
        description="Erase a customer's personal data now (the firm's own decision "
        "or a request received elsewhere), with a reason.",
        extensions=gate(Has(Permission.ERASURE_MANAGE)),
    )
    async def customer_erase(
        self, info: Info, input: CustomerEraseInput
    ) -> ErasureRequestPayload:
        customer_id = pk_of(input.customer_id, "Customer", field="input.customerId")
        return await _erased(
            info, erasure.erase_customer, customer_id, reason=input.reason
        )
