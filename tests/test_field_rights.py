"""Field rights: a field the caller may not read can be neither filtered on nor read.

Driven by the filter vocabularies themselves (every FieldSpec and RelationSpec with
a `permission`) and by the role and scope tables, so a newly guarded field is
covered without a new test. Output rules: the body of an INTERNAL interaction needs
internal_notes:read, costToServe needs financials:read; without them they are null.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.customers.filters import CUSTOMER_FIELDS, CUSTOMER_SPEC, CustomerOrderField
from crm.demo import seed_demo
from crm.filtering import EntitySpec, FieldSpec, RelationSpec
from crm.ids import to_global_id
from crm.insights.filters import INSIGHT_FIELDS, INSIGHT_SPEC, ORDER_COLUMNS
from crm.insights.refresh import refresh_insights
from crm.interactions.filters import (
    INTERACTION_FIELDS,
    INTERACTION_SPEC,
    InteractionOrderField,
)
from crm.permissions import Permission
from tests.client import Api
from tests.test_permissions_matrix import CALLERS, Caller, Kind, credentials

P = Permission
FIRM_CALLERS = [c for c in CALLERS if c.kind in (Kind.STAFF, Kind.PARTNER)]

# The list root of each filterable entity and the permission its gate needs.
ROOTS: dict[str, tuple[str, str, Permission]] = {
    "Customer": ("customers", "CustomerWhere", P.CUSTOMERS_READ),
    "Interaction": ("interactions", "InteractionWhere", P.INTERACTIONS_READ),
}
# Every filter vocabulary; those without a list root are reached through relations.
SPECS = [CUSTOMER_SPEC, INTERACTION_SPEC, INSIGHT_SPEC]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# --- filters, built from the vocabularies ------------------------------------------


@dataclass(frozen=True)
class Step:
    """One key of a `where` path and the permission using it needs (if any)."""

    key: str
    permission: Permission | None = None


@dataclass(frozen=True)
class Case:
    """A filter on `root` naming a guarded field or relation somewhere inside it."""

    label: str
    root: str
    steps: tuple[Step, ...]
    where: dict[str, Any]

    def refusal(self, caller: Caller) -> str | None:
        """The path the caller is refused at (camelCase), or None if allowed."""
        path = "where"
        for step in self.steps:
            path += step.key if step.key.startswith("[") else f".{step.key}"
            if (
                step.permission is not None
                and step.permission not in caller.permissions
            ):
                return path
        return None


def _matching(entry: FieldSpec | RelationSpec) -> dict[str, Any]:
    """A condition that every row holding a value for `entry` meets."""
    if isinstance(entry, RelationSpec):
        target = entry.target()
        # A field every related row holds: the ID, or the first one anyone may read.
        name = (
            "id"
            if "id" in target.fields
            else next(n for n, f in target.fields.items() if f.permission is None)
        )
        any_row = {camel(name): {"isNull": False}}
        return {"some": any_row} if entry.many else any_row
    if entry.kind == "tags":
        return {"isEmpty": False}
    return {"isNull": False}


def _guarded(spec: EntitySpec) -> Iterator[tuple[str, FieldSpec | RelationSpec]]:
    for name, entry in [*spec.fields.items(), *spec.relations.items()]:
        if entry.permission is not None:
            yield camel(name), entry


def filter_cases() -> list[Case]:
    cases = []
    for spec in SPECS:
        for name, entry in _guarded(spec):
            permission = entry.permission
            condition = {name: _matching(entry)}
            here = Step(name, permission)
            if isinstance(entry, RelationSpec):
                quantifier = ("some",) if entry.many else ()
                tail = tuple(Step(q) for q in quantifier)
            else:
                tail = ()
            direct = [
                Case(f"{spec.name}.{name}", spec.name, (here, *tail), condition),
                Case(
                    f"{spec.name}.or.{name}",
                    spec.name,
                    (Step("or"), Step("[1]"), here, *tail),
                    {"or": [{"id": {"isNull": True}}, condition]},
                ),
                Case(
                    f"{spec.name}.not.{name}",
                    spec.name,
                    (Step("not"), here, *tail),
                    {"not": condition},
                ),
            ]
            if spec.name in ROOTS:
                cases += direct
            # From the other entity, through each relation leading here.
            for other in SPECS:
                for rel_name, rel in other.relations.items():
                    if rel.target() is not spec or other.name not in ROOTS:
                        continue
                    via = [Step(camel(rel_name), rel.permission)]
                    if rel.many:
                        via.append(Step("some"))
                        wrapped = {camel(rel_name): {"some": condition}}
                    else:
                        wrapped = {camel(rel_name): condition}
                    cases.append(
                        Case(
                            f"{other.name}.{camel(rel_name)}.{name}",
                            other.name,
                            (*via, here, *tail),
                            wrapped,
                        )
                    )
    return cases


CASES = filter_cases()


def test_the_guarded_filters_are_the_ones_the_rules_name():
    guarded = {
        f"{spec.name}.{name}": entry.permission
        for spec in SPECS
        for name, entry in _guarded(spec)
    }
    assert guarded == {
        "Customer.interactions": P.INTERACTIONS_READ,
        "Customer.owner": P.STAFF_READ,
        "Interaction.body": P.INTERNAL_NOTES_READ,
        "Interaction.costToServe": P.FINANCIALS_READ,
        "Interaction.customer": P.CUSTOMERS_READ,
        "Customer.insights": P.INSIGHTS_READ,
        **{
            f"CustomerInsights.{name}": P.FINANCIALS_READ
            for name in (
                "monetary",
                "revenueLifetime",
                "revenue12m",
                "costToServe12m",
                "marginLifetime",
                "margin12m",
                "predictedValue",
                "predictedValuePercentile",
                "profitability",
                "strategicValue",
                "valueGroup",
                "lowValue",
            )
        },
    }


def test_orderings_check_the_right_to_read_what_they_sort_by():
    # Sorting by a field reveals it as surely as filtering does: an ordering over
    # the entity's own columns may use only unguarded fields; one over an insight
    # measure needs the rights that filtering by that measure needs (checked in
    # customer_order, exercised in tests/test_insights_access.py).
    for order_fields, fields in (
        (CustomerOrderField, CUSTOMER_FIELDS),
        (InteractionOrderField, INTERACTION_FIELDS),
    ):
        for order in order_fields:
            if order.value in fields:
                assert fields[order.value].permission is None, order
                continue
            assert order_fields is CustomerOrderField, order
            _, _, financial, _ = ORDER_COLUMNS[order.value]
            needs = INSIGHT_FIELDS[order.value].permission
            assert needs == (P.FINANCIALS_READ if financial else None), order


def distinct_callers() -> list[Caller]:
    """The firm callers, one per set of the rights filters check (admin first)."""
    checked = {P.CUSTOMERS_READ, P.INTERACTIONS_READ}
    checked |= {e.permission for s in SPECS for _, e in _guarded(s) if e.permission}
    seen: dict[frozenset[Permission], Caller] = {}
    for caller in FIRM_CALLERS:
        seen.setdefault(caller.permissions & checked, caller)
    return list(seen.values())


def count_query(case: Case) -> str:
    root, where_type, _ = ROOTS[case.root]
    return f"query($w: {where_type}!) {{ {root}(where: $w) {{ totalCount }} }}"


async def field_rights_world(api: Api) -> None:
    """Rows that every case's condition matches."""
    owner, _ = await api.staff("manager")
    customer = await api.customer(
        display_name="Ada", company="Acme", tags=["vip"], owner_id=owner
    )
    await api.interaction(
        customer,
        subject="Complaint",
        body="The secret plan",
        cost_to_serve=Decimal("12.50"),
        currency="EUR",
        visibility="internal",
    )
    await api.interaction(
        customer,
        kind="purchase",
        channel="web",
        amount=Decimal("40"),
        currency="EUR",
        visibility="shared",
    )
    # A base large enough for the models to fit, so every measure has values.
    await seed_demo(api.db, customers=80, seed=7)
    await refresh_insights(api.db)


async def test_filters_on_fields_the_caller_may_not_read_are_forbidden_and_tell_nothing(
    api: Api,
):
    callers = distinct_callers()
    tokens = {c.name: await credentials(api, c, None) for c in callers}
    runs: list[tuple[Caller, Case]] = [
        (caller, case)
        for case in CASES
        for caller in callers
        if ROOTS[case.root][2] in caller.permissions
    ]

    async def answers(only_compared: bool) -> list[dict[str, Any]]:
        # Before the rows exist, only refusals (compared) and admin (a control).
        return [
            await api.gql(count_query(case), {"w": case.where}, token=tokens[c.name])
            if not only_compared or case.refusal(c) or c.name == "admin"
            else {}
            for c, case in runs
        ]

    empty = await answers(only_compared=True)
    await field_rights_world(api)
    full = await answers(only_compared=False)

    wrong = []
    for (caller, case), before, after in zip(runs, empty, full, strict=True):
        where = f"{caller.name} {case.label}"
        refused_at = case.refusal(caller)
        if refused_at is None:
            if before.get("errors") or after.get("errors"):
                wrong.append(f"{where}: refused {before} / {after}")
            continue
        root = ROOTS[case.root][0]
        expected = {"code": "FORBIDDEN", "field": refused_at}
        errors = after.get("errors") or [{}]
        if after.get("data") is not None or [e.get("extensions") for e in errors] != [
            expected
        ]:
            wrong.append(f"{where}: expected {expected}, got {after}")
        elif errors[0].get("path") != [root]:
            wrong.append(f"{where}: error path {errors[0].get('path')}")
        # The same answer, byte for byte, whether or not rows match.
        if before != after:
            wrong.append(f"{where}: answers differ: {before} / {after}")
    assert wrong == [], "\n".join(wrong)

    # The cases are meaningful: for an admin, each condition (but a negated one)
    # matched nothing before the rows existed and something after.
    for (caller, case), before, after in zip(runs, empty, full, strict=True):
        if caller.name != "admin" or ".not." in case.label:
            continue
        root = ROOTS[case.root][0]
        counts = (before["data"][root]["totalCount"], after["data"][root]["totalCount"])
        assert counts[0] == 0 < counts[1], (case.label, counts)


async def test_nested_interaction_lists_check_their_filters_too(api: Api):
    await field_rights_world(api)
    query = """query($w: InteractionWhere!) {
      customers { nodes { interactions(where: $w) { totalCount } } }
    }"""
    for caller_name, where, field in (
        ("analyst", {"body": {"contains": "secret"}}, "where.body"),
        ("agent", {"costToServe": {"gt": "1"}}, "where.costToServe"),
        (
            "agent",
            {"customer": {"interactions": {"some": {"costToServe": {"gt": "1"}}}}},
            "where.customer.interactions.some.costToServe",
        ),
    ):
        caller = next(c for c in CALLERS if c.name == caller_name)
        token = await credentials(api, caller, None)
        body = await api.gql(query, {"w": where}, token=token)
        assert [e["extensions"] for e in body["errors"]] == [
            {"code": "FORBIDDEN", "field": field}
        ], (caller_name, body)


# --- the same fields as output -----------------------------------------------------

ROW = "body costToServe { amount }"
OLDEST_FIRST = "orderBy: {field: CREATED_AT, direction: ASC}"
# Every way to reach an interaction, one root field per request.
READS = {
    "list": f"{{ interactions({OLDEST_FIRST}) {{ nodes {{ {ROW} }} }} }}",
    "one": f"query($id: ID!) {{ interaction(id: $id) {{ {ROW} }} }}",
    "node": f"query($id: ID!) {{ node(id: $id) {{ ... on Interaction {{ {ROW} }} }} }}",
    "nested": f"""query($customer: ID!) {{ customer(id: $customer) {{
        interactions({OLDEST_FIRST}) {{ nodes {{ {ROW} }} }} }} }}""",
}


@pytest.mark.parametrize(
    "caller",
    [
        c
        for c in FIRM_CALLERS
        if {P.INTERACTIONS_READ, P.CUSTOMERS_READ} <= c.permissions
    ],
    ids=lambda c: c.name,
)
async def test_internal_bodies_and_cost_to_serve_read_as_null_without_the_right(
    api: Api, caller: Caller
):
    customer = await api.customer(display_name="Ada")
    internal = await api.interaction(
        customer,
        subject="internal",
        body="The secret plan",
        cost_to_serve=Decimal("12.50"),
        currency="EUR",
        visibility="internal",
    )
    await api.interaction(
        customer,
        subject="shared",
        body="Your order shipped",
        cost_to_serve=Decimal("3.25"),
        currency="EUR",
        visibility="shared",
    )
    token = await credentials(api, caller, None)
    variables = {
        "id": to_global_id("Interaction", internal),
        "customer": to_global_id("Customer", customer),
    }
    data = {}
    for name, query in READS.items():
        wanted = {k: v for k, v in variables.items() if f"${k}" in query}
        data[name] = await api.data(query, wanted, token=token)
    notes = P.INTERNAL_NOTES_READ in caller.permissions
    money = P.FINANCIALS_READ in caller.permissions

    def seen(row: dict[str, Any]) -> tuple[str | None, str | None]:
        cost = row["costToServe"]
        return row["body"], cost and cost["amount"]

    internal_seen = (
        "The secret plan" if notes else None,
        "12.5000" if money else None,
    )
    shared_seen = ("Your order shipped", "3.2500" if money else None)
    both = [internal_seen, shared_seen]
    assert [seen(r) for r in data["list"]["interactions"]["nodes"]] == both
    assert seen(data["one"]["interaction"]) == internal_seen
    assert seen(data["node"]["node"]) == internal_seen
    nested = data["nested"]["customer"]["interactions"]["nodes"]
    assert [seen(r) for r in nested] == both


# --- the audit trail must not be a way around them ---------------------------------

AUDIT_EVENT = """
query($id: ID!) { node(id: $id) { ... on AuditEvent { changes { field after } } } }
"""


@pytest.mark.parametrize(
    "caller",
    [c for c in FIRM_CALLERS if P.AUDIT_READ in c.permissions],
    ids=lambda c: c.name,
)
async def test_audit_events_withhold_the_fields_the_caller_may_not_read(
    api: Api, caller: Caller
):
    customer = await api.customer(display_name="Ada")
    await api.interaction(
        customer,
        subject="internal",
        body="The secret plan",
        cost_to_serve=Decimal("12.50"),
        currency="EUR",
        visibility="internal",
    )
    async with api.db.transaction(write=False) as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.entity_type == "Interaction")
        )
    assert event is not None and event.id is not None
    token = await credentials(api, caller, None)
    data = await api.data(
        AUDIT_EVENT, {"id": to_global_id("AuditEvent", event.id)}, token=token
    )
    changes = {c["field"]: c["after"] for c in data["node"]["changes"]}
    notes = P.INTERNAL_NOTES_READ in caller.permissions
    money = P.FINANCIALS_READ in caller.permissions
    assert changes["subject"] == "internal"
    assert changes["body"] == ("The secret plan" if notes else None)
    assert (changes["costToServe"] is not None) is money


@pytest.mark.parametrize(
    "caller",
    [c for c in FIRM_CALLERS if P.CUSTOMERS_READ in c.permissions],
    ids=lambda c: c.name,
)
async def test_a_customers_owner_needs_the_right_to_read_staff(
    api: Api, caller: Caller
):
    owner, _ = await api.staff("agent")
    customer = await api.customer(display_name="Ada", owner_id=owner)
    token = await credentials(api, caller, None)
    data = await api.data(
        "query($id: ID!) { customer(id: $id) { owner { id } } }",
        {"id": to_global_id("Customer", customer)},
        token=token,
    )
    expected = {"id": to_global_id("StaffMember", owner)}
    staff = P.STAFF_READ in caller.permissions
    assert data["customer"]["owner"] == (expected if staff else None)
