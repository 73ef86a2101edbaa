"""Partner app queries (admins)."""

from __future__ import annotations

import strawberry

from crm.pagination import count
from crm.partners import service
from crm.permissions import Permission
from schema.context import Info
from schema.partners.types import PartnerApp, api_keys_loader
from schema.permissions import Has, gate
from schema.relay import Connection, connection, page_args


@strawberry.type
class PartnerQueries:
    @strawberry.field(
        description="Partner apps (integrations) and their API keys, oldest first, "
        "archived ones included. Admins only.",
        extensions=gate(Has(Permission.PARTNERS_MANAGE)),
    )
    async def partner_apps(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[PartnerApp]:
        session = info.context.session
        page, stmt = await service.list_partner_apps(
            session, info.context.actor, page=page_args(first, after, None, None)
        )
        keys = api_keys_loader(info)
        return connection(
            page,
            lambda app: PartnerApp.from_model(app, keys),
            lambda: count(session, stmt),
        )
