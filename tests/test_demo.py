"""Demo data: realistic, deterministic, consistent with the services, refused twice."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

import pytest
from sqlalchemy import func, select, text

from crm import demo
from crm.audit.models import AuditEvent
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.db import Database
from crm.demo import ANCHOR, RECENT_DAYS, START, seed_demo
from crm.errors import Conflict
from crm.interactions import service as interaction_service
from crm.interactions.models import Interaction
from crm.staff import service as staff_service
from crm.staff.models import StaffMember
from crm.validation import fold
from tests.conftest import wipe

N = 300
TABLES = (Customer, Interaction, StaffMember, AuditEvent)


@dataclass
class Seeded:
    summary: demo.DemoSummary
    customers: list[Customer]
    interactions: list[Interaction]


async def load(db: Database) -> tuple[list[Customer], list[Interaction]]:
    async with db.transaction(write=False) as session:
        customers = await session.scalars(select(Customer).order_by(Customer.id))
        interactions = await session.scalars(
            select(Interaction).order_by(Interaction.id)
        )
        return list(customers), list(interactions)


async def seed(db: Database, **options: Any) -> Seeded:
    summary = await seed_demo(db, customers=N, **options)
    return Seeded(summary, *await load(db))


async def schema_of(db: Database) -> list[str]:
    """Definitions of the customer and interaction tables, indexes and constraints."""
    query = (
        "SELECT sql FROM sqlite_master WHERE tbl_name IN ('customer', 'interaction')"
        if db.sqlite
        else "SELECT indexdef FROM pg_indexes"
        " WHERE tablename IN ('customer', 'interaction')"
        " UNION ALL SELECT conname || pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid IN ('customer'::regclass, 'interaction'::regclass)"
    )
    async with db.transaction(write=False) as session:
        return sorted(str(row) for row in await session.scalars(text(query)))


async def counts(db: Database) -> dict[type, int]:
    async with db.transaction(write=False) as session:
        return {
            model: await session.scalar(select(func.count()).select_from(model))
            for model in TABLES
        }


def net_revenue(interactions: list[Interaction]) -> dict[int, Decimal]:
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    for i in interactions:
        if i.kind in ("purchase", "refund"):
            sign = 1 if i.kind == "purchase" else -1
            revenue[i.customer_id] += sign * i.amount
    return revenue


def last_purchase(interactions: list[Interaction]) -> dict[int, object]:
    last: dict[int, object] = {}
    for i in interactions:
        if i.kind == "purchase":
            last[i.customer_id] = max(
                last.get(i.customer_id, i.occurred_at), i.occurred_at
            )
    return last


async def test_a_seed_writes_what_its_summary_reports(db, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK", 128)
    seen: list[int] = []

    seeded = await seed(db, progress=seen.append)

    assert seeded.summary.customers == len(seeded.customers) == N
    assert seeded.summary.interactions == len(seeded.interactions)
    assert 5 * N < seeded.summary.interactions < 15 * N
    assert seeded.summary.staff == 5
    assert seen == [128, 256, 300]
    async with db.transaction(write=False) as session:
        roles = Counter(await session.scalars(select(StaffMember.role)))
        audits = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "demo.seeded")
            )
        )
        owners = set(await session.scalars(select(StaffMember.id)))
    assert roles == {"admin": 1, "manager": 1, "agent": 2, "analyst": 1}
    assert len(audits) == 1
    assert (audits[0].entity_type, audits[0].entity_id) == ("Demo", 0)
    assert audits[0].actor_ref == "system:demo"
    owned = [c.owner_id for c in seeded.customers if c.owner_id is not None]
    assert owned and set(owned) <= owners
    kinds = {"purchase", "refund", "support", "visit", "campaign", "feedback", "note"}
    assert {i.kind for i in seeded.interactions} == kinds


async def test_the_same_seed_gives_the_same_data(db):
    def fingerprint(seeded: Seeded) -> tuple[object, ...]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for i in seeded.interactions:
            totals[i.kind] += i.amount or 0
        return (
            [(c.external_ref, c.email, c.lifecycle_stage) for c in seeded.customers],
            sorted(totals.items()),
            sorted((i.kind, i.occurred_at) for i in seeded.interactions),
        )

    first = fingerprint(await seed(db))
    await wipe(db)
    again = fingerprint(await seed(db))
    await wipe(db)
    other = fingerprint(await seed(db, seed=8))

    assert again == first
    assert other[0] != first[0]


async def test_a_fifth_of_customers_bring_most_of_the_revenue(db):
    seeded = await seed(db)

    revenue = sorted(net_revenue(seeded.interactions).values(), reverse=True)

    top = sum(revenue[: N // 5])
    assert top > Decimal("0.5") * sum(revenue)


async def test_some_buyers_stop_and_the_lifecycle_stage_follows(db):
    seeded = await seed(db)

    last = last_purchase(seeded.interactions)
    recent = ANCHOR - timedelta(days=RECENT_DAYS)

    stopped = [c for c in seeded.customers if c.id in last and last[c.id] < recent]
    assert stopped
    for customer in seeded.customers:
        bought = last.get(customer.id)
        expected = (
            {"lead", "prospect"}
            if bought is None
            else {"active"}
            if bought >= recent
            else {"churned"}
        )
        assert customer.lifecycle_stage in expected, customer.external_ref
    stages = Counter(c.lifecycle_stage for c in seeded.customers)
    assert stages["active"] and stages["churned"] and stages["lead"]


async def test_money_ratings_and_times_are_well_formed(db):
    seeded = await seed(db)

    months: Counter[tuple[int, int]] = Counter()
    for i in seeded.interactions:
        if i.kind in ("purchase", "refund"):
            assert i.amount > 0 and i.amount == i.amount.quantize(Decimal("0.01"))
            assert i.currency in {"EUR", "USD", "GBP"}
        else:
            assert i.amount is None
        if i.kind == "purchase":
            months[i.occurred_at.year, i.occurred_at.month] += 1
        if i.kind == "support":
            assert i.cost_to_serve > 0 and i.currency is not None
            assert i.channel in {"phone", "email", "chat"}
        assert i.rating is None or 0 <= i.rating <= 10
        assert i.sentiment is None or -1 <= i.sentiment <= 1
        assert START <= i.occurred_at <= ANCHOR
        assert i.occurred_at.utcoffset() == timedelta(0)
        if i.source == "import":  # the history
            assert (i.recorded_by, i.version) == ("system:demo", 1)
            shared = i.kind in ("purchase", "refund", "feedback")
            assert i.visibility == ("shared" if shared else "internal")
        else:  # customer feedback and the staff's answers, shown to the customer
            assert i.source in ("customer", "staff") and i.visibility == "shared"
            assert i.recorded_by == (
                f"customer:{i.customer_id}"
                if i.source == "customer"
                else f"staff:{i.recorded_by_staff_id}"
            )
    currencies = Counter(i.currency for i in seeded.interactions if i.amount)
    assert currencies.most_common(1)[0][0] == "EUR"
    autumn = months[2025, 9] + months[2025, 10]
    festive = months[2025, 11] + months[2025, 12]
    assert festive > 1.5 * autumn


async def test_seeded_rows_pass_the_services_own_checks(db):
    seeded = await seed(db)

    zones = available_timezones()
    for c in seeded.customers:
        fields = {k: getattr(c, k) for k in customer_service.EDITABLE_FIELDS}
        assert customer_service.clean_fields(fields)
        stored = (c.display_name, c.email_key, c.search_text)
        c.display_name = ""
        customer_service.derive(c)
        assert (c.display_name, c.email_key, c.search_text) == stored
        assert c.email_key == c.email.lower()
        assert c.time_zone in zones
        assert c.created_at <= c.updated_at <= ANCHOR
        assert c.version == 1 and c.external_ref.startswith("demo-")
    assert len({c.email_key for c in seeded.customers}) == N
    assert any(not c.display_name.isascii() for c in seeded.customers)
    assert any(c.company for c in seeded.customers)
    for i in seeded.interactions[:: max(1, len(seeded.interactions) // 200)]:
        data = {k: getattr(i, k) for k in interaction_service.EDITABLE_FIELDS}
        assert interaction_service.clean_fields(data)
        interaction_service.check_consistency(i)


async def test_search_finds_a_seeded_customer(db):
    seeded = await seed(db)
    customer = seeded.customers[0]
    term = re.findall(r"\w+", fold(customer.family_name))[-1]

    async with db.transaction(write=False) as session:
        if db.sqlite:
            query = "SELECT rowid FROM customer_fts WHERE customer_fts MATCH :q"
            found = await session.scalars(text(query), {"q": f"{term}*"})
        else:
            found = await session.scalars(
                select(Customer.id).where(Customer.search_text.ilike(f"%{term}%"))
            )
        ids = set(found)

    assert customer.id in ids


async def test_seeding_twice_is_refused_and_changes_nothing(db):
    await seed(db)
    before = await counts(db)

    with pytest.raises(Conflict):
        await seed_demo(db, customers=N)

    assert await counts(db) == before


async def test_seeding_beside_existing_data_keeps_it_and_reuses_staff(db, system_actor):
    async with db.transaction() as session:
        admin = await staff_service.create_staff(
            session,
            system_actor,
            email="Admin@Mutual.example",
            display_name="The admin",
            role="admin",
            password=None,
        )
        mine = await customer_service.create_customer(
            session, system_actor, {"email": "ann@example.com", "given_name": "Ann"}
        )

    seeded = await seed(db)

    assert seeded.summary.staff == 4
    assert len(seeded.customers) == N + 1 and seeded.customers[0].id == mine.id
    async with db.transaction(write=False) as session:
        admins = list(
            await session.scalars(
                select(StaffMember).where(StaffMember.role == "admin")
            )
        )
    assert [a.id for a in admins] == [admin.id]


async def test_a_failed_seed_leaves_nothing_behind(db, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK", 100)
    written = demo._interaction_rows

    def fail_on_the_third_chunk(plan, lo, hi, ids):
        if hi > 0 and plan.interactions["cust"][hi - 1] >= 200:
            raise RuntimeError("disk full")
        return written(plan, lo, hi, ids)

    monkeypatch.setattr(demo, "_interaction_rows", fail_on_the_third_chunk)
    schema = await schema_of(db)

    with pytest.raises(RuntimeError):
        await seed_demo(db, customers=N)

    assert await counts(db) == {model: 0 for model in TABLES}
    assert await schema_of(db) == schema
    monkeypatch.undo()
    assert (await seed_demo(db, customers=N)).customers == N


async def test_a_bulk_load_leaves_indexes_and_foreign_keys_in_place(db):
    before = await schema_of(db)

    await seed(db)

    assert await schema_of(db) == before
