"""Partner app and API key mutations (admins)."""

from __future__ import annotations

import strawberry

from crm.partners import service
from crm.permissions import Permission
from schema.context import Info
from schema.errors import UserError, attempt, in_savepoint
from schema.partners.inputs import (
    ApiKeyCreateInput,
    ApiKeyIdInput,
    PartnerAppCreateInput,
    PartnerAppIdInput,
)
from schema.partners.types import ApiKey, PartnerApp, api_keys_loader
from schema.permissions import Has, gate
from schema.relay import pk_of
from schema.scalars import plain

MANAGE = Permission.PARTNERS_MANAGE


@strawberry.type(description="The result of a partner app mutation.")
class PartnerAppPayload:
    partner_app: PartnerApp | None = strawberry.field(
        default=None, description="The app, as it is now (null on errors)."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done, field by field."
    )


@strawberry.type(
    description="The result of apiKeyCreate: the only time the key is shown."
)
class ApiKeyCreatePayload:
    key: str | None = strawberry.field(
        default=None,
        description="The API key, shown this once: store it now. Send it as "
        "`Authorization: Bearer <key>` or `X-Api-Key: <key>`.",
    )
    api_key: ApiKey | None = strawberry.field(
        default=None, description="The key's prefix, scopes and lifetime."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why no key was issued, field by field."
    )


@strawberry.type(description="The result of an API key mutation.")
class ApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(
        default=None, description="The key, as it is now (null on errors)."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done, field by field."
    )


@strawberry.type
class PartnerMutations:
    @strawberry.mutation(
        description="Register a partner app (integration). Admins only.",
        extensions=gate(Has(MANAGE)),
    )
    async def partner_app_create(
        self, info: Info, input: PartnerAppCreateInput
    ) -> PartnerAppPayload:
        ctx = info.context
        return await attempt(
            ctx.session,
            lambda: service.create_partner_app(
                ctx.session,
                ctx.actor,
                name=input.name,
                description=input.description,
            ),
            lambda app: PartnerAppPayload(
                partner_app=PartnerApp.from_model(app, api_keys_loader(info))
            ),
            PartnerAppPayload,
        )

    @strawberry.mutation(
        description="Archive a partner app: from the next request on, none of its "
        "keys works, and it gets no new keys. Admins only.",
        extensions=gate(Has(MANAGE)),
    )
    async def partner_app_archive(
        self, info: Info, input: PartnerAppIdInput
    ) -> PartnerAppPayload:
        ctx = info.context
        app_id = pk_of(input.id, "PartnerApp", field="input.id")
        app = await in_savepoint(
            ctx.session,
            lambda: service.archive_partner_app(ctx.session, ctx.actor, app_id),
        )
        return PartnerAppPayload(
            partner_app=PartnerApp.from_model(app, api_keys_loader(info))
        )

    @strawberry.mutation(
        description="Issue an API key for a partner app, limited to its scopes. The "
        "key is in the payload this once, and never shown again. Admins only.",
        extensions=gate(Has(MANAGE)),
    )
    async def api_key_create(
        self, info: Info, input: ApiKeyCreateInput
    ) -> ApiKeyCreatePayload:
        ctx = info.context
        app_id = pk_of(input.partner_app_id, "PartnerApp", field="input.partnerAppId")
        return await attempt(
            ctx.session,
            lambda: service.create_api_key(
                ctx.session,
                ctx.actor,
                partner_app_id=app_id,
                name=input.name,
                scopes=plain(input.scopes),
                expires_at=input.expires_at,
            ),
            lambda issued: ApiKeyCreatePayload(
                key=issued.raw,
                api_key=ApiKey.from_model(
                    issued.key, issued.partner_app, api_keys_loader(info)
                ),
            ),
            ApiKeyCreatePayload,
        )

    @strawberry.mutation(
        description="Revoke an API key: refused from the next request on. Revoking "
        "a revoked key changes nothing. Admins only.",
        extensions=gate(Has(MANAGE)),
    )
    async def api_key_revoke(self, info: Info, input: ApiKeyIdInput) -> ApiKeyPayload:
        ctx = info.context
        key_id = pk_of(input.id, "ApiKey", field="input.id")
        key = await in_savepoint(
            ctx.session,
            lambda: service.revoke_api_key(ctx.session, ctx.actor, key_id),
        )
        app = await service.get_partner_app(ctx.session, ctx.actor, key.partner_app_id)
        return ApiKeyPayload(api_key=ApiKey.from_model(key, app, api_keys_loader(info)))
