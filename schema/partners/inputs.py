"""Inputs of the partner app and API key mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.partners.types import ApiScope


@strawberry.input(description="A new partner app (integration).")
class PartnerAppCreateInput:
    name: str = strawberry.field(
        description="Unique among active apps, at most 200 characters."
    )
    description: str | None = strawberry.field(
        default=None, description="What the integration does (at most 2,000)."
    )


@strawberry.input(description="Identifies one partner app.")
class PartnerAppIdInput:
    id: strawberry.ID = strawberry.field(description="The partner app's ID.")


@strawberry.input(description="A new API key for a partner app.")
class ApiKeyCreateInput:
    partner_app_id: strawberry.ID = strawberry.field(
        description="The (active) partner app the key acts for."
    )
    name: str = strawberry.field(
        description="What the key is for, e.g. production (at most 200 characters)."
    )
    scopes: list[ApiScope] = strawberry.field(  # type: ignore[valid-type]
        description="What the key may do: at least one scope."
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the key stops working by itself: in the future, with a "
        "UTC offset. Null: it works until revoked.",
    )


@strawberry.input(description="Identifies one API key.")
class ApiKeyIdInput:
    id: strawberry.ID = strawberry.field(description="The API key's ID.")
