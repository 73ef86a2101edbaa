"""Partner sharing withdrawn: the customer disappears from every read of every
partner key at once (lists, search, one by ID, node, interactions, filters, counts)
and no key can write to them; staff still see them; a new grant brings them back."""

from __future__ import annotations

from typing import Any

from crm.ids import to_global_id
from crm.interactions.models import Interaction

ALL_SCOPES = [
    "customers:read",
    "customers:write",
    "interactions:read",
    "interactions:write",
    "consents:read",
]
SET = """mutation($input: MyConsentSetInput!) { myConsentSet(input: $input) {
  consent { granted } errors { code } } }"""
READS = """{
  customers(first: 20) { totalCount nodes { id } }
  found: customers(first: 20, search: "hidden") { totalCount nodes { id } }
  interactions(first: 20) { totalCount nodes { id } }
  byCustomer: interactions(
    first: 20, where: {customer: {email: {eq: "hidden@example.com"}}}
  ) { totalCount nodes { id } }
  withInteractions: customers(
    first: 20, where: {interactions: {some: {kind: {eq: SUPPORT}}}}
  ) { totalCount nodes { id } }
}"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
ONE = "query($id: ID!) { customer(id: $id) { id } }"
ONE_INTERACTION = "query($id: ID!) { interaction(id: $id) { id } }"
UPDATE = """mutation($input: CustomerUpdateInput!) { customerUpdate(input: $input) {
  customer { id } errors { code } } }"""
LOG = """mutation($input: InteractionLogInput!) { interactionLog(input: $input) {
  interaction { id } errors { code } } }"""


def cid(pk: int) -> str:
    return to_global_id("Customer", pk)


def iid(pk: int) -> str:
    return to_global_id("Interaction", pk)


def ids(connection: dict[str, Any]) -> set[str]:
    return {n["id"] for n in connection["nodes"]}


async def set_sharing(api, customer: int, granted: bool) -> None:
    data = await api.data(
        SET,
        {"input": {"purpose": "PARTNER_SHARING", "granted": granted}},
        token=api.customer_token(customer),
    )
    assert data["myConsentSet"]["errors"] == []


async def world(api) -> tuple[int, int, int, int]:
    hidden = await api.customer(email="hidden@example.com", given_name="Hidden")
    shown = await api.customer(email="shown@example.com", given_name="Shown hidden")
    hidden_note = await api.interaction(hidden, subject="theirs")
    shown_note = await api.interaction(shown, subject="visible")
    return hidden, shown, hidden_note, shown_note


async def test_a_partner_key_loses_the_customer_at_once_and_regains_them(api):
    hidden, shown, hidden_note, shown_note = await world(api)
    key = await api.partner_key(ALL_SCOPES)
    variables: dict[str, Any] = {}
    # Given the key sees both customers
    before = await api.data(READS, variables, token=key)
    assert ids(before["customers"]) == {cid(hidden), cid(shown)}
    node = {"id": cid(hidden)}
    assert (await api.data(NODE, node, token=key))["node"] == node
    # When the customer withdraws partner sharing
    await set_sharing(api, hidden, False)
    # Then every read of the key leaves them out, counts included
    after = await api.data(READS, variables, token=key)
    assert ids(after["customers"]) == {cid(shown)}
    assert after["customers"]["totalCount"] == 1
    assert ids(after["found"]) == {cid(shown)}
    assert after["found"]["totalCount"] == 1
    assert ids(after["interactions"]) == {iid(shown_note)}
    assert after["interactions"]["totalCount"] == 1
    assert after["byCustomer"] == {"totalCount": 0, "nodes": []}
    assert ids(after["withInteractions"]) == {cid(shown)}
    assert await api.error_code(NODE, node, token=key) == "NOT_FOUND"
    both = {"ids": [cid(hidden), iid(hidden_note)]}
    listed = await api.gql(NODES, both, token=key)
    assert listed["data"]["nodes"] == [None, None]
    one = {"id": cid(hidden)}
    assert await api.error_code(ONE, one, token=key) == "NOT_FOUND"
    note = {"id": iid(hidden_note)}
    assert await api.error_code(ONE_INTERACTION, note, token=key) == "NOT_FOUND"
    # And staff still see them
    _, staff = await api.staff("agent")
    assert (await api.data(ONE, one, token=staff))["customer"] == one
    # When they grant it again, the key sees them again
    await set_sharing(api, hidden, True)
    again = await api.data(READS, variables, token=key)
    assert ids(again["customers"]) == {cid(hidden), cid(shown)}
    assert (await api.data(NODE, node, token=key))["node"] == node


async def test_a_partner_key_cannot_write_to_a_customer_who_withdrew(api):
    hidden, _, _, _ = await world(api)
    key = await api.partner_key(ALL_SCOPES)
    await set_sharing(api, hidden, False)
    before = await api.count(Interaction)
    update = {"input": {"id": cid(hidden), "company": "Leaked"}}
    assert await api.error_code(UPDATE, update, token=key) == "NOT_FOUND"
    log = {
        "input": {
            "customerId": cid(hidden),
            "channel": "EMAIL",
            "direction": "INBOUND",
            "kind": "SUPPORT",
        }
    }
    assert await api.error_code(LOG, log, token=key) == "NOT_FOUND"
    assert await api.count(Interaction) == before
    _, staff = await api.staff("admin")
    company = await api.data(
        "query($id: ID!) { customer(id: $id) { company } }",
        {"id": cid(hidden)},
        token=staff,
    )
    assert company["customer"]["company"] is None


async def test_a_withdrawal_by_another_customer_changes_nothing_for_the_key(api):
    hidden, shown, _, _ = await world(api)
    key = await api.partner_key(["customers:read"])
    # Marketing withdrawn is not partner sharing withdrawn
    await api.data(
        SET,
        {"input": {"purpose": "MARKETING", "granted": False}},
        token=api.customer_token(hidden),
    )
    data = await api.data("{ customers(first: 10) { nodes { id } } }", token=key)
    assert ids(data["customers"]) == {cid(hidden), cid(shown)}


UPSERT = """mutation($input: CustomersUpsertInput!) { customersUpsert(input: $input) {
  results { index created customer { id company } errors { field code } }
  created updated rejected errors { code } } }"""


async def test_an_upsert_by_key_refuses_rows_matching_a_customer_who_withdrew(api):
    hidden = await api.customer(
        email="hidden@example.com", external_ref="crm-1", company="Before"
    )
    key = await api.partner_key(ALL_SCOPES)
    await set_sharing(api, hidden, False)
    rows = [
        {"externalRef": "crm-1", "company": "By ref"},
        {"email": "HIDDEN@example.com", "company": "By email"},
        {"externalRef": "crm-2", "email": "hidden@example.com"},
        {"externalRef": "crm-3", "company": "New one"},
    ]
    data = await api.data(
        UPSERT,
        {"input": {"rows": rows, "errorPolicy": "REJECT_FAILED_ROWS"}},
        token=key,
    )
    result = data["customersUpsert"]
    # The rows that match them are refused without their data; the others work
    refused = [r for r in result["results"] if r["errors"]]
    assert [(r["index"], r["customer"]) for r in refused] == [
        (0, None),
        (1, None),
        (2, None),
    ]
    assert {e["code"] for r in refused for e in r["errors"]} == {"NOT_AVAILABLE"}
    assert (result["created"], result["updated"], result["rejected"]) == (1, 0, 3)
    _, staff = await api.staff("admin")
    kept = await api.data(
        "query($id: ID!) { customer(id: $id) { company externalRef } }",
        {"id": cid(hidden)},
        token=staff,
    )
    assert kept["customer"] == {"company": "Before", "externalRef": "crm-1"}
