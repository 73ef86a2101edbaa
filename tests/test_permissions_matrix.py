"""Every root query and mutation, by every kind of caller: it works, or it is refused
with the exact code, and a refused mutation writes nothing.

Expectations come from the code's own tables: each operation names the permission
its gate needs (checked against the schema) and any the service also needs; what a
caller holds comes from ROLE_PERMISSIONS and SCOPE_PERMISSIONS. A few operations
are special (public sign-in, the customer's `me`), listed in OPERATIONS with their
audience. A root field of the schema without an entry here fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from strawberry.permission import PermissionExtension

from crm.customers import service as customer_service
from crm.db import metadata
from crm.interactions import service as interaction_service
from crm.partners.models import ApiKey, PartnerApp
from crm.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Scope,
    StaffRole,
    scope_permissions,
)
from crm.staff import service as staff_service
from crm.staff.throttle import sign_in_throttle
from schema import schema
from schema.permissions import Has, IsAuthenticated, Public
from tests.client import SYSTEM, Api
from tests.matrix import DOMAINS
from tests.matrix.core import (
    ERRORS,
    PASSWORD,
    Audience,
    Op,
    World,
    gid,
    input_of,
    mutation,
)

P = Permission
OK, UNAUTHENTICATED, FORBIDDEN = "OK", "UNAUTHENTICATED", "FORBIDDEN"


# --- callers ---------------------------------------------------------------------


class Kind(StrEnum):
    ANONYMOUS = "anonymous"
    STAFF = "staff"
    PARTNER = "partner"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Caller:
    name: str
    kind: Kind
    role: StaffRole | None = None
    scopes: frozenset[Scope] = frozenset()

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.kind is Kind.STAFF:
            assert self.role is not None
            return ROLE_PERMISSIONS[self.role]
        if self.kind is Kind.PARTNER:
            return scope_permissions(self.scopes)
        return frozenset()


def _key(*scopes: Scope) -> Caller:
    name = "key[" + "+".join(s.value for s in scopes) + "]"
    return Caller(name, Kind.PARTNER, scopes=frozenset(scopes))


CALLERS = [
    Caller("anonymous", Kind.ANONYMOUS),
    *(Caller(role.value, Kind.STAFF, role=role) for role in StaffRole),
    _key(Scope.CUSTOMERS_READ),
    _key(Scope.CUSTOMERS_READ, Scope.CUSTOMERS_WRITE),
    _key(Scope.INTERACTIONS_READ, Scope.INTERACTIONS_WRITE),
    _key(*Scope),
    Caller("customer", Kind.CUSTOMER),
]


# --- operations ------------------------------------------------------------------


OPERATIONS: dict[tuple[str, str], Op] = {
    # --- queries ---
    ("Query", "customers"): Op(
        "{ customers(first: 5) { totalCount nodes { id } } }",
        gate=P.CUSTOMERS_READ,
    ),
    ("Query", "customer"): Op(
        "query($id: ID!) { customer(id: $id) { id } }",
        lambda w: {"id": gid("Customer", w.customer)},
        gate=P.CUSTOMERS_READ,
    ),
    ("Query", "interactions"): Op(
        "{ interactions(first: 5) { totalCount nodes { id } } }",
        gate=P.INTERACTIONS_READ,
    ),
    ("Query", "interaction"): Op(
        "query($id: ID!) { interaction(id: $id) { id } }",
        lambda w: {"id": gid("Interaction", w.interaction)},
        gate=P.INTERACTIONS_READ,
    ),
    # Any signed-in caller; for the firm, the object's own read permission decides;
    # a customer gets their own objects only, as their own types.
    ("Query", "node"): Op(
        "query($id: ID!) { node(id: $id) { id __typename } }",
        lambda w: {"id": gid("Customer", w.customer)},
        audience=Audience.SIGNED_IN,
        also=frozenset({P.CUSTOMERS_READ}),
    ),
    ("Query", "nodes"): Op(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }",
        lambda w: {"ids": [gid("Interaction", w.interaction)]},
        audience=Audience.SIGNED_IN,
        also=frozenset({P.INTERACTIONS_READ}),
    ),
    # Who is calling: any signed-in caller (null unless staff).
    ("Query", "viewer"): Op("{ viewer { id } }", audience=Audience.SIGNED_IN),
    ("Query", "partnerApps"): Op(
        "{ partnerApps { totalCount nodes { id } } }", gate=P.PARTNERS_MANAGE
    ),
    ("Query", "me"): Op("{ me { __typename } }", audience=Audience.CUSTOMER),
    # --- mutations ---
    ("Mutation", "tokenCreate"): mutation(
        "tokenCreate",
        "TokenCreateInput",
        f"token {ERRORS}",
        variables=input_of(lambda w: {"email": w.staff_email, "password": PASSWORD}),
        audience=Audience.PUBLIC,
    ),
    ("Mutation", "customerLoginCodeRequest"): mutation(
        "customerLoginCodeRequest",
        "CustomerLoginCodeRequestInput",
        f"accepted {ERRORS}",
        variables=input_of(lambda w: {"email": w.customer_email}),
        audience=Audience.PUBLIC,
    ),
    ("Mutation", "customerTokenCreate"): mutation(
        "customerTokenCreate",
        "CustomerTokenCreateInput",
        f"token {ERRORS}",
        # A wrong code: a payload error, never a refusal by the gate.
        variables=input_of(lambda w: {"email": w.customer_email, "code": "000000"}),
        audience=Audience.PUBLIC,
    ),
    ("Mutation", "customerCreate"): mutation(
        "customerCreate",
        "CustomerCreateInput",
        f"customer {{ id }} {ERRORS}",
        variables=input_of(lambda w: {"displayName": "Created in the matrix"}),
        gate=P.CUSTOMERS_WRITE,
    ),
    ("Mutation", "customerUpdate"): mutation(
        "customerUpdate",
        "CustomerUpdateInput",
        f"customer {{ id }} {ERRORS}",
        variables=input_of(
            lambda w: {"id": gid("Customer", w.to_update), "company": "Updated"}
        ),
        gate=P.CUSTOMERS_WRITE,
        also=frozenset({P.CUSTOMERS_READ}),
    ),
    ("Mutation", "customerArchive"): mutation(
        "customerArchive",
        "CustomerIdInput",
        f"customer {{ id }} {ERRORS}",
        variables=input_of(lambda w: {"id": gid("Customer", w.to_archive)}),
        gate=P.CUSTOMERS_ARCHIVE,
        also=frozenset({P.CUSTOMERS_READ}),
    ),
    ("Mutation", "customerRestore"): mutation(
        "customerRestore",
        "CustomerIdInput",
        f"customer {{ id }} {ERRORS}",
        variables=input_of(lambda w: {"id": gid("Customer", w.to_restore)}),
        gate=P.CUSTOMERS_ARCHIVE,
        also=frozenset({P.CUSTOMERS_READ}),
    ),
    ("Mutation", "customerMerge"): mutation(
        "customerMerge",
        "CustomerMergeInput",
        f"customer {{ id }} movedInteractions {ERRORS}",
        variables=input_of(
            lambda w: {
                "targetId": gid("Customer", w.merge_target),
                "sourceId": gid("Customer", w.merge_source),
            }
        ),
        gate=P.CUSTOMERS_MERGE,
        also=frozenset({P.CUSTOMERS_READ}),
    ),
    ("Mutation", "customersUpsert"): mutation(
        "customersUpsert",
        "CustomersUpsertInput",
        f"created updated {ERRORS}",
        variables=input_of(
            lambda w: {"rows": [{"externalRef": "matrix-1", "company": "Upserted"}]}
        ),
        gate=P.CUSTOMERS_WRITE,
    ),
    ("Mutation", "interactionLog"): mutation(
        "interactionLog",
        "InteractionLogInput",
        f"interaction {{ id }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "customerId": gid("Customer", w.log_on),
                "channel": "PHONE",
                "direction": "INBOUND",
                "kind": "SUPPORT",
            }
        ),
        gate=P.INTERACTIONS_WRITE,
        # The customer it is logged on must be visible.
        also=frozenset({P.CUSTOMERS_READ}),
    ),
    ("Mutation", "interactionUpdate"): mutation(
        "interactionUpdate",
        "InteractionUpdateInput",
        f"interaction {{ id }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "id": gid("Interaction", w.interaction_to_update),
                "subject": "Corrected",
            }
        ),
        gate=P.INTERACTIONS_WRITE,
        also=frozenset({P.INTERACTIONS_READ}),
    ),
    ("Mutation", "interactionDelete"): mutation(
        "interactionDelete",
        "InteractionIdInput",
        f"deletedId {ERRORS}",
        variables=input_of(
            lambda w: {"id": gid("Interaction", w.interaction_to_delete)}
        ),
        gate=P.INTERACTIONS_DELETE,
        also=frozenset({P.INTERACTIONS_READ}),
    ),
    ("Mutation", "partnerAppCreate"): mutation(
        "partnerAppCreate",
        "PartnerAppCreateInput",
        f"partnerApp {{ id }} {ERRORS}",
        variables=input_of(lambda w: {"name": "Created in the matrix"}),
        gate=P.PARTNERS_MANAGE,
    ),
    ("Mutation", "partnerAppArchive"): mutation(
        "partnerAppArchive",
        "PartnerAppIdInput",
        f"partnerApp {{ id }} {ERRORS}",
        variables=input_of(
            lambda w: {"id": gid("PartnerApp", w.partner_app_to_archive)}
        ),
        gate=P.PARTNERS_MANAGE,
    ),
    ("Mutation", "apiKeyCreate"): mutation(
        "apiKeyCreate",
        "ApiKeyCreateInput",
        f"key {ERRORS}",
        variables=input_of(
            lambda w: {
                "partnerAppId": gid("PartnerApp", w.partner_app),
                "name": "Matrix key",
                "scopes": ["CUSTOMERS_READ"],
            }
        ),
        gate=P.PARTNERS_MANAGE,
    ),
    ("Mutation", "apiKeyRevoke"): mutation(
        "apiKeyRevoke",
        "ApiKeyIdInput",
        f"apiKey {{ id }} {ERRORS}",
        variables=input_of(lambda w: {"id": gid("ApiKey", w.api_key)}),
        gate=P.PARTNERS_MANAGE,
    ),
}


for _domain in DOMAINS:
    assert not OPERATIONS.keys() & _domain.OPERATIONS.keys(), _domain.__name__
    OPERATIONS.update(_domain.OPERATIONS)


def expected(op: Op, caller: Caller) -> str:
    if op.audience is Audience.PUBLIC:
        return OK
    if caller.kind is Kind.ANONYMOUS:
        return UNAUTHENTICATED
    if op.audience is Audience.CUSTOMER:
        return OK if caller.kind is Kind.CUSTOMER else FORBIDDEN
    if caller.kind is Kind.CUSTOMER:
        # Every firm root: a customer's view is `me`.
        return OK if op.audience is Audience.SIGNED_IN else FORBIDDEN
    return OK if op.needs <= caller.permissions else FORBIDDEN


# --- the schema's root fields ------------------------------------------------------


def schema_root_fields() -> dict[tuple[str, str], Any]:
    """(root type, GraphQL name) -> the strawberry field, for every root field."""
    found = {}
    graphql_schema = schema._schema
    for root in (graphql_schema.query_type, graphql_schema.mutation_type):
        assert root is not None
        for name, graphql_field in root.fields.items():
            found[(root.name, name)] = graphql_field.extensions["strawberry-definition"]
    return found


def present_operations() -> list[tuple[tuple[str, str], Op]]:
    fields = schema_root_fields()
    return [(key, op) for key, op in OPERATIONS.items() if key in fields]


def test_every_root_field_has_an_entry_in_the_matrix():
    missing = sorted(
        f"{t}.{n}" for t, n in schema_root_fields().keys() - OPERATIONS.keys()
    )
    assert missing == [], (
        "Root fields without an entry in OPERATIONS (tests/test_permissions_matrix.py):"
        " add one naming the permission each needs."
    )


def test_every_entry_of_the_matrix_is_a_root_field():
    # A renamed or removed field would otherwise leave an entry that tests nothing.
    stale = sorted(f"{t}.{n}" for t, n in OPERATIONS.keys() - schema_root_fields())
    assert stale == [], "Entries of OPERATIONS naming no root field of the schema."


def test_each_gate_checks_the_permission_the_matrix_names():
    fields = schema_root_fields()
    wrong = []
    for key, op in present_operations():
        gates = [
            e for e in fields[key].extensions if isinstance(e, PermissionExtension)
        ]
        checks = [p for g in gates for p in g.permissions]
        has = {p.permission for p in checks if isinstance(p, Has)}
        public = any(isinstance(p, Public) for p in checks)
        signed_in = any(isinstance(p, IsAuthenticated) for p in checks)
        if op.audience is Audience.PUBLIC:
            ok = public and not has
        elif op.audience is Audience.CUSTOMER:
            ok = bool(checks) and not public and not has and not signed_in
        elif op.gate is None:
            ok = bool(checks) and not public and not has
        else:
            ok = has == {op.gate} and not public and not signed_in
        if not ok:
            names = [
                f"Has({p.permission})" if isinstance(p, Has) else type(p).__name__
                for p in checks
            ]
            wrong.append(
                f"{key[0]}.{key[1]}: the schema gates it with {names}; the matrix "
                f"says {op.audience} needing {op.gate}"
            )
    assert wrong == []


def test_the_role_table_follows_the_role_rules():
    admin, manager, agent, analyst = (ROLE_PERMISSIONS[r] for r in StaffRole)
    everything = frozenset(Permission)
    management = {P.STAFF_MANAGE, P.PARTNERS_MANAGE, P.INSIGHTS_CONFIGURE}
    # Admins: everything.
    assert admin == everything
    # Managers: all customer data, no staff or partner management, no insight
    # configuration.
    assert manager == everything - management, (
        "Managers hold every permission but staff, partner and insight management: "
        "a new "
        "permission for admins only belongs in `management` here."
    )
    # Agents: read, log and edit; no financials; no archive, merge or delete.
    assert {
        P.CUSTOMERS_READ,
        P.CUSTOMERS_WRITE,
        P.INTERACTIONS_READ,
        P.INTERACTIONS_WRITE,
    } <= agent
    assert not agent & {
        P.FINANCIALS_READ,
        P.CUSTOMERS_ARCHIVE,
        P.CUSTOMERS_MERGE,
        P.INTERACTIONS_DELETE,
        P.STRATEGIC_VALUE_WRITE,
        P.SEGMENTS_MANAGE,
        P.ERASURE_MANAGE,
        *management,
    }
    # Analysts: read-only, financial figures included, no internal notes.
    assert all(p.read_only for p in analyst)
    assert {P.CUSTOMERS_READ, P.INTERACTIONS_READ, P.FINANCIALS_READ} <= analyst
    assert P.INTERNAL_NOTES_READ not in analyst
    # Partner keys: each scope grants the permission of the same name, no more.
    for scope in Scope:
        assert scope_permissions(frozenset({scope})) == {Permission(scope.value)}


# --- the matrix, one test per caller ---------------------------------------------


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(staff_service, "_hasher", hasher)
    monkeypatch.setattr(staff_service, "_DUMMY_HASH", hasher.hash("not-a-password"))
    sign_in_throttle.clear()


async def build_world(api: Api) -> World:
    """The matrix's rows, written in one transaction."""
    async with api.db.transaction() as session:

        async def customer(**fields: Any) -> int:
            row = await customer_service.create_customer(session, SYSTEM, fields)
            assert row.id is not None
            return row.id

        async def interaction(customer_id: int, subject: str) -> int:
            data = {"channel": "email", "direction": "inbound", "kind": "support"}
            result = await interaction_service.log_interaction(
                session, SYSTEM, customer_id, {**data, "subject": subject}
            )
            assert result.interaction.id is not None
            return result.interaction.id

        async def partner_app(name: str) -> tuple[int, int]:
            app = PartnerApp(name=name, created_by=SYSTEM.ref)
            session.add(app)
            await session.flush()
            assert app.id is not None
            key = ApiKey(
                partner_app_id=app.id,
                name=f"{name} key",
                prefix=f"mut_{app.id:08d}",
                secret_hash="0" * 64,
                scopes=[Scope.CUSTOMERS_READ.value],
                created_by=SYSTEM.ref,
            )
            session.add(key)
            await session.flush()
            assert key.id is not None
            return app.id, key.id

        await staff_service.create_staff(
            session,
            SYSTEM,
            email="signin@staff.test",
            display_name="Signs in",
            role=StaffRole.AGENT.value,
            password=PASSWORD,
        )
        me = await customer(email="me@example.com", display_name="Me")
        to_restore = await customer(display_name="Archived")
        await customer_service.archive_customer(
            session, SYSTEM, to_restore, archived=True
        )
        managed_app, managed_key = await partner_app("Managed")
        world = World(
            staff_email="signin@staff.test",
            customer=me,
            customer_email="me@example.com",
            to_update=await customer(display_name="To update"),
            to_archive=await customer(display_name="To archive"),
            to_restore=to_restore,
            merge_target=await customer(display_name="Kept"),
            merge_source=await customer(display_name="Duplicate"),
            log_on=await customer(display_name="Log on"),
            interaction=await interaction(me, "Read me"),
            interaction_to_update=await interaction(me, "To update"),
            interaction_to_delete=await interaction(me, "To delete"),
            partner_app=managed_app,
            partner_app_to_archive=(await partner_app("To archive"))[0],
            api_key=managed_key,
        )
        for domain in DOMAINS:
            world.extra.update(await domain.build(session, world))
        return world


async def credentials(api: Api, caller: Caller, world: World | None) -> str | None:
    """A fresh bearer credential for `caller` (None for anonymous callers)."""
    if caller.kind is Kind.STAFF:
        assert caller.role is not None
        return (await api.staff(caller.role.value))[1]
    if caller.kind is Kind.PARTNER:
        return await api.partner_key(sorted(s.value for s in caller.scopes))
    if caller.kind is Kind.CUSTOMER:
        assert world is not None
        return api.customer_token(world.customer)
    return None


async def row_counts(api: Api) -> dict[str, int]:
    """How many rows each table holds, in one statement."""
    tables = metadata.sorted_tables
    counts = select(
        *(
            select(func.count()).select_from(t).scalar_subquery().label(t.name)
            for t in tables
        )
    )
    async with api.db.transaction(write=False) as session:
        row = (await session.execute(counts)).one()
    return {t.name: int(n) for t, n in zip(tables, row, strict=True)}


# Types of the firm's view: a customer must never receive one.
FIRM_TYPES = {"Customer", "Interaction", "StaffMember", "AuditEvent", "PartnerApp"}


def typenames(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["__typename"]} if "__typename" in value else set()
        return found.union(*(typenames(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(typenames(v) for v in value))
    return set()


def outcome(body: dict[str, Any], name: str, op: Op) -> str:
    """OK, an error code, or a description of what went wrong."""
    errors = body.get("errors") or []
    if not errors:
        value = (body.get("data") or {}).get(name)
        checked = op.payload_errors and op.audience is not Audience.PUBLIC
        if checked and value and value.get("errors"):
            return f"OK with payload errors {value['errors']}"
        return OK
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    paths = {tuple(e.get("path") or ()) for e in errors}
    if len(codes) != 1 or paths != {(name,)}:
        return f"errors {[(e.get('extensions'), e.get('path')) for e in errors]}"
    if (body.get("data") or {}).get(name) is not None:
        return f"{codes} with data"
    return str(codes.pop())


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
async def test_each_root_field_works_or_is_refused_with_the_exact_code(
    api: Api, caller: Caller
):
    world = await build_world(api)
    token = await credentials(api, caller, world)
    mismatches = []
    for (root, name), op in present_operations():
        want = expected(op, caller)
        before = await row_counts(api) if root == "Mutation" and want != OK else None
        body = await api.gql(op.document, op.variables(world), token=token)
        got = outcome(body, name, op)
        if caller.kind is Kind.CUSTOMER and (leak := typenames(body) & FIRM_TYPES):
            got = f"{got} with firm types {sorted(leak)}"
        if got != want:
            mismatches.append(f"{root}.{name}: expected {want}, got {got}")
        elif before is not None and (after := await row_counts(api)) != before:
            changed = {
                t: (before[t], after[t]) for t in before if before[t] != after[t]
            }
            mismatches.append(f"{root}.{name}: refused but rows changed {changed}")
    assert mismatches == [], f"{caller.name}:\n" + "\n".join(mismatches)
