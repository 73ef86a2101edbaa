"""The customer's own view: its own types, holding only what a customer may see.

Firm types (Customer, Interaction) are never returned to a customer, so a firm-only
field cannot be selected here at all: asking for one fails validation.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm.customers.models import Customer as CustomerModel
from crm.interactions.models import Interaction as InteractionModel
from crm.me import service
from crm.pagination import count
from schema.consent import loaders as consent_loaders
from schema.consent.enums import FeedbackKind, Survey
from schema.context import Info
from schema.enums import Channel, Direction, InteractionKind
from schema.interactions.types import Money
from schema.me.consent import MeConsent
from schema.me.exports import MeExports
from schema.me.inputs import MyInteractionWhere
from schema.me.insights import MeInsights
from schema.me.segments import MeSegments
from schema.me.selfservice import MeSelfService
from schema.relay import (
    Connection,
    Edge,
    Node,
    PageInfo,
    connection,
    global_id,
    page_args,
)
from schema.scalars import plain


@strawberry.type(description="Your own record: the contact details the firm holds.")
class MyProfile(Node):
    email: str | None = strawberry.field(description="Your email address.")
    phone: str | None = strawberry.field(description="Your phone number.")
    given_name: str | None = strawberry.field(description="Your given name.")
    family_name: str | None = strawberry.field(description="Your family name.")
    display_name: str = strawberry.field(description="The name shown for you.")
    company: str | None = strawberry.field(description="The company you are with.")
    locale: str | None = strawberry.field(
        description="Your language, as a BCP 47 tag (e.g. en-GB)."
    )
    time_zone: str | None = strawberry.field(description="Your IANA time zone.")
    created_at: datetime = strawberry.field(description="When the record was made.")
    updated_at: datetime = strawberry.field(description="When the record last changed.")

    @classmethod
    def from_model(cls, model: CustomerModel) -> MyProfile:
        return cls(
            id=global_id("Customer", model.id),
            email=model.email,
            phone=model.phone,
            given_name=model.given_name,
            family_name=model.family_name,
            display_name=model.display_name,
            company=model.company,
            locale=model.locale,
            time_zone=model.time_zone,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


@strawberry.type(description="A touchpoint with the firm that it shares with you.")
class MyInteraction(Node):
    occurred_at: datetime = strawberry.field(description="When it happened.")
    channel: Channel = strawberry.field(description="The medium it happened on.")
    direction: Direction = strawberry.field(description="Who started it.")
    kind: InteractionKind = strawberry.field(description="What happened.")
    subject: str | None = strawberry.field(description="Its subject line.")
    body: str | None = strawberry.field(description="Its text.")
    amount: Money | None = strawberry.field(
        description="What a purchase cost you or a refund returned."
    )
    rating: int | None = strawberry.field(
        description="Your rating: 0 to 10 for NPS, 1 to 5 for CSAT (see survey)."
    )
    survey: Survey | None = strawberry.field(
        description="The survey your rating answers, if it answers one."
    )
    feedback_kind: FeedbackKind | None = strawberry.field(
        description="What your feedback is (idea, request...), if it is some."
    )
    model_: strawberry.Private[InteractionModel]

    @strawberry.field(
        description="The firm's answers to this interaction (to your feedback), "
        "oldest first."
    )
    async def answers(self, info: Info) -> list[MyInteraction]:
        assert self.model_.id is not None
        found = await consent_loaders.my_answers(info).load(self.model_.id)
        return [MyInteraction.from_model(answer) for answer in found]

    @classmethod
    def from_model(cls, model: InteractionModel) -> MyInteraction:
        amount = None
        if model.amount is not None and model.currency is not None:
            amount = Money.of(model.amount, model.currency)
        return cls(
            id=global_id("Interaction", model.id),
            occurred_at=model.occurred_at,
            channel=Channel(model.channel),
            direction=Direction(model.direction),
            kind=InteractionKind(model.kind),
            subject=model.subject,
            body=model.body,
            amount=amount,
            rating=model.rating,
            survey=Survey(model.survey) if model.survey else None,
            feedback_kind=(
                FeedbackKind(model.feedback_kind) if model.feedback_kind else None
            ),
            model_=model,
        )


# Specialised only to describe their fields, as every field is described.
@strawberry.type(description="One of your interactions and its cursor.")
class MyInteractionEdge(Edge[MyInteraction]):
    cursor: str = strawberry.field(
        description="Where the item sits: pass it as `after` or `before`."
    )
    node: MyInteraction = strawberry.field(description="The interaction.")


@strawberry.type(description="A page of your interactions, newest first.")
class MyInteractionConnection(Connection[MyInteraction]):
    edges: list[MyInteractionEdge] = strawberry.field(  # type: ignore[assignment]
        description="The page's items with their cursors."
    )
    page_info: PageInfo = strawberry.field(description="Where the page sits.")


@strawberry.type(
    description="Your own view as a customer: what the firm holds about you and "
    "shares with you."
)
class Me(MeSegments, MeInsights, MeConsent, MeSelfService, MeExports):
    @strawberry.field(description="Your contact details.")
    async def profile(self, info: Info) -> MyProfile:
        ctx = info.context
        return MyProfile.from_model(await service.my_profile(ctx.session, ctx.actor))

    @strawberry.field(
        description="Your interactions with the firm that it shares with you, "
        "newest first.",
        graphql_type=MyInteractionConnection | None,
    )
    async def interactions(
        self,
        info: Info,
        where: MyInteractionWhere | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[MyInteraction]:
        session = info.context.session
        listed = await service.my_interactions(
            session,
            info.context.actor,
            where=plain(where) if where is not None else None,
            page=page_args(first, after, last, before),
        )
        return connection(
            listed.page,
            MyInteraction.from_model,
            lambda: count(session, listed.count_statement),
        )
