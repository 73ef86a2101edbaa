"""Permission-matrix entries for the consent root fields (see tests/matrix/core.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.columns import utcnow
from crm.interactions.models import Interaction
from tests.client import SYSTEM
from tests.matrix.core import ERRORS, Audience, Op, World, gid, input_of, mutation
from tests.matrix.core import P as Perm

OPERATIONS: dict[tuple[str, str], Op] = {
    ("Mutation", "myConsentSet"): mutation(
        "myConsentSet",
        "MyConsentSetInput",
        f"consent {{ granted }} {ERRORS}",
        variables=input_of(
            lambda w: {"purpose": "MARKETING", "channel": "EMAIL", "granted": True}
        ),
        audience=Audience.CUSTOMER,
    ),
    ("Mutation", "myPreferencesSet"): mutation(
        "myPreferencesSet",
        "MyPreferencesSetInput",
        f"preferences {{ language }} {ERRORS}",
        variables=input_of(lambda w: {"language": "en-GB"}),
        audience=Audience.CUSTOMER,
    ),
    ("Mutation", "myInteractionRate"): mutation(
        "myInteractionRate",
        "MyInteractionRateInput",
        f"interaction {{ id }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "interactionId": gid("Interaction", w.extra["consent_shared"]),
                "rating": 5,
            }
        ),
        audience=Audience.CUSTOMER,
    ),
    ("Mutation", "mySurveyAnswer"): mutation(
        "mySurveyAnswer",
        "MySurveyAnswerInput",
        f"interaction {{ id }} {ERRORS}",
        variables=input_of(lambda w: {"survey": "NPS", "rating": 9}),
        audience=Audience.CUSTOMER,
    ),
    ("Mutation", "myFeedbackSubmit"): mutation(
        "myFeedbackSubmit",
        "MyFeedbackSubmitInput",
        f"interaction {{ id }} {ERRORS}",
        variables=input_of(
            lambda w: {"kind": "IDEA", "subject": "Matrix", "body": "An idea"}
        ),
        audience=Audience.CUSTOMER,
    ),
    ("Mutation", "consentRecord"): mutation(
        "consentRecord",
        "ConsentRecordInput",
        f"event {{ granted }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "customerId": gid("Customer", w.customer),
                "purpose": "RESEARCH",
                "granted": True,
                "source": "PAPER_FORM",
            }
        ),
        gate=Perm.CONSENTS_WRITE,
        also=frozenset({Perm.CUSTOMERS_READ}),
    ),
    ("Mutation", "customerPreferencesSet"): mutation(
        "customerPreferencesSet",
        "CustomerPreferencesSetInput",
        f"preferences {{ preferredChannel }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "customerId": gid("Customer", w.customer),
                "preferredChannel": "POST",
            }
        ),
        gate=Perm.CUSTOMERS_WRITE,
        also=frozenset({Perm.CUSTOMERS_READ}),
    ),
    ("Mutation", "feedbackAnswer"): mutation(
        "feedbackAnswer",
        "FeedbackAnswerInput",
        f"interaction {{ id }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "interactionId": gid("Interaction", w.extra["consent_feedback"]),
                "body": "Thank you",
            }
        ),
        gate=Perm.INTERACTIONS_WRITE,
        also=frozenset({Perm.INTERACTIONS_READ}),
    ),
}


async def build(session: AsyncSession, world: World) -> dict[str, int]:
    """The rows these operations work on, by name (world.extra)."""
    shared = Interaction(
        customer_id=world.customer,
        occurred_at=utcnow(),
        channel="store",
        direction="inbound",
        kind="visit",
        visibility="shared",
        source="staff",
        recorded_by=SYSTEM.ref,
    )
    feedback = Interaction(
        customer_id=world.customer,
        occurred_at=shared.occurred_at,
        channel="web",
        direction="inbound",
        kind="feedback",
        visibility="shared",
        source="customer",
        feedback_kind="idea",
        subject="An idea",
        recorded_by=f"customer:{world.customer}",
    )
    session.add_all([shared, feedback])
    await session.flush()
    assert shared.id is not None and feedback.id is not None
    return {"consent_shared": shared.id, "consent_feedback": feedback.id}
