"""Feedback and co-creation: ratings, survey answers, ideas, and the firm's answers.

Each is an interaction, so the measures over interactions count it:
- kind FEEDBACK, source CUSTOMER, direction INBOUND, visibility SHARED, channel WEB;
- a rating of an interaction: `survey` csat (1-5), `reply_to_id` the rated one;
- a survey answer: `survey` nps (0-10) or csat (1-5), `rating`;
- an idea, request, complaint or praise: `feedback_kind`, subject and body;
- the firm's answer: kind FEEDBACK, direction OUTBOUND, SHARED, `reply_to_id` the
  customer's feedback; the customer sees it in their own view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm import events
from crm.actors import Actor, StaffActor
from crm.columns import utcnow
from crm.consent.service import my_active_id
from crm.interactions import policies as interaction_policies
from crm.interactions import service as interaction_service
from crm.interactions.models import (
    SURVEY_RANGES,
    Channel,
    Direction,
    FeedbackKind,
    Interaction,
    InteractionKind,
    Source,
    Survey,
    Visibility,
)
from crm.me import policies as me_policies
from crm.me import service as me_service
from crm.validation import Errors, clean_enum, clean_text

MAX_SUBJECT = 200
MAX_TEXT = 4000


def _clean_rating(errors: Errors, survey: Survey, value: Any) -> int | None:
    low, high = SURVEY_RANGES[survey]
    if value is None:
        errors.add("rating", "REQUIRED", "rating is required.")
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        errors.add(
            "rating",
            "OUT_OF_RANGE",
            f"A {survey.value.upper()} rating is a whole number from {low} to {high}.",
        )
        return None
    return value


async def _log(
    session: AsyncSession,
    actor: Actor,
    interaction: Interaction,
) -> Interaction:
    session.add(interaction)
    await session.flush()
    assert interaction.id is not None
    await events.record(
        session,
        actor,
        action="interaction.logged",
        entity_type="Interaction",
        entity_id=interaction.id,
        changes=events.diff(
            {},
            {
                k: v
                for k, v in interaction_service.snapshot(interaction).items()
                if v is not None
            }
            | {
                k: getattr(interaction, k)
                for k in ("survey", "feedback_kind", "reply_to_id")
                if getattr(interaction, k) is not None
            },
        ),
        payload={
            "customer_id": interaction.customer_id,
            "kind": interaction.kind,
            "survey": interaction.survey,
            "feedback_kind": interaction.feedback_kind,
            "reply_to_id": interaction.reply_to_id,
        },
    )
    return interaction


def _from_customer(customer_id: int, actor: Actor, **fields: Any) -> Interaction:
    return Interaction(
        customer_id=customer_id,
        occurred_at=utcnow(),
        channel=Channel.WEB.value,
        direction=Direction.INBOUND.value,
        kind=InteractionKind.FEEDBACK.value,
        visibility=Visibility.SHARED.value,
        source=Source.CUSTOMER.value,
        recorded_by=actor.ref,
        **fields,
    )


async def rate_interaction(
    session: AsyncSession,
    actor: Actor,
    interaction_id: int,
    *,
    rating: Any,
    comment: Any = None,
) -> Interaction:
    """The customer rates (CSAT 1-5) one of the interactions shared with them."""
    rated = await me_service.get_my_interaction(session, actor, interaction_id)
    errors = Errors()
    if rated.source == Source.CUSTOMER.value:
        errors.add(
            "interaction_id",
            "NOT_RATEABLE",
            "Rate what the firm did, not your own feedback.",
        )
    score = _clean_rating(errors, Survey.CSAT, rating)
    body = clean_text(errors, "comment", comment, max_length=MAX_TEXT)
    errors.raise_if_any()
    return await _log(
        session,
        actor,
        _from_customer(
            rated.customer_id,
            actor,
            rating=score,
            survey=Survey.CSAT.value,
            body=body,
            subject=f"Rating of {rated.subject}"[:MAX_SUBJECT]
            if rated.subject
            else None,
            reply_to_id=rated.id,
        ),
    )


async def answer_survey(
    session: AsyncSession,
    actor: Actor,
    *,
    survey: Any,
    rating: Any,
    comment: Any = None,
) -> Interaction:
    """The customer answers a survey: NPS (0-10) or CSAT (1-5)."""
    customer_id = await my_active_id(session, actor)
    errors = Errors()
    kind = clean_enum(errors, "survey", survey, Survey, required=True)
    score = _clean_rating(errors, Survey(kind), rating) if kind else None
    body = clean_text(errors, "comment", comment, max_length=MAX_TEXT)
    errors.raise_if_any()
    assert kind is not None
    return await _log(
        session,
        actor,
        _from_customer(customer_id, actor, rating=score, survey=kind, body=body),
    )


async def submit_feedback(
    session: AsyncSession,
    actor: Actor,
    *,
    kind: Any,
    subject: Any,
    body: Any,
) -> Interaction:
    """The customer submits an idea, a request, a complaint or praise."""
    customer_id = await my_active_id(session, actor)
    errors = Errors()
    feedback_kind = clean_enum(errors, "kind", kind, FeedbackKind, required=True)
    title = clean_text(
        errors, "subject", subject, max_length=MAX_SUBJECT, required=True
    )
    text = clean_text(errors, "body", body, max_length=MAX_TEXT, required=True)
    errors.raise_if_any()
    return await _log(
        session,
        actor,
        _from_customer(
            customer_id, actor, feedback_kind=feedback_kind, subject=title, body=text
        ),
    )


async def answer_feedback(
    session: AsyncSession, actor: Actor, interaction_id: int, *, body: Any
) -> Interaction:
    """The firm answers a customer's feedback; the customer sees the answer."""
    interaction_policies.can_write(actor)
    feedback = await interaction_service.get_interaction(session, actor, interaction_id)
    errors = Errors()
    if (
        feedback.kind != InteractionKind.FEEDBACK.value
        or feedback.source != Source.CUSTOMER.value
    ):
        errors.add(
            "interaction_id",
            "NOT_FEEDBACK",
            "Only feedback a customer gave (ratings, surveys, ideas) can be answered.",
        )
    text = clean_text(errors, "body", body, max_length=MAX_TEXT, required=True)
    errors.raise_if_any()
    topic = feedback.subject or (
        f"Your {feedback.feedback_kind}" if feedback.feedback_kind else "Your feedback"
    )
    answer = Interaction(
        customer_id=feedback.customer_id,
        occurred_at=utcnow(),
        channel=feedback.channel,
        direction=Direction.OUTBOUND.value,
        kind=InteractionKind.FEEDBACK.value,
        visibility=Visibility.SHARED.value,
        source=interaction_service.source_of(actor).value,
        recorded_by=actor.ref,
        recorded_by_staff_id=actor.staff_id if isinstance(actor, StaffActor) else None,
        subject=f"Re: {topic}"[:MAX_SUBJECT],
        body=text,
        reply_to_id=feedback.id,
    )
    return await _log(session, actor, answer)


async def my_answers(
    session: AsyncSession, actor: Actor, interaction_ids: Sequence[int]
) -> dict[int, list[Interaction]]:
    """The firm's shared answers to some of the customer's interactions, oldest
    first, in one statement."""
    wanted = list(set(interaction_ids))
    grouped: dict[int, list[Interaction]] = {i: [] for i in wanted}
    if not wanted:
        return grouped
    rows = await session.scalars(
        select(Interaction)
        .where(
            me_policies.interaction_scope(actor),
            col(Interaction.reply_to_id).in_(wanted),
            col(Interaction.direction) == Direction.OUTBOUND.value,
        )
        .order_by(col(Interaction.occurred_at), col(Interaction.id))
    )
    for row in rows:
        assert row.reply_to_id is not None
        grouped[row.reply_to_id].append(row)
    return grouped
