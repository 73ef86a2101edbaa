"""Signing in."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.errors import Unauthenticated
from crm.staff import service as staff_service
from schema.context import Info
from schema.errors import UserError
from schema.permissions import Public, gate
from schema.staff.types import StaffMember


@strawberry.input(description="A staff member's credentials.")
class TokenCreateInput:
    email: str
    password: str


@strawberry.type(description="The result of tokenCreate.")
class TokenCreatePayload:
    token: str | None = strawberry.field(
        default=None, description="Send as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None = None
    staff_member: StaffMember | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="Sign in as a staff member with email and password.",
        extensions=gate(Public()),
    )
    async def token_create(
        self, info: Info, input: TokenCreateInput
    ) -> TokenCreatePayload:
        ctx = info.context
        try:
            member = await staff_service.authenticate(
                ctx.session, input.email, input.password
            )
        except Unauthenticated as exc:
            return TokenCreatePayload(
                errors=[
                    UserError(
                        field=None, code="INVALID_CREDENTIALS", message=exc.message
                    )
                ]
            )
        issued = ctx.signer.issue(f"staff:{member.id}")
        return TokenCreatePayload(
            token=issued.token,
            expires_at=issued.expires_at,
            staff_member=StaffMember.from_model(member),
        )
