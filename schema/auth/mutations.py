"""Signing in."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.errors import RateLimited, Unauthenticated
from crm.staff import service as staff_service
from schema.context import Info
from schema.errors import UserError
from schema.permissions import Public, gate
from schema.staff.types import StaffMember


@strawberry.input(description="A staff member's credentials.")
class TokenCreateInput:
    email: str = strawberry.field(description="The email the member signs in with.")
    password: str = strawberry.field(description="The member's password.")


@strawberry.type(description="The result of tokenCreate.")
class TokenCreatePayload:
    token: str | None = strawberry.field(
        default=None, description="Send as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token stops working; sign in again then."
    )
    staff_member: StaffMember | None = strawberry.field(
        default=None, description="Who signed in."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="INVALID_CREDENTIALS (wrong email or password, the same for "
        "both) or RATE_LIMITED (too many failures: wait, then retry).",
    )


def _client_address(info: Info) -> str | None:
    request = info.context.request
    client = getattr(request, "client", None)
    return getattr(client, "host", None)


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="Sign in as a staff member with email and password. After 10 "
        "failures for one email from one address in 15 minutes, further tries are "
        "refused (RATE_LIMITED) until the window passes.",
        extensions=gate(Public()),
    )
    async def token_create(
        self, info: Info, input: TokenCreateInput
    ) -> TokenCreatePayload:
        ctx = info.context
        try:
            member = await staff_service.authenticate(
                ctx.session,
                input.email,
                input.password,
                client=_client_address(info),
            )
        except Unauthenticated as exc:
            return _refused("INVALID_CREDENTIALS", exc.message)
        except RateLimited as exc:
            return _refused("RATE_LIMITED", exc.message)
        issued = ctx.signer.issue(f"staff:{member.id}")
        return TokenCreatePayload(
            token=issued.token,
            expires_at=issued.expires_at,
            staff_member=StaffMember.from_model(member),
        )


def _refused(code: str, message: str) -> TokenCreatePayload:
    error = UserError(field=None, code=code, message=message)
    return TokenCreatePayload(errors=[error])
