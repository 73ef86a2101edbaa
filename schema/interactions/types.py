"""The interaction as the firm sees it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm.columns import MONEY_SCALE
from crm.interactions import policies
from crm.interactions.filters import InteractionOrderField as DomainOrderField
from crm.interactions.models import Interaction as InteractionModel
from schema.context import Info
from schema.enums import (
    Channel,
    Direction,
    InteractionKind,
    InteractionOrderField,
    OrderDirection,
    Source,
    Visibility,
)
from schema.relay import Node, global_id, row_view

if TYPE_CHECKING:
    from schema.customers.types import Customer

CustomerT = Annotated["Customer", strawberry.lazy("schema.customers.types")]


@strawberry.type(description="An amount of money in a currency.")
class Money:
    amount: Decimal = strawberry.field(
        description=f"Always with {MONEY_SCALE} decimals, e.g. 19.9900."
    )
    currency: str = strawberry.field(description="ISO 4217 code.")

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Money:
        # As stored: the same text whether just written ("19.9") or read back.
        return cls(amount=amount.quantize(_MONEY_QUANTUM), currency=currency)


_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


@strawberry.type(description="One touchpoint with a customer, on any channel.")
class Interaction(Node):
    occurred_at: datetime
    channel: Channel
    direction: Direction
    kind: InteractionKind
    subject: str | None
    visibility: Visibility
    source: Source
    rating: int | None = strawberry.field(description="Survey answer, 0 to 10.")
    sentiment: float | None = strawberry.field(description="From -1 (negative) to 1.")
    external_ref: str | None = strawberry.field(
        description="ID in the recording system; logging it again is a no-op."
    )
    recorded_by: str = strawberry.field(description="kind:id of who recorded it.")
    created_at: datetime
    updated_at: datetime
    version: int
    amount: Money | None = strawberry.field(description="Purchase or refund amount.")
    model_: strawberry.Private[InteractionModel]

    @strawberry.field(description="What serving this touchpoint cost the firm.")
    def cost_to_serve(self, info: Info) -> Money | None:
        model = self.model_
        if model.cost_to_serve is None or model.currency is None:
            return None
        if not policies.can_read_costs(info.context.actor):
            return None
        return Money.of(model.cost_to_serve, model.currency)

    @strawberry.field(
        description="Free text. Internal notes need the right to read them."
    )
    def body(self, info: Info) -> str | None:
        if self.model_.visibility in policies.hidden_body_visibilities(
            info.context.actor
        ):
            return None
        return self.model_.body

    @strawberry.field(description="The customer this touchpoint belongs to.")
    async def customer(self, info: Info) -> CustomerT:
        from schema.customers.types import Customer

        found = await info.context.loaders.customers.load(self.model_.customer_id)
        if found is None:
            from crm.errors import NotFound

            raise NotFound("No customer with that ID.")
        return Customer.from_model(found)

    @classmethod
    def from_model(cls, model: InteractionModel) -> Interaction:
        return _interaction_of_row(model)


def _amount(model: InteractionModel) -> Money | None:
    if model.amount is None or model.currency is None:
        return None
    return Money.of(model.amount, model.currency)


_interaction_of_row = row_view(
    Interaction,
    columns=(
        "occurred_at",
        "channel",
        "direction",
        "kind",
        "subject",
        "visibility",
        "source",
        "rating",
        "sentiment",
        "external_ref",
        "recorded_by",
        "created_at",
        "updated_at",
        "version",
    ),
    computed={
        "id": lambda model: global_id("Interaction", model.id),
        "amount": _amount,
    },
)


@strawberry.input(description="How to sort interactions.")
class InteractionOrder:
    field: InteractionOrderField = DomainOrderField.OCCURRED_AT  # type: ignore[assignment]
    direction: OrderDirection = OrderDirection.DESC


def interaction_order_args(
    order: InteractionOrder | None,
) -> tuple[DomainOrderField, bool]:
    if order is None:
        return DomainOrderField.OCCURRED_AT, True
    return DomainOrderField(order.field), order.direction is OrderDirection.DESC
