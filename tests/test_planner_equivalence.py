"""Equivalence, proven: planned execution answers exactly as field-by-field resolution.

Two apps share one seeded database: one built with `planner=False` (the reference
path: every field resolved on its own) and one with `planner=True`. Every operation
of the corpus (tests/planner_corpus.py: at least 300, generated from a fixed seed,
with real cursors read through the reference path) is sent over HTTP by every kind
of caller to both, and the HTTP status and the raw response bytes must be the same,
errors included. A difference names the operation, the caller and the first path
at which the two JSON bodies part.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from crm.access.recorder import recorder_for
from crm.db import Database
from tests.client import Api
from tests.conftest import make_app, wipe
from tests.planner_corpus import (
    CUSTOMER_ORDER_FIELDS,
    INTERACTION_ORDER_FIELDS,
    PORTAL,
    ROLES,
    Op,
    World,
    build_corpus,
    collect_cursors,
    first_difference,
    seed,
    short,
)

BASE_URL = "http://mutual.test"
CALLERS = [
    *ROLES,
    "key[customers:read]",
    "key[customers:read+interactions:read]",
    "customer",
]
ROOTS = [
    "customers",
    "customer",
    "interactions",
    "interaction",
    "node",
    "nodes",
    "segments",
    "segment",
    "me",
]


@dataclass
class Equivalence:
    """The two apps' clients, the callers' credentials, the data and the corpus."""

    reference: httpx.AsyncClient  # planner=False
    planned: httpx.AsyncClient  # planner=True
    database: Database
    tokens: dict[str, str]
    world: World
    corpus: list[Op]
    seconds: dict[str, float] = field(default_factory=dict)


def _app(database: Database, *, planner: bool) -> Any:
    return make_app(database, planner=planner)


@pytest.fixture(scope="module")
async def equivalence(database: Database) -> AsyncIterator[Equivalence]:
    """One seeded database per backend for the whole module; emptied again after
    it, so that the tests after this module find the tables as `db` leaves them."""
    started = time.perf_counter()
    await wipe(database)
    recorder_for(database).discard()
    reference_app = _app(database, planner=False)
    planned_app = _app(database, planner=True)
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=reference_app), base_url=BASE_URL
        ) as reference,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=planned_app), base_url=BASE_URL
        ) as planned,
    ):
        api = Api(reference, reference_app, database)
        staff = {role: (await api.staff(role))[0] for role in ROLES}
        tokens = {role: api.token_for(pk) for role, pk in staff.items()}
        tokens["key[customers:read]"] = await api.partner_key(
            ["customers:read"], name="Narrow partner"
        )
        tokens["key[customers:read+interactions:read]"] = await api.partner_key(
            ["customers:read", "interactions:read"], name="Reading partner"
        )
        writer = await api.partner_key(
            ["customers:read", "interactions:read", "interactions:write"],
            name="Writing partner",
        )

        async def gql(document: str, variables: dict[str, Any], token: str) -> Any:
            return await api.data(document, variables, token=token)

        world = await seed(
            database,
            gql,
            staff=staff,
            tokens=tokens,
            writer_key=writer,
            portal_token=api.customer_token,
        )
        tokens["customer"] = api.customer_token(world.customers[PORTAL])
        await collect_cursors(world, gql, tokens["admin"], tokens["customer"])
        corpus = build_corpus(world)
        recorder_for(database).discard()
        state = Equivalence(reference, planned, database, tokens, world, corpus)
        state.seconds["seed"] = time.perf_counter() - started
        yield state
    await wipe(database)
    recorder_for(database).discard()


async def _send(client: httpx.AsyncClient, op: Op, token: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        content=op.body(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
        },
    )


def _explain(op: Op, caller: str, off: httpx.Response, on: httpx.Response) -> str:
    lines = [
        f"operation {op.name} as {caller}:",
        f"  document:  {op.document}",
        f"  variables: {short(op.variables)}",
    ]
    if op.operation_name:
        lines.append(f"  operationName: {op.operation_name}")
    if off.status_code != on.status_code:
        lines.append(
            f"  HTTP status: planner off {off.status_code}, on {on.status_code}"
        )
    try:
        left, right = json.loads(off.content), json.loads(on.content)
    except ValueError:
        lines.append(f"  planner off: {off.content[:300]!r}")
        lines.append(f"  planner on:  {on.content[:300]!r}")
        return "\n".join(lines)
    if left == right:
        lines.append("  same JSON, different bytes (key order, spacing or escapes):")
        lines.append(f"  planner off: {off.content[:300]!r}")
        lines.append(f"  planner on:  {on.content[:300]!r}")
        return "\n".join(lines)
    path, a, b = first_difference(left, right)
    lines.append(f"  first difference at {path}:")
    lines.append(f"    planner off: {short(a)}")
    lines.append(f"    planner on:  {short(b)}")
    return "\n".join(lines)


@dataclass
class Outcome:
    differences: list[str] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=dict)


async def compare(equivalence: Equivalence) -> Outcome:
    """Every operation, by every caller, on both paths. Operations are the outer
    loop: each document is then parsed and validated once per app and found in the
    apps' document caches (256 entries) for the other callers."""
    outcome = Outcome(counts={caller: Counter() for caller in CALLERS})
    for op in equivalence.corpus:
        for caller in CALLERS:
            token = equivalence.tokens[caller]
            off = await _send(equivalence.reference, op, token)
            on = await _send(equivalence.planned, op, token)
            if off.status_code != on.status_code or off.content != on.content:
                outcome.differences.append(_explain(op, caller, off, on))
                continue
            body = json.loads(off.content) if off.content else {}
            outcome.counts[caller]["errors" if body.get("errors") else "data"] += 1
    return outcome


async def test_planned_responses_are_byte_identical(
    equivalence: Equivalence,
) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    outcome = await compare(equivalence)
    requests = len(equivalence.corpus) * len(CALLERS) * 2
    print(
        f"\n{len(equivalence.corpus)} operations x {len(CALLERS)} callers x 2 paths "
        f"= {requests} requests in {time.perf_counter() - started:.1f} s "
        f"({time.process_time() - cpu:.1f} s CPU); seeding took "
        f"{equivalence.seconds['seed']:.1f} s"
    )
    for caller, counts in outcome.counts.items():
        print(f"  {caller}: {dict(counts)}")
    differences = outcome.differences
    assert not differences, (
        f"{len(differences)} of {len(equivalence.corpus) * len(CALLERS)} "
        "answers differ between planner off and on:\n\n" + "\n\n".join(differences[:8])
    )
    # Both kinds of answer are compared for everyone: data, and refusals/errors.
    for caller, counts in outcome.counts.items():
        assert counts["errors"] >= 40, (caller, counts)
        assert counts["data"] >= (200 if caller in ROLES else 10), (caller, counts)


def test_the_corpus_covers_the_planned_roots(equivalence: Equivalence) -> None:
    corpus = equivalence.corpus
    documents = [op.document for op in corpus]
    assert len({op.body() for op in corpus}) == len(corpus) >= 300
    for root in ROOTS:
        assert any(re.search(rf"\b{root}\s*[({{]", d) for d in documents), root
    everything = " ".join(documents) + json.dumps([op.variables for op in corpus])
    for name in CUSTOMER_ORDER_FIELDS + INTERACTION_ORDER_FIELDS:
        assert name in everything, name
    for needle in (
        "after:",
        "before:",
        "last:",
        "search:",
        "fragment ",
        "... on Customer",
        "... on Interaction",
        "@include(if: $",
        "@skip(if: $",
        "__typename",
        "totalCount",
        "hasPreviousPage",
        '"some"',
        '"or"',
        '"not"',
        '"isNull"',
        '"startsWith"',
        '"contains"',
        "insights {",
        "segments {",
        "consents {",
        "auditTrail(",
    ):
        assert needle in everything, needle
    families = Counter(op.name.split(":")[0].split("#")[0] for op in corpus)
    print(f"corpus: {len(corpus)} operations: {dict(sorted(families.items()))}")


# --- the switch switches -------------------------------------------------------------

_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b", re.I)
NESTED_PAGE = (
    "{ customers(first: 20) { edges { node { id displayName "
    "interactions(first: 5) { edges { node { id kind } } } } } } }"
)


@contextmanager
def selects(database: Database) -> Iterator[list[str]]:
    """The SELECT statements run on the read engine while the block runs, without
    the caller's own lookup (api/auth.py reads the staff member by key)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        flat = " ".join(statement.split())
        if _CONTROL.match(flat) or not flat.upper().startswith(("SELECT", "WITH")):
            return
        if flat.startswith("SELECT staff_member.id") and re.search(
            r"WHERE staff_member\.id = (\?|\$1)", flat
        ):
            return
        statements.append(flat)

    engine = database.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_the_planner_answers_a_nested_page_with_one_select(
    equivalence: Equivalence,
) -> None:
    op = Op("nested-page", NESTED_PAGE)
    token = equivalence.tokens["admin"]
    with selects(equivalence.database) as reference:
        off = await _send(equivalence.reference, op, token)
    with selects(equivalence.database) as planned:
        on = await _send(equivalence.planned, op, token)
    assert off.content == on.content
    assert "errors" not in json.loads(on.content)
    assert len(planned) == 1, (
        f"planner on: {len(planned)} SELECTs, planner off: {len(reference)}:\n"
        + "\n".join(s[:200] for s in planned)
    )
