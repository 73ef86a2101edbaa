"""The demo's self-service data: consents with history whose current state is the
latest decision of each slot, preferences, and feedback answered by staff."""

from __future__ import annotations

from sqlalchemy import func, select

from crm.consent.models import ConsentEvent, ConsentState, ContactPreference
from crm.demo import seed_demo
from crm.interactions.models import Interaction


async def test_the_demo_holds_consents_preferences_and_answered_feedback(db):
    await seed_demo(db, customers=300, seed=7)
    async with db.transaction(write=False) as session:
        events = (await session.scalars(select(ConsentEvent))).all()
        states = (await session.scalars(select(ConsentState))).all()
        preferences = await session.scalar(
            select(func.count()).select_from(ContactPreference)
        )
        feedback = (
            await session.scalars(
                select(Interaction).where(
                    Interaction.kind == "feedback",
                    Interaction.source.in_(("customer", "staff")),
                    (Interaction.survey.is_not(None))
                    | (Interaction.feedback_kind.is_not(None))
                    | (Interaction.direction == "outbound"),
                )
            )
        ).all()
    # Some withdrawals among the decisions
    assert any(not e.granted and e.source == "customer" for e in events)
    assert {e.purpose for e in events} >= {"marketing", "research", "profiling"}
    # The state is the latest decision of each slot, and only that
    latest: dict[tuple[int, str, str], ConsentEvent] = {}
    for e in sorted(events, key=lambda e: (e.occurred_at, e.id)):
        latest[(e.customer_id, e.purpose, e.channel)] = e
    assert {(s.customer_id, s.purpose, s.channel): s.event_id for s in states} == {
        k: e.id for k, e in latest.items()
    }
    assert preferences and preferences > 50
    surveys = [f for f in feedback if f.survey == "nps"]
    assert surveys and all(0 <= f.rating <= 10 for f in surveys)
    answers = [f for f in feedback if f.direction == "outbound"]
    asked = {f.id: f for f in feedback if f.feedback_kind is not None}
    assert answers and all(a.reply_to_id in asked for a in answers)
    assert all(asked[a.reply_to_id].customer_id == a.customer_id for a in answers)


async def test_the_demo_is_the_same_for_the_same_seed(db):
    await seed_demo(db, customers=120, seed=3)
    async with db.transaction(write=False) as session:
        first = (
            await session.execute(
                select(
                    ConsentEvent.purpose, ConsentEvent.channel, ConsentEvent.granted
                ).order_by(ConsentEvent.id)
            )
        ).all()
    from tests.conftest import wipe

    await wipe(db)
    await seed_demo(db, customers=120, seed=3)
    async with db.transaction(write=False) as session:
        second = (
            await session.execute(
                select(
                    ConsentEvent.purpose, ConsentEvent.channel, ConsentEvent.granted
                ).order_by(ConsentEvent.id)
            )
        ).all()
    assert first == second and first
