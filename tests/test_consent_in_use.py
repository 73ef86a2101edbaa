"""A consent decision governs what the firm's lists and segments select, through
GraphQL: a withdrawn consent is never used again."""

from __future__ import annotations

from typing import Any

from tests.client import Api

SET = """mutation($input: MyConsentSetInput!) {
  myConsentSet(input: $input) { errors { field code } }
}"""
CUSTOMERS = """query($where: CustomerWhere) {
  customers(first: 20, where: $where) { nodes { displayName } }
}"""
CREATE = """mutation($input: SegmentCreateInput!) {
  segmentCreate(input: $input) { segment { id } errors { field code message } }
}"""
REFRESH = """mutation($id: ID!) {
  segmentRefresh(input: {id: $id}) { errors { code } }
}"""
MEMBERS = """query($id: ID!) {
  segment(id: $id) { size members(first: 20) { nodes { displayName } } }
}"""
EMAIL_MARKETING = {"purpose": "MARKETING", "channel": "EMAIL", "granted": True}


async def consent(api: Api, customer: int, granted: bool) -> None:
    data = await api.data(
        SET,
        {"input": {**EMAIL_MARKETING, "granted": granted}},
        token=api.customer_token(customer),
    )
    assert data["myConsentSet"]["errors"] == []


async def names(api: Api, token: str, where: dict[str, Any]) -> list[str]:
    data = await api.data(CUSTOMERS, {"where": where}, token=token)
    return sorted(n["displayName"] for n in data["customers"]["nodes"])


async def test_a_withdrawn_marketing_consent_leaves_lists_and_segments(api: Api):
    # Given two customers who opted in to email marketing and one who never did
    ada = await api.customer(display_name="Ada", email="ada@example.com")
    bea = await api.customer(display_name="Bea", email="bea@example.com")
    await api.customer(display_name="Cy", email="cy@example.com")
    for customer in (ada, bea):
        await consent(api, customer, True)
    _, manager = await api.staff("manager")
    where = {"consent": EMAIL_MARKETING}
    assert await names(api, manager, where) == ["Ada", "Bea"]

    # And a marketing segment over that consent
    created = await api.data(
        CREATE,
        {"input": {"name": "Newsletter", "rule": {"consent": EMAIL_MARKETING}}},
        token=manager,
    )
    assert created["segmentCreate"]["errors"] == []
    segment = created["segmentCreate"]["segment"]["id"]
    await api.data(REFRESH, {"id": segment}, token=manager)
    members = (await api.data(MEMBERS, {"id": segment}, token=manager))["segment"]
    assert members["size"] == 2

    # When Ada withdraws
    await consent(api, ada, False)

    # Then lists stop selecting her at once, and the next refresh drops her
    assert await names(api, manager, where) == ["Bea"]
    refreshed = await api.data(REFRESH, {"id": segment}, token=manager)
    assert refreshed["segmentRefresh"]["errors"] == []
    members = (await api.data(MEMBERS, {"id": segment}, token=manager))["segment"]
    assert members["size"] == 1
    assert [n["displayName"] for n in members["members"]["nodes"]] == ["Bea"]


async def test_filtering_by_consent_needs_the_right_to_read_consents(api: Api):
    # Given a partner key without consents:read
    await api.customer(display_name="Ada")
    key = await api.partner_key(["customers:read"])

    # When it filters customers by consent, it is refused with the exact code
    body = await api.gql(CUSTOMERS, {"where": {"consent": EMAIL_MARKETING}}, token=key)

    # Then nothing is returned
    assert body["data"] is None or body["data"]["customers"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
