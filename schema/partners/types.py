"""Partner apps and their API keys, as admins see them (never a secret or a hash)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry
from strawberry.dataloader import DataLoader

from crm.partners import service
from crm.partners.models import ApiKey as ApiKeyModel
from crm.partners.models import PartnerApp as PartnerAppModel
from crm.permissions import Scope
from schema.context import Info
from schema.relay import Node, global_id

ApiScope = strawberry.enum(
    Scope,
    name="ApiScope",
    description="What a partner app's API key may do. CUSTOMERS_READ: read "
    "customers; CUSTOMERS_WRITE: create and update customers (with "
    "customersUpsert); INTERACTIONS_READ: read interactions and filter customers "
    "by them; INTERACTIONS_WRITE: log and correct interactions. A key holds no "
    "other right: no staff, audit, partner or deletion operation.",
)
ApiKeyStatus = strawberry.enum(
    service.KeyStatus,
    name="ApiKeyStatus",
    description="Whether a key works now: ACTIVE, or why not (REVOKED, EXPIRED, "
    "APP_ARCHIVED: its partner app was archived).",
)

KeysLoader = DataLoader[int, list[ApiKeyModel]]


def api_keys_loader(info: Info) -> KeysLoader:
    """Keys of many apps in one statement (one loader per list of apps)."""
    context = info.context

    async def load(ids: Sequence[int]) -> list[list[ApiKeyModel]]:
        found = await service.api_keys_of(context.session, context.actor, ids)
        return [found[i] for i in ids]

    return DataLoader(load)


@strawberry.type(
    description="An integration that calls the API with its own API keys, each "
    "limited to its scopes. Created and archived by admins."
)
class PartnerApp(Node):
    name: str = strawberry.field(description="Shown in audit trails as the actor.")
    description: str | None = strawberry.field(
        description="What the integration does, for the firm's admins."
    )
    created_by: str = strawberry.field(
        description="Who created the app, as kind:id (e.g. staff:3)."
    )
    created_at: datetime = strawberry.field(description="When the app was created.")
    archived_at: datetime | None = strawberry.field(
        description="When the app was archived: none of its keys works since."
    )
    model_: strawberry.Private[PartnerAppModel]
    keys_: strawberry.Private[KeysLoader]

    @strawberry.field(description="Whether the app is archived.")
    def archived(self) -> bool:
        return self.archived_at is not None

    @strawberry.field(
        description="The app's API keys, newest first, revoked and expired ones "
        "included. A key's secret is never shown after it was created."
    )
    async def api_keys(self) -> list[ApiKey]:
        assert self.model_.id is not None
        keys = await self.keys_.load(self.model_.id)
        return [ApiKey.from_model(key, self.model_, self.keys_) for key in keys]

    @classmethod
    def from_model(cls, model: PartnerAppModel, keys: KeysLoader) -> PartnerApp:
        return cls(
            id=global_id("PartnerApp", model.id),
            name=model.name,
            description=model.description,
            created_by=model.created_by,
            created_at=model.created_at,
            archived_at=model.archived_at,
            model_=model,
            keys_=keys,
        )


@strawberry.type(
    description="An API key of a partner app: its visible prefix, scopes and "
    "lifetime. The key itself is shown once, by apiKeyCreate."
)
class ApiKey(Node):
    prefix: str = strawberry.field(
        description="The first 12 characters of the key (mut_ and 8 hex digits): "
        "how to recognise it in listings, logs and `mutual apikey revoke`."
    )
    name: str = strawberry.field(description="What the key is for, e.g. production.")
    scopes: list[ApiScope] = strawberry.field(  # type: ignore[valid-type]
        description="What the key may do; never more."
    )
    status: ApiKeyStatus = strawberry.field(  # type: ignore[valid-type]
        description="Whether the key works now."
    )
    created_by: str = strawberry.field(
        description="Who created the key, as kind:id (e.g. staff:3)."
    )
    created_at: datetime = strawberry.field(description="When the key was created.")
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working by itself (null: never)."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When the key was revoked (it works no more since)."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When the key last authenticated a request (kept to the minute)."
    )
    app_: strawberry.Private[PartnerAppModel]
    keys_: strawberry.Private[KeysLoader]

    @strawberry.field(description="The partner app the key belongs to.")
    def partner_app(self) -> PartnerApp:
        return PartnerApp.from_model(self.app_, self.keys_)

    @classmethod
    def from_model(
        cls, model: ApiKeyModel, app: PartnerAppModel, keys: KeysLoader
    ) -> ApiKey:
        return cls(
            id=global_id("ApiKey", model.id),
            prefix=model.prefix,
            name=model.name,
            scopes=sorted(service.scopes_of(model)),
            status=service.key_status(model, app),
            created_by=model.created_by,
            created_at=model.created_at,
            expires_at=model.expires_at,
            revoked_at=model.revoked_at,
            last_used_at=model.last_used_at,
            app_=app,
            keys_=keys,
        )
