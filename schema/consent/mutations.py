"""Mutations for consent, contact preferences and feedback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec

import strawberry

from crm.consent import feedback, preferences, service
from crm.interactions.models import Interaction as InteractionModel
from crm.permissions import Permission
from schema.consent.inputs import (
    ConsentRecordInput,
    CustomerPreferencesSetInput,
    FeedbackAnswerInput,
    MyConsentSetInput,
    MyFeedbackSubmitInput,
    MyInteractionRateInput,
    MyPreferencesSetInput,
    MySurveyAnswerInput,
)
from schema.consent.types import Consent, ConsentEvent, ContactPreferences
from schema.context import Info
from schema.errors import UserError, attempt
from schema.interactions.types import Interaction
from schema.me.consent import MyConsent, MyPreferences
from schema.me.permissions import IsCustomer
from schema.me.types import MyInteraction
from schema.permissions import Has, gate
from schema.relay import pk_of
from schema.scalars import plain, provided

Params = ParamSpec("Params")


@strawberry.type(description="The result of myConsentSet.")
class MyConsentPayload:
    consent: MyConsent | None = strawberry.field(
        default=None, description="The consent as it applies now."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of consentRecord.")
class ConsentRecordPayload:
    consent: Consent | None = strawberry.field(
        default=None,
        description="The consent as it applies now (unchanged when a later decision "
        "applies).",
    )
    event: ConsentEvent | None = strawberry.field(
        default=None, description="The ledger entry written."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of myPreferencesSet.")
class MyPreferencesPayload:
    preferences: MyPreferences | None = strawberry.field(
        default=None, description="Your preferences now."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of customerPreferencesSet.")
class CustomerPreferencesPayload:
    preferences: ContactPreferences | None = strawberry.field(
        default=None, description="The customer's preferences now."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of a rating, a survey answer or feedback.")
class MyFeedbackPayload:
    interaction: MyInteraction | None = strawberry.field(
        default=None, description="Your feedback, as it now shows in your history."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


@strawberry.type(description="The result of feedbackAnswer.")
class FeedbackAnswerPayload:
    interaction: Interaction | None = strawberry.field(
        default=None, description="The answer, shared with the customer."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was wrong with the input."
    )


async def _my_feedback(
    info: Info,
    give: Callable[Concatenate[Any, Any, Params], Awaitable[InteractionModel]],
    *args: Params.args,
    **kwargs: Params.kwargs,
) -> MyFeedbackPayload:
    """The customer's feedback given through `give`, as it shows in their history."""
    ctx = info.context
    return await attempt(
        ctx.session,
        lambda: give(ctx.session, ctx.actor, *args, **kwargs),
        lambda created: MyFeedbackPayload(
            interaction=MyInteraction.from_model(created)
        ),
        MyFeedbackPayload,
    )


@strawberry.type
class ConsentMutations:
    @strawberry.mutation(
        description="Grant or withdraw one of your consents; it applies at once and "
        "is kept in your consent history.",
        extensions=gate(IsCustomer()),
    )
    async def my_consent_set(
        self, info: Info, input: MyConsentSetInput
    ) -> MyConsentPayload:
        ctx = info.context
        data = plain(input)
        return await attempt(
            ctx.session,
            lambda: service.set_my_consent(ctx.session, ctx.actor, data),
            lambda result: MyConsentPayload(consent=MyConsent.of(result.status)),
            MyConsentPayload,
        )

    @strawberry.mutation(
        description="Record a consent a customer gave or withdrew elsewhere (form, "
        "call, event...), with its source.",
        extensions=gate(Has(Permission.CONSENTS_WRITE)),
    )
    async def consent_record(
        self, info: Info, input: ConsentRecordInput
    ) -> ConsentRecordPayload:
        ctx = info.context
        customer_id = pk_of(input.customer_id, "Customer", field="input.customerId")
        data = provided(input, exclude=("customer_id",))
        return await attempt(
            ctx.session,
            lambda: service.record_consent(ctx.session, ctx.actor, customer_id, data),
            lambda result: ConsentRecordPayload(
                consent=Consent.of(result.status),
                event=ConsentEvent.from_model(result.event),
            ),
            ConsentRecordPayload,
        )

    @strawberry.mutation(
        description="Say how you like to be contacted.",
        extensions=gate(IsCustomer()),
    )
    async def my_preferences_set(
        self, info: Info, input: MyPreferencesSetInput
    ) -> MyPreferencesPayload:
        ctx = info.context
        data = provided(input)
        return await attempt(
            ctx.session,
            lambda: preferences.set_my_preferences(ctx.session, ctx.actor, data),
            lambda row: MyPreferencesPayload(preferences=MyPreferences.of(row)),
            MyPreferencesPayload,
        )

    @strawberry.mutation(
        description="Note how a customer likes to be contacted.",
        extensions=gate(Has(Permission.CUSTOMERS_WRITE)),
    )
    async def customer_preferences_set(
        self, info: Info, input: CustomerPreferencesSetInput
    ) -> CustomerPreferencesPayload:
        ctx = info.context
        customer_id = pk_of(input.customer_id, "Customer", field="input.customerId")
        data = provided(input, exclude=("customer_id",))
        return await attempt(
            ctx.session,
            lambda: preferences.set_preferences(
                ctx.session, ctx.actor, customer_id, data
            ),
            lambda row: CustomerPreferencesPayload(
                preferences=ContactPreferences.of(row)
            ),
            CustomerPreferencesPayload,
        )

    @strawberry.mutation(
        description="Rate (CSAT, 1 to 5) an interaction the firm shared with you.",
        extensions=gate(IsCustomer()),
    )
    async def my_interaction_rate(
        self, info: Info, input: MyInteractionRateInput
    ) -> MyFeedbackPayload:
        rated = pk_of(input.interaction_id, "Interaction", field="input.interactionId")
        data = provided(input, exclude=("interaction_id",))
        return await _my_feedback(info, feedback.rate_interaction, rated, **data)

    @strawberry.mutation(
        description="Answer a survey: NPS (0 to 10) or CSAT (1 to 5).",
        extensions=gate(IsCustomer()),
    )
    async def my_survey_answer(
        self, info: Info, input: MySurveyAnswerInput
    ) -> MyFeedbackPayload:
        return await _my_feedback(info, feedback.answer_survey, **provided(input))

    @strawberry.mutation(
        description="Send the firm an idea, a request, a complaint or praise.",
        extensions=gate(IsCustomer()),
    )
    async def my_feedback_submit(
        self, info: Info, input: MyFeedbackSubmitInput
    ) -> MyFeedbackPayload:
        return await _my_feedback(info, feedback.submit_feedback, **provided(input))

    @strawberry.mutation(
        description="Answer a customer's feedback; the answer is shared with them.",
        extensions=gate(Has(Permission.INTERACTIONS_WRITE)),
    )
    async def feedback_answer(
        self, info: Info, input: FeedbackAnswerInput
    ) -> FeedbackAnswerPayload:
        ctx = info.context
        answered = pk_of(
            input.interaction_id, "Interaction", field="input.interactionId"
        )
        body = input.body
        return await attempt(
            ctx.session,
            lambda: feedback.answer_feedback(
                ctx.session, ctx.actor, answered, body=body
            ),
            lambda created: FeedbackAnswerPayload(
                interaction=Interaction.from_model(created)
            ),
            FeedbackAnswerPayload,
        )
