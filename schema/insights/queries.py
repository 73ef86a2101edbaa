"""Root query fields for insights: the firm's customer intelligence."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm.insights import config, service
from crm.insights.models import InsightSnapshot
from crm.interactions import service as interaction_service
from crm.pagination import count
from crm.permissions import Permission
from schema.context import Info
from schema.insights.config_types import (
    InsightPolicy,
    InsightSettings,
    TierLadder,
    snapshot_money,
)
from schema.insights.enums import ChurnRisk
from schema.interactions.types import Money
from schema.permissions import Has, gate
from schema.relay import Connection, connection, page_args

if TYPE_CHECKING:
    from schema.customers.types import Customer
    from schema.interactions.types import Interaction

CustomerT = Annotated["Customer", strawberry.lazy("schema.customers.types")]
InteractionT = Annotated["Interaction", strawberry.lazy("schema.interactions.types")]


@strawberry.type(
    description="A customer whose churn risk crossed into HIGH at a refresh."
)
class Defection:
    crossed_at: datetime = strawberry.field(
        description="The refresh that first found the risk HIGH."
    )
    churn_risk: ChurnRisk = strawberry.field(description="Always HIGH here.")
    probability_alive: float | None = strawberry.field(
        description="Probability of being active at that refresh."
    )
    snapshot_: strawberry.Private[InsightSnapshot]

    @strawberry.field(
        description="Predicted lifetime value at stake at that refresh (needs "
        "financials:read)."
    )
    async def predicted_value_at_stake(self, info: Info) -> Money | None:
        if not info.context.actor.can(Permission.FINANCIALS_READ):
            return None
        settings = await config.load_settings(info.context.session)
        return snapshot_money(self.snapshot_, settings.reporting_currency)

    @strawberry.field(description="The customer.")
    async def customer(self, info: Info) -> CustomerT | None:
        from schema.customers.types import Customer

        found = await info.context.loaders.customers.load(self.snapshot_.customer_id)
        return Customer.from_model(found) if found is not None else None

    @strawberry.field(
        description="The customer's last interaction (null without interactions:read)."
    )
    async def last_interaction(self, info: Info) -> InteractionT | None:
        from schema.interactions.types import Interaction

        if not info.context.actor.can(Permission.INTERACTIONS_READ):
            return None
        loaders = info.context.loaders
        page = await loaders.interaction_pages(
            1, None, interaction_service.InteractionOrderField.OCCURRED_AT, True
        ).load(self.snapshot_.customer_id)
        return Interaction.from_model(page.items[0]) if page.items else None

    @classmethod
    def from_snapshot(cls, snapshot: InsightSnapshot) -> Defection:
        return cls(
            crossed_at=snapshot.taken_at,
            churn_risk=ChurnRisk.HIGH,
            probability_alive=snapshot.p_alive,
            snapshot_=snapshot,
        )


@strawberry.type
class InsightQueries:
    @strawberry.field(
        description="Customers whose churn risk crossed into HIGH between `since` "
        "and `until` (default: now), newest first, from the refresh snapshots.",
        extensions=gate(Has(Permission.INSIGHTS_READ)),
    )
    async def defections(
        self,
        info: Info,
        since: Annotated[
            datetime, strawberry.argument(description="Start of the period.")
        ],
        until: Annotated[
            datetime | None,
            strawberry.argument(description="End of the period (default: now)."),
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Defection]:
        session = info.context.session
        listed = await service.defections(
            session,
            info.context.actor,
            since=since,
            until=until,
            page=page_args(first, after, last, before),
        )
        return connection(
            listed.page,
            Defection.from_snapshot,
            lambda: count(session, listed.count_statement),
        )

    @strawberry.field(
        description="Which kinds of insight customers see, one policy per kind.",
        extensions=gate(Has(Permission.INSIGHTS_READ)),
    )
    async def insight_policies(self, info: Info) -> list[InsightPolicy]:
        ctx = info.context
        policies = await config.list_policies(ctx.session, ctx.actor)
        return [InsightPolicy.from_model(p) for p in policies]

    @strawberry.field(
        description="The model settings of insights.",
        extensions=gate(Has(Permission.INSIGHTS_READ)),
    )
    async def insight_settings(self, info: Info) -> InsightSettings:
        ctx = info.context
        return InsightSettings.from_model(
            await config.get_settings(ctx.session, ctx.actor)
        )

    @strawberry.field(
        description="The loyalty tier ladder (empty until the firm sets one).",
        extensions=gate(Has(Permission.INSIGHTS_READ)),
    )
    async def tier_ladder(self, info: Info) -> TierLadder:
        ctx = info.context
        return TierLadder.from_model(await config.get_settings(ctx.session, ctx.actor))
