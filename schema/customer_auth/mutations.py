"""Customer sign-in (passwordless codes)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.customer_auth import service
from crm.errors import ValidationFailed
from schema.context import Info
from schema.errors import UserError, user_errors
from schema.permissions import Public, gate


@strawberry.input(description="Who asks for a sign-in code.")
class CustomerLoginCodeRequestInput:
    email: str = strawberry.field(
        description="The email the firm has for the customer (case does not matter)."
    )


@strawberry.type(description="The result of customerLoginCodeRequest.")
class CustomerLoginCodeRequestPayload:
    accepted: bool = strawberry.field(
        description="True for every well-formed email, known or not: the answer "
        "never says whether an account exists."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Only INVALID_EMAIL, REQUIRED or TOO_LONG for a malformed email.",
    )


@strawberry.input(description="A customer's email and the code they received.")
class CustomerTokenCreateInput:
    email: str = strawberry.field(description="The email the code was sent to.")
    code: str = strawberry.field(
        description="The 6-digit code (spaces and dashes are ignored)."
    )


@strawberry.type(description="The result of customerTokenCreate.")
class CustomerTokenCreatePayload:
    token: str | None = strawberry.field(
        default=None,
        description="Send as `Authorization: Bearer <token>` to act as the customer.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token stops working; sign in again then."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="INVALID_CODE: the code is wrong, expired, already used, "
        "replaced by a newer one, or tried too often, or the email has no "
        "active account (one message for all).",
    )


@strawberry.type
class CustomerAuthMutations:
    @strawberry.mutation(
        description="Ask for a one-time sign-in code. When an active customer has "
        "this email, a 6-digit code valid for 10 minutes is created (replacing older "
        "unused ones) and the event `customer.login_code_requested` carries it to "
        "the firm's messaging system. The answer is the same whether or not the "
        "email is known. At most 5 codes per customer per 15 minutes: further "
        "requests are answered alike but send nothing.",
        extensions=gate(Public()),
    )
    async def customer_login_code_request(
        self, info: Info, input: CustomerLoginCodeRequestInput
    ) -> CustomerLoginCodeRequestPayload:
        ctx = info.context
        try:
            await service.request_code(
                ctx.session, ctx.actor, email=input.email, secret=ctx.signer.secret
            )
        except ValidationFailed as exc:
            return CustomerLoginCodeRequestPayload(
                accepted=False, errors=user_errors(exc)
            )
        return CustomerLoginCodeRequestPayload(accepted=True)

    @strawberry.mutation(
        description="Sign in as a customer with the code customerLoginCodeRequest "
        "sent. A code works once; 5 wrong tries end it. The token names the "
        "customer, for the customer's own view (`me`), not the firm's data.",
        extensions=gate(Public()),
    )
    async def customer_token_create(
        self, info: Info, input: CustomerTokenCreateInput
    ) -> CustomerTokenCreatePayload:
        ctx = info.context
        try:
            actor = await service.sign_in_with_code(
                ctx.session,
                email=input.email,
                code=input.code,
                secret=ctx.signer.secret,
            )
        except service.InvalidCode as exc:
            # A payload error, not a top-level one: the wrong guess just counted
            # must be committed.
            error = UserError(field=None, code=exc.code, message=exc.message)
            return CustomerTokenCreatePayload(errors=[error])
        issued = ctx.signer.issue(
            f"customer:{actor.customer_id}", ttl=ctx.customer_token_ttl
        )
        return CustomerTokenCreatePayload(
            token=issued.token, expires_at=issued.expires_at
        )
