"""Bad input always gets a clear GraphQL error with a stable code: never a 500, a
hang or a half-done write.

Each table-driven test checks every case and reports all mismatches at once.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from graphql import get_introspection_query

from crm.audit.models import AuditEvent
from crm.customers.models import Customer
from crm.ids import to_global_id
from crm.interactions.models import Interaction

CUSTOMER = "query($id: ID!) { customer(id: $id) { id } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
CREATE = """
mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id } errors { field code message } }
}"""
UPDATE = """
mutation($input: CustomerUpdateInput!) {
  customerUpdate(input: $input) { customer { id } errors { field code message } }
}"""
LOG = """
mutation($input: InteractionLogInput!) {
  interactionLog(input: $input) { interaction { id } errors { field code message } }
}"""


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def body_of(api, query: str, variables=None, *, token=None) -> dict[str, Any]:
    """The body of a request that must be answered cleanly: HTTP 200, and no
    INTERNAL_SERVER_ERROR among its errors."""
    response = await api.raw(query, variables, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    codes = [e["extensions"]["code"] for e in body.get("errors") or ()]
    assert "INTERNAL_SERVER_ERROR" not in codes, body
    return body


async def codes_of(api, query: str, variables=None, *, token=None) -> list[str]:
    """The codes of the top-level errors of a request that must fail."""
    body = await body_of(api, query, variables, token=token)
    assert body.get("errors"), body
    return [e["extensions"]["code"] for e in body["errors"]]


async def payload_errors(api, query: str, variables, *, token) -> list[tuple]:
    """(field, code) of the payload errors of a mutation without top-level errors."""
    body = await body_of(api, query, variables, token=token)
    assert not body.get("errors"), body
    (payload,) = body["data"].values()
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def snapshot(api) -> tuple[int, int, int]:
    return (
        await api.count(Customer),
        await api.count(Interaction),
        await api.count(AuditEvent),
    )


# --- global IDs ------------------------------------------------------------------


MALFORMED_IDS = {
    "not base64": "not base64!",
    "percent signs": "%%%",
    "empty": "",
    "zero": b64("Customer:0"),
    "negative": b64("Customer:-1"),
    "over int32": b64("Customer:99999999999"),
    "not a number": b64("Customer:one"),
    "padded number": b64("Customer: 1"),
    "no colon": b64("Customer1"),
    "non-ASCII digit": b64("Customer:\u0661"),
    "non-canonical base64": to_global_id("Customer", 1)[:-1] + "R",
    "10 KB": "Q" * 10_240,
}


async def test_a_malformed_id_is_bad_user_input_in_queries_node_and_updates(api):
    _, token = await api.staff()
    customer_id = await api.customer(email="kept@example.com")
    kept = to_global_id("Customer", customer_id)
    before = await snapshot(api)
    wrong = {}
    for name, bad in MALFORMED_IDS.items():
        codes = (
            await codes_of(api, CUSTOMER, {"id": bad}, token=token),
            await codes_of(api, NODE, {"id": bad}, token=token),
            await codes_of(
                api, UPDATE, {"input": {"id": bad, "company": "X"}}, token=token
            ),
            await codes_of(
                api,
                UPDATE,
                {"input": {"id": kept, "ownerId": bad, "company": "X"}},
                token=token,
            ),
        )
        if codes != (["BAD_USER_INPUT"],) * 4:
            wrong[name] = codes
    assert wrong == {}
    assert await snapshot(api) == before
    read = await api.data(
        "query($id: ID!) { customer(id: $id) { company version } }",
        {"id": kept},
        token=token,
    )
    assert read["customer"] == {"company": None, "version": 1}


async def test_an_id_of_another_type_or_a_number_is_bad_user_input(api):
    _, token = await api.staff()
    customer_id = await api.customer(email="x@example.com")
    other_type = to_global_id("Interaction", customer_id)
    body = await body_of(api, CUSTOMER, {"id": other_type}, token=token)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    # ID accepts numbers; they are not global IDs.
    literal = "{ customer(id: 5) { id } }"
    assert await codes_of(api, literal, token=token) == ["BAD_USER_INPUT"]
    assert await codes_of(api, CUSTOMER, {"id": 5}, token=token) == ["BAD_USER_INPUT"]


async def test_node_answers_missing_objects_and_unknown_types_byte_for_byte_alike(
    api,
):
    _, token = await api.staff()
    await api.customer(email="x@example.com")
    missing = [
        to_global_id("Customer", 424242),
        to_global_id("Interaction", 424242),
        to_global_id("StaffMember", 424242),
        to_global_id("AuditEvent", 424242),
        to_global_id("Widget", 1),
        to_global_id("customer", 1),
    ]
    answers = set()
    for global_id in missing:
        response = await api.raw(NODE, {"id": global_id}, token=token)
        assert response.status_code == 200
        answers.add(response.content)
    assert len(answers) == 1, answers
    (answer,) = answers
    assert b'"code":"NOT_FOUND"' in answer


# --- the type system: enums, argument types, syntax ------------------------------


async def test_an_unknown_enum_value_fails_validation(api):
    _, token = await api.staff()
    before = await snapshot(api)
    cases = [
        ("{ customers(orderBy: {field: NOPE}) { nodes { id } } }", None),
        (
            "query($o: CustomerOrder) { customers(orderBy: $o) { nodes { id } } }",
            {"o": {"field": "NOPE"}},
        ),
        (CREATE, {"input": {"lifecycleStage": "NOT_A_STAGE"}}),
        (CREATE, {"input": {"lifecycleStage": "active"}}),
    ]
    codes = [await codes_of(api, q, v, token=token) for q, v in cases]
    assert codes == [["GRAPHQL_VALIDATION_FAILED"]] * len(cases)
    assert await snapshot(api) == before


WRONG_TYPES = [
    ('{ customers(first: "ten") { nodes { id } } }', None),
    ("query($f: Int) { customers(first: $f) { nodes { id } } }", {"f": "ten"}),
    ("query($f: Int) { customers(first: $f) { nodes { id } } }", {"f": 2**40}),
    ("query($f: Int) { customers(first: $f) { nodes { id } } }", {"f": 1.5}),
    ('{ customer(id: ["a"]) { id } }', None),
    (CUSTOMER, {"id": None}),
    (CUSTOMER, {"id": {"a": 1}}),
    (CUSTOMER, {}),
    ("{ customers { nodes { noSuchField } } }", None),
    ("{ customers(noSuchArgument: 1) { nodes { id } } }", None),
    ("{ customers { id } }", None),
    (CREATE, {"input": {"noSuchField": 1}}),
    (CREATE, {"input": {"email": 5}}),
    (CREATE, {"input": {"tags": [1, 2]}}),
    (CREATE, {"input": []}),
    (CREATE, {"input": "text"}),
]


async def test_wrong_argument_types_fail_validation_and_write_nothing(api):
    _, token = await api.staff()
    before = await snapshot(api)
    codes = [set(await codes_of(api, q, v, token=token)) for q, v in WRONG_TYPES]
    assert codes == [{"GRAPHQL_VALIDATION_FAILED"}] * len(WRONG_TYPES)
    assert await snapshot(api) == before


async def test_a_syntax_error_is_parse_failed(api):
    _, token = await api.staff()
    broken = ["{ customers(first: ", "query {", "{ customers { id } }}", "}", "{ ! }"]
    for query in broken:
        body = await body_of(api, query, token=token)
        assert [e["extensions"]["code"] for e in body["errors"]] == [
            "GRAPHQL_PARSE_FAILED"
        ], query
        assert body["errors"][0]["message"].startswith("Syntax Error")


# --- field values: payload errors, nothing written -------------------------------


BAD_CUSTOMER_FIELDS = [
    ({"displayName": "x" * 201}, ("displayName", "TOO_LONG")),
    ({"givenName": "x" * 10_000}, ("givenName", "TOO_LONG")),
    ({"attributes": {"blob": "x" * 1_000_000}}, ("attributes", "TOO_LONG")),
    ({"attributes": {f"k{i}": i for i in range(101)}}, ("attributes", "TOO_MANY")),
    ({"attributes": [1, 2]}, ("attributes", "INVALID")),
    ({"tags": [f"t{i}" for i in range(51)]}, ("tags", "TOO_MANY")),
    ({"email": "nope"}, ("email", "INVALID_EMAIL")),
    ({"email": "a@b"}, ("email", "INVALID_EMAIL")),
    ({"email": "two@@example.com"}, ("email", "INVALID_EMAIL")),
    ({"email": "spaces in@example.com"}, ("email", "INVALID_EMAIL")),
    ({"email": "x" * 65 + "@example.com"}, ("email", "INVALID_EMAIL")),
    ({"email": "a@" + "b" * 400 + ".com"}, ("email", "TOO_LONG")),
    ({"displayName": "a\x00b"}, ("displayName", "INVALID")),
    ({"givenName": "bell\x07"}, ("givenName", "INVALID")),
    ({"familyName": "esc\x1b[31m"}, ("familyName", "INVALID")),
    ({"company": "del\x7f"}, ("company", "INVALID")),
    ({"tags": ["ok", "nul\x00"]}, ("tags", "INVALID")),
    ({"externalRef": "\x00"}, ("externalRef", "INVALID")),
    ({"phone": "call me"}, ("phone", "INVALID_PHONE")),
    ({"locale": "english please"}, ("locale", "INVALID")),
    ({"timeZone": "Mars/Olympus"}, ("timeZone", "INVALID")),
]


async def test_bad_customer_fields_are_payload_errors_and_write_nothing(api):
    _, token = await api.staff()
    before = await snapshot(api)
    wrong = {}
    for fields, expected in BAD_CUSTOMER_FIELDS:
        errors = await payload_errors(api, CREATE, {"input": fields}, token=token)
        if errors != [expected]:
            wrong[str(fields)[:60]] = errors
    assert wrong == {}
    assert await snapshot(api) == before


async def test_a_bad_update_changes_nothing(api):
    _, token = await api.staff()
    customer_id = await api.customer(email="keep@example.com", display_name="Kept")
    kept = to_global_id("Customer", customer_id)
    before = await snapshot(api)
    for bad in ({"displayName": "x" * 201}, {"givenName": "v\x0bt"}):
        errors = await payload_errors(
            api,
            UPDATE,
            {"input": {"id": kept, "email": "changed@example.com", **bad}},
            token=token,
        )
        assert len(errors) == 1 and errors[0][1] in ("TOO_LONG", "INVALID"), errors
    assert await snapshot(api) == before
    read = await api.data(
        "query($id: ID!) { customer(id: $id) { email displayName version } }",
        {"id": kept},
        token=token,
    )
    assert read["customer"] == {
        "email": "keep@example.com",
        "displayName": "Kept",
        "version": 1,
    }


BAD_AMOUNTS = [
    ("-1", "NEGATIVE"),
    (-0.5, "NEGATIVE"),
    ("NaN", "INVALID"),
    ("Infinity", "INVALID"),
    ("-Infinity", "INVALID"),
    ("1e400", "OUT_OF_RANGE"),
    ("99999999999999999999", "OUT_OF_RANGE"),
    (1e300, "OUT_OF_RANGE"),
    ("0.00001", "INVALID"),
    ("1e-400", "INVALID"),
]
NOT_DECIMALS = ["abc", "", "1,5", "0x10", True, [1], {"a": 1}]


def purchase(customer_id: int, amount: object) -> dict[str, Any]:
    return {
        "input": {
            "customerId": to_global_id("Customer", customer_id),
            "channel": "WEB",
            "direction": "INBOUND",
            "kind": "PURCHASE",
            "amount": amount,
            "currency": "EUR",
        }
    }


async def test_bad_amounts_are_refused_and_write_nothing(api):
    _, token = await api.staff()
    customer_id = await api.customer(email="buyer@example.com")
    before = await snapshot(api)
    wrong = {}
    for amount, code in BAD_AMOUNTS:
        variables = purchase(customer_id, amount)
        errors = await payload_errors(api, LOG, variables, token=token)
        if errors != [("amount", code)]:
            wrong[repr(amount)] = errors
    for amount in NOT_DECIMALS:
        codes = await codes_of(api, LOG, purchase(customer_id, amount), token=token)
        if codes != ["GRAPHQL_VALIDATION_FAILED"]:
            wrong[repr(amount)] = codes
    assert wrong == {}
    assert await snapshot(api) == before


# --- pages -----------------------------------------------------------------------


async def test_page_arguments_out_of_range_are_bad_user_input(api):
    _, token = await api.staff()
    customer_id = await api.customer(email="x@example.com")
    await api.interaction(customer_id)
    nested = "interactions(first: 10000) { nodes { id } }"
    queries = [
        "{ customers(first: 10000) { nodes { id } } }",
        "{ customers(first: -1) { nodes { id } } }",
        "{ customers(last: 101) { nodes { id } } }",
        "{ customers(first: 5, last: 5) { nodes { id } } }",
        '{ customers(after: "garbage") { nodes { id } } }',
        '{ customers(last: 5, after: "x") { nodes { id } } }',
        "{ interactions(first: 10000) { nodes { id } } }",
        f"{{ customers(first: 1) {{ nodes {{ {nested} }} }} }}",
    ]
    codes = {q: set(await codes_of(api, q, token=token)) for q in queries}
    assert codes == {query: {"BAD_USER_INPUT"} for query in queries}


# --- document limits -------------------------------------------------------------


def nested(customer_id: int, levels: int) -> str:
    selection = "id"
    for _ in range(levels):
        selection = f"mergedInto {{ {selection} }}"
    global_id = to_global_id("Customer", customer_id)
    return f'{{ customer(id: "{global_id}") {{ {selection} }} }}'


async def test_a_query_nested_too_deep_is_refused(api):
    _, token = await api.staff()
    customer_id = await api.customer(email="x@example.com")
    # customer, 12 x mergedInto, id: 13 levels below the root; the limit is 12.
    deep = nested(customer_id, 12)
    assert await codes_of(api, deep, token=token) == ["QUERY_TOO_DEEP"]
    within = await api.data(nested(customer_id, 11), token=token)
    assert within["customer"]["mergedInto"] is None


async def test_too_many_aliases_are_refused(api):
    _, token = await api.staff()
    aliases = " ".join(f"a{i}: __typename" for i in range(31))
    assert await codes_of(api, f"{{ {aliases} }}", token=token) == ["TOO_MANY_ALIASES"]
    within = " ".join(f"a{i}: __typename" for i in range(30))
    assert (await api.data(f"{{ {within} }}", token=token))["a29"] == "Query"


PAGE = "customers(first: 100) { nodes { interactions(first: 100) { nodes { id } } } }"


async def test_a_query_over_the_cost_limit_is_refused(api):
    _, token = await api.staff()
    by_aliases = "{ " + " ".join(f"p{i}: {PAGE}" for i in range(6)) + " }"
    by_fragments = (
        "{ ...A ...B } "
        f"fragment A on Query {{ a1: {PAGE} a2: {PAGE} a3: {PAGE} }} "
        f"fragment B on Query {{ b1: {PAGE} b2: {PAGE} b3: {PAGE} }}"
    )
    page_of_n = (
        "customers(first: $n) { nodes { interactions(first: $n) { nodes { id } } } }"
    )
    by_variables = (
        "query($n: Int) { " + " ".join(f"p{i}: {page_of_n}" for i in range(6)) + " }"
    )
    for query, variables in (
        (by_aliases, None),
        (by_fragments, None),
        (by_variables, {"n": 100}),
    ):
        codes = await codes_of(api, query, variables, token=token)
        assert codes == ["QUERY_TOO_COMPLEX"], query


async def test_a_full_nested_page_is_within_the_cost_limit(api):
    _, token = await api.staff()
    customer_id = await api.customer(email="x@example.com")
    await api.interaction(customer_id)
    # `nodes` and `edges` cost the same: a page size counts once per connection.
    via_nodes = await api.data(f"{{ {PAGE} }}", token=token)
    via_edges = await api.data(
        "{ customers(first: 100) { edges { node { interactions(first: 100) "
        "{ edges { node { id } } } } } } }",
        token=token,
    )
    assert len(via_nodes["customers"]["nodes"][0]["interactions"]["nodes"]) == 1
    assert len(via_edges["customers"]["edges"]) == 1


async def test_a_fragment_cycle_is_a_validation_error_not_a_hang(api):
    _, token = await api.staff()
    query = (
        "{ customers { nodes { ...A } } } "
        "fragment A on Customer { id ...B } fragment B on Customer { email ...A }"
    )
    started = time.perf_counter()
    assert await codes_of(api, query, token=token) == ["GRAPHQL_VALIDATION_FAILED"]
    assert time.perf_counter() - started < 2


async def test_a_huge_fragment_fan_out_is_refused_quickly(api):
    _, token = await api.staff()
    levels = 40  # 2**39 `id` fields once every spread is expanded
    fragments = " ".join(
        f"fragment F{i} on Customer {{ ...F{i - 1} ...F{i - 1} }}"
        for i in range(1, levels)
    )
    query = (
        f"{{ customers {{ nodes {{ ...F{levels - 1} }} }} }} "
        f"fragment F0 on Customer {{ id }} {fragments}"
    )
    started = time.perf_counter()
    assert await codes_of(api, query, token=token) == ["QUERY_TOO_COMPLEX"]
    assert time.perf_counter() - started < 2


async def test_a_document_over_the_token_limit_is_refused(api):
    _, token = await api.staff()
    query = "{ " + " ".join("__typename" for _ in range(6000)) + " }"
    assert await codes_of(api, query, token=token) == ["TOO_MANY_TOKENS"]


async def test_introspection_is_not_refused_by_the_limits(api):
    _, token = await api.staff()
    data = await api.data(get_introspection_query(), token=token)
    assert data["__schema"]["queryType"]["name"] == "Query"


# --- values the database cannot hold ---------------------------------------------


async def test_values_the_database_refuses_are_bad_user_input(api):
    _, token = await api.staff()
    by_email = "customers(where: {email: {eq: $s}}) { nodes { id } }"
    by_date = "interactions(where: {occurredAt: {gt: $d}}) { nodes { id } }"
    by_amount = "interactions(where: {amount: {gt: $d}}) { nodes { id } }"
    cases = {
        "NUL in a filter": (f"query($s: String) {{ {by_email} }}", {"s": "nul\x00"}),
        "NUL in a search": (
            "query($s: String) { customers(search: $s) { nodes { id } } }",
            {"s": "nul\x00"},
        ),
        "year 1 in UTC": (
            f"query($d: DateTime) {{ {by_date} }}",
            {"d": "0001-01-01T00:00:00+14:00"},
        ),
        "huge decimal": (f"query($d: Decimal) {{ {by_amount} }}", {"d": "1e999999"}),
    }
    wrong = {}
    for name, (query, variables) in cases.items():
        body = await body_of(api, query, variables, token=token)
        codes = {e["extensions"]["code"] for e in body.get("errors") or ()}
        if not codes <= {"BAD_USER_INPUT"}:
            wrong[name] = body
    assert wrong == {}


async def test_a_nul_in_attributes_is_refused_or_kept_never_a_crash(api):
    _, token = await api.staff()
    before = await snapshot(api)
    variables = {"input": {"attributes": {"note": "nul\x00", "k\x00": 1}}}
    body = await body_of(api, CREATE, variables, token=token)
    if body.get("errors"):  # PostgreSQL's jsonb cannot hold \u0000
        assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
        assert await snapshot(api) == before
    else:
        assert body["data"]["customerCreate"]["customer"] is not None
