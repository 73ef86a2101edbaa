"""Feedback and co-creation: a customer rates a shared interaction, answers a survey
or sends an idea; each becomes a shared interaction from the customer; staff answer
it and the customer (and only they) sees the answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.ids import to_global_id
from crm.interactions.models import Interaction

RATE = """mutation($input: MyInteractionRateInput!) { myInteractionRate(input: $input) {
  interaction { id kind direction rating survey body subject }
  errors { field code message } } }"""
SURVEY = """mutation($input: MySurveyAnswerInput!) { mySurveyAnswer(input: $input) {
  interaction { id kind rating survey body }
  errors { field code message } } }"""
SUBMIT = """mutation($input: MyFeedbackSubmitInput!) { myFeedbackSubmit(input: $input) {
  interaction { id kind feedbackKind subject body }
  errors { field code message } } }"""
ANSWER = """mutation($input: FeedbackAnswerInput!) { feedbackAnswer(input: $input) {
  interaction { id kind direction visibility subject source }
  errors { field code message } } }"""
MY_INTERACTIONS = """{ me { interactions(first: 50) { nodes {
  id kind subject rating survey feedbackKind answers { id subject body direction }
} } } }"""


def iid(pk: int) -> str:
    return to_global_id("Interaction", pk)


def pk(global_id: str) -> int:
    from crm.ids import parse_global_id

    return parse_global_id(global_id)[1]


async def rows(api) -> list[Interaction]:
    async with api.db.transaction(write=False) as session:
        return list(
            (await session.scalars(select(Interaction).order_by(Interaction.id))).all()
        )


async def shared(api, customer: int, **fields: Any) -> int:
    return await api.interaction(customer, visibility="shared", **fields)


async def test_a_customer_rates_a_shared_interaction(api):
    me = await api.customer(email="ada@example.com")
    visit = await shared(api, me, subject="Store visit", kind="visit")
    data = await api.data(
        RATE,
        {"input": {"interactionId": iid(visit), "rating": 4, "comment": "Kind staff"}},
        token=api.customer_token(me),
    )
    result = data["myInteractionRate"]
    assert result["errors"] == []
    assert result["interaction"] == {
        "id": result["interaction"]["id"],
        "kind": "FEEDBACK",
        "direction": "INBOUND",
        "rating": 4,
        "survey": "CSAT",
        "body": "Kind staff",
        "subject": "Rating of Store visit",
    }
    created = (await rows(api))[-1]
    assert (created.source, created.visibility, created.reply_to_id) == (
        "customer",
        "shared",
        visit,
    )
    assert created.customer_id == me and created.recorded_by == f"customer:{me}"
    async with api.db.transaction(write=False) as session:
        audit = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.entity_type == "Interaction",
                AuditEvent.entity_id == created.id,
            )
        )
    assert audit is not None and audit.action == "interaction.logged"
    assert audit.changes["survey"] == {"before": None, "after": "csat"}


async def test_another_customers_or_an_internal_interaction_cannot_be_rated(api):
    me = await api.customer(email="me@example.com")
    other = await api.customer(email="other@example.com")
    theirs = await shared(api, other, subject="Theirs")
    internal = await api.interaction(me, subject="Internal note")
    before = [r.id for r in await rows(api)]
    token = api.customer_token(me)
    for target in (theirs, internal, 999_999):
        variables = {"input": {"interactionId": iid(target), "rating": 5}}
        assert await api.error_code(RATE, variables, token=token) == "NOT_FOUND"
    assert [r.id for r in await rows(api)] == before


async def test_ratings_outside_their_scale_are_payload_errors(api):
    me = await api.customer(email="range@example.com")
    visit = await shared(api, me, kind="visit")
    token = api.customer_token(me)
    before = len(await rows(api))
    cases = [
        (RATE, "myInteractionRate", {"interactionId": iid(visit), "rating": 0}),
        (RATE, "myInteractionRate", {"interactionId": iid(visit), "rating": 6}),
        (SURVEY, "mySurveyAnswer", {"survey": "NPS", "rating": 11}),
        (SURVEY, "mySurveyAnswer", {"survey": "NPS", "rating": -1}),
        (SURVEY, "mySurveyAnswer", {"survey": "CSAT", "rating": 0}),
    ]
    for document, name, input_ in cases:
        result = (await api.data(document, {"input": input_}, token=token))[name]
        assert result["interaction"] is None
        assert [(e["field"], e["code"]) for e in result["errors"]] == [
            ("rating", "OUT_OF_RANGE")
        ], input_
    long = {"survey": "NPS", "rating": 9, "comment": "x" * 4001}
    result = (await api.data(SURVEY, {"input": long}, token=token))["mySurveyAnswer"]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("comment", "TOO_LONG")
    ]
    assert len(await rows(api)) == before


async def test_survey_answers_at_both_ends_of_the_scale_are_kept(api):
    me = await api.customer(email="nps@example.com")
    token = api.customer_token(me)
    for survey, rating in (("NPS", 0), ("NPS", 10), ("CSAT", 1), ("CSAT", 5)):
        result = (
            await api.data(
                SURVEY, {"input": {"survey": survey, "rating": rating}}, token=token
            )
        )["mySurveyAnswer"]
        assert result["errors"] == []
        assert (result["interaction"]["survey"], result["interaction"]["rating"]) == (
            survey,
            rating,
        )
    kept = await rows(api)
    assert [(r.survey, r.rating, r.kind, r.source) for r in kept] == [
        ("nps", 0, "feedback", "customer"),
        ("nps", 10, "feedback", "customer"),
        ("csat", 1, "feedback", "customer"),
        ("csat", 5, "feedback", "customer"),
    ]


async def test_an_idea_is_submitted_and_validated(api):
    me = await api.customer(email="idea@example.com")
    token = api.customer_token(me)
    data = await api.data(
        SUBMIT,
        {"input": {"kind": "IDEA", "subject": "Night opening", "body": "Open late"}},
        token=token,
    )
    assert data["myFeedbackSubmit"]["interaction"]["feedbackKind"] == "IDEA"
    bad = await api.data(
        SUBMIT,
        {"input": {"kind": "REQUEST", "subject": " ", "body": "y" * 4001}},
        token=token,
    )
    errors = bad["myFeedbackSubmit"]["errors"]
    assert {(e["field"], e["code"]) for e in errors} == {
        ("subject", "REQUIRED"),
        ("body", "TOO_LONG"),
    }
    assert [r.feedback_kind for r in await rows(api)] == ["idea"]


async def test_staff_answer_feedback_and_only_that_customer_sees_the_answer(api):
    me = await api.customer(email="asker@example.com")
    other = await api.customer(email="bystander@example.com")
    token = api.customer_token(me)
    idea = (
        await api.data(
            SUBMIT,
            {"input": {"kind": "COMPLAINT", "subject": "Late parcel", "body": "Late"}},
            token=token,
        )
    )["myFeedbackSubmit"]["interaction"]
    agent, staff = await api.staff("agent")
    answer = (
        await api.data(
            ANSWER,
            {"input": {"interactionId": idea["id"], "body": "Sorry, refunded."}},
            token=staff,
        )
    )["feedbackAnswer"]
    assert answer["errors"] == []
    assert answer["interaction"]["direction"] == "OUTBOUND"
    assert answer["interaction"]["visibility"] == "SHARED"
    assert answer["interaction"]["subject"] == "Re: Late parcel"
    assert answer["interaction"]["source"] == "STAFF"
    # The customer sees the answer on their feedback
    mine = (await api.data(MY_INTERACTIONS, token=token))["me"]["interactions"]
    asked = next(n for n in mine["nodes"] if n["id"] == idea["id"])
    assert [a["body"] for a in asked["answers"]] == ["Sorry, refunded."]
    assert asked["answers"][0]["id"] == answer["interaction"]["id"]
    # Another customer sees neither, not even by ID
    theirs = api.customer_token(other)
    listed = (await api.data(MY_INTERACTIONS, token=theirs))["me"]["interactions"]
    assert listed["nodes"] == []
    node = {"id": answer["interaction"]["id"]}
    code = await api.error_code(
        "query($id: ID!) { node(id: $id) { id } }", node, token=theirs
    )
    assert code == "NOT_FOUND"
    stored = next(r for r in await rows(api) if r.id == pk(answer["interaction"]["id"]))
    assert stored.reply_to_id == pk(idea["id"])
    assert stored.recorded_by_staff_id == agent


async def test_only_customer_feedback_can_be_answered_and_only_by_writers(api):
    me = await api.customer(email="who@example.com")
    note = await api.interaction(me, subject="A support call")
    token = api.customer_token(me)
    survey = (
        await api.data(SURVEY, {"input": {"survey": "NPS", "rating": 3}}, token=token)
    )["mySurveyAnswer"]["interaction"]
    before = len(await rows(api))
    _, agent = await api.staff("agent")
    not_feedback = (
        await api.data(
            ANSWER,
            {"input": {"interactionId": iid(note), "body": "Hello"}},
            token=agent,
        )
    )["feedbackAnswer"]
    assert [(e["field"], e["code"]) for e in not_feedback["errors"]] == [
        ("interactionId", "NOT_FEEDBACK")
    ]
    empty = (
        await api.data(
            ANSWER, {"input": {"interactionId": survey["id"], "body": ""}}, token=agent
        )
    )["feedbackAnswer"]
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("body", "REQUIRED")]
    _, analyst = await api.staff("analyst")
    variables = {"input": {"interactionId": survey["id"], "body": "Thanks"}}
    assert await api.error_code(ANSWER, variables, token=analyst) == "FORBIDDEN"
    assert await api.error_code(ANSWER, variables, token=token) == "FORBIDDEN"
    key = await api.partner_key(["customers:read", "interactions:read"])
    assert await api.error_code(ANSWER, variables, token=key) == "FORBIDDEN"
    # Customer mutations are the customer's only
    rate = {"input": {"interactionId": survey["id"], "rating": 3}}
    assert await api.error_code(RATE, rate, token=agent) == "FORBIDDEN"
    assert len(await rows(api)) == before


async def test_answers_of_a_page_take_a_fixed_number_of_statements(api):
    from tests.test_query_counts import statements_of

    me = await api.customer(email="many@example.com")
    token = api.customer_token(me)
    _, staff = await api.staff("agent")
    for n in range(6):
        feedback = (
            await api.data(
                SURVEY, {"input": {"survey": "CSAT", "rating": 1 + n % 5}}, token=token
            )
        )["mySurveyAnswer"]["interaction"]
        await api.data(
            ANSWER,
            {"input": {"interactionId": feedback["id"], "body": f"Answer {n}"}},
            token=staff,
        )
    query = """query($first: Int) { me { interactions(first: $first) { nodes {
      id answers { id body } } } } }"""
    small = await statements_of(api, query, {"first": 2}, token=token)
    large = await statements_of(api, query, {"first": 12}, token=token)
    assert len(small) == len(large)
