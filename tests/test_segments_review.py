"""Segments under review: what partners, customers and bad input can reach."""

from __future__ import annotations

from crm.consent import service as consent_service
from crm.segments.models import Segment
from tests.client import SYSTEM, Api
from tests.test_segments import ADD, HISTORY, PREVIEW, create, gid

SATISFACTION = """query($id: ID!) {
  segment(id: $id) { satisfaction { responses } }
}"""


async def withdraw(api: Api, customer: int, purpose: str) -> None:
    async with api.db.transaction() as session:
        await consent_service.record_consent(
            session,
            SYSTEM,
            customer,
            {"purpose": purpose, "granted": False, "source": "staff"},
        )


async def test_a_partner_never_sees_in_history_a_customer_hidden_from_partners(
    api: Api,
):
    # given a static segment with Open and Private, who withdrew partner sharing
    shared = await api.customer(display_name="Open")
    private = await api.customer(display_name="Private")
    await api.interaction(private, kind="feedback", channel="web", rating=2)
    await api.interaction(shared, kind="feedback", channel="web", rating=10)
    await withdraw(api, private, "partner_sharing")
    _, manager = await api.staff("manager")
    segment = await create(api, manager, name="Both", kind="STATIC")
    ids = [gid("Customer", shared), gid("Customer", private)]
    await api.data(
        ADD, {"input": {"segmentId": segment["id"], "customerIds": ids}}, token=manager
    )
    partner = await api.partner_key(
        ["segments:read", "customers:read", "interactions:read"]
    )
    # when the partner reads its history, then only Open appears
    data = await api.data(HISTORY, {"id": segment["id"], "first": 10}, token=partner)
    history = data["segment"]["history"]
    assert [e["node"]["customerId"] for e in history["edges"]] == [ids[0]]
    assert history["totalCount"] == 1
    # and its satisfaction counts Open's rating only
    data = await api.data(SATISFACTION, {"id": segment["id"]}, token=partner)
    assert data["segment"]["satisfaction"]["responses"] == 1
    # while staff see both
    data = await api.data(HISTORY, {"id": segment["id"], "first": 10}, token=manager)
    assert data["segment"]["history"]["totalCount"] == 2


CREATE_ERRORS = """mutation($input: SegmentCreateInput!) {
  segmentCreate(input: $input) { segment { id } errors { field code message } }
}"""


async def test_an_amount_no_money_column_can_hold_is_refused_when_the_rule_is_saved(
    api: Api,
):
    # given a manager
    _, manager = await api.staff("manager")
    for amount in ("1e100000", "0.000000001", "-1e40"):
        rule = {"activity": {"amount": {"gte": amount}}}
        # when they preview or save a rule with an amount beyond NUMERIC(18, 4)
        body = await api.gql(PREVIEW, {"rule": rule}, token=manager)
        # then it is BAD_USER_INPUT naming the bound, and nothing is saved
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["field"] == "rule.activity.amount.gte"
        body = await api.gql(
            CREATE_ERRORS, {"input": {"name": "Big", "rule": rule}}, token=manager
        )
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        codes += (
            [
                e["code"]
                for e in (body["data"] or {}).get("segmentCreate", {}).get("errors", [])
            ]
            if body.get("data")
            else []
        )
        assert codes and set(codes) <= {"BAD_USER_INPUT"}, body
    assert await api.count(Segment) == 0
    # and ordinary amounts still work
    rule = {"activity": {"amount": {"gte": "99999999999999.5"}}}
    data = await api.data(PREVIEW, {"rule": rule}, token=manager)
    assert data["segmentPreview"]["count"] == 0
