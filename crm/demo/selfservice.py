"""Demo data for self-service, written after the customers and interactions:
consents with their history (sign-up opt-ins, later withdrawals), contact
preferences, and customer feedback (survey answers, ratings, ideas) with some
answered by staff. Deterministic for a seed; set-based (one executemany per table,
the current consent state derived in one INSERT .. SELECT)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.consent.models import ConsentEvent, ConsentState, ContactPreference
from crm.customers.models import Customer
from crm.db import Database
from crm.demo.timeline import ANCHOR
from crm.interactions.models import Interaction
from crm.staff.models import StaffMember

SYSTEM_REF = "system:demo"
DAY = timedelta(days=1)
IDEAS = {
    "idea": ("Click and collect", "Could I order online and collect in store?"),
    "request": ("Invoices by email", "Please send my invoices by email."),
    "complaint": ("Late delivery", "My last order came a week late."),
    "praise": ("Great advice", "The staff at the counter were very helpful."),
}
ANSWERS = {
    "idea": "Thank you: we are trying it in two stores this spring.",
    "request": "Done: your invoices now come by email.",
    "complaint": "We are sorry. A voucher is on its way to you.",
    "praise": "Thank you, we passed it on to the team.",
}


async def _demo_customers(
    session: AsyncSession,
) -> list[tuple[int, datetime, str | None]]:
    """Demo customers without consents yet: (id, created_at, locale)."""
    undecided = (
        ~select(col(ConsentEvent.id))
        .where(col(ConsentEvent.customer_id) == col(Customer.id))
        .exists()
    )
    rows = await session.execute(
        select(col(Customer.id), col(Customer.created_at), col(Customer.locale))
        .where(col(Customer.external_ref).like("demo-%"), undecided)
        .order_by(col(Customer.id))
    )
    return [(i, created, locale) for i, created, locale in rows if i is not None]


def _when(rng: np.random.Generator, start: datetime, days: float) -> datetime:
    """A moment within `days` after `start`, never after the demo's anchor."""
    return min(start + timedelta(days=float(rng.uniform(0, days))), ANCHOR - DAY)


def _consents(
    rng: np.random.Generator, customers: list[tuple[int, datetime, str | None]]
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    def add(
        cid: int,
        purpose: str,
        channel: str,
        granted: bool,
        source: str,
        when: datetime,
        evidence: str | None = None,
    ) -> None:
        events.append(
            {
                "customer_id": cid,
                "purpose": purpose,
                "channel": channel,
                "granted": granted,
                "source": source,
                "evidence": evidence,
                "recorded_by": f"customer:{cid}"
                if source == "customer"
                else SYSTEM_REF,
                "occurred_at": when,
                "recorded_at": when,
            }
        )

    draws = rng.random((len(customers), 6))
    for (cid, created, _), u in zip(customers, draws, strict=True):
        signed_up = max(created, ANCHOR - timedelta(days=700))
        if u[0] < 0.45:  # opted in to marketing by email at sign-up
            add(
                cid,
                "marketing",
                "email",
                True,
                "web_form",
                signed_up,
                "Sign-up form, newsletter box ticked",
            )
            if u[1] < 0.2:  # ... and unsubscribed later
                add(
                    cid,
                    "marketing",
                    "email",
                    False,
                    "customer",
                    _when(rng, signed_up, 400),
                )
        if u[2] < 0.12:
            add(cid, "marketing", "sms", True, "paper_form", signed_up, "In-store form")
        if u[3] < 0.15:
            add(
                cid,
                "research",
                "any",
                True,
                "event",
                _when(rng, signed_up, 300),
                "Customer panel sign-up",
            )
        if u[4] < 0.06:
            add(cid, "profiling", "any", False, "customer", _when(rng, signed_up, 500))
        if u[5] < 0.03:
            add(
                cid,
                "partner_sharing",
                "any",
                False,
                "customer",
                _when(rng, signed_up, 500),
            )
    return events


def _preferences(
    rng: np.random.Generator, customers: list[tuple[int, datetime, str | None]]
) -> list[dict[str, Any]]:
    channels = ("email", "sms", "phone", "post", "push")
    frequencies = ("any", "weekly", "monthly", "quarterly", "never")
    rows = []
    draws = rng.random((len(customers), 3))
    for (cid, created, locale), u in zip(customers, draws, strict=True):
        if u[0] >= 0.4:
            continue
        rows.append(
            {
                "customer_id": cid,
                "preferred_channel": channels[int(u[1] * len(channels))],
                "contact_frequency": frequencies[int(u[2] * len(frequencies))],
                "language": locale or "en",
                "updated_by": f"customer:{cid}",
                "updated_at": max(created, ANCHOR - timedelta(days=200)),
            }
        )
    return rows


def _interaction(cid: int, when: datetime, **fields: Any) -> dict[str, Any]:
    row = {
        "customer_id": cid,
        "occurred_at": when,
        "channel": "web",
        "direction": "inbound",
        "kind": "feedback",
        "visibility": "shared",
        "source": "customer",
        "recorded_by": f"customer:{cid}",
        "recorded_by_staff_id": None,
        "subject": None,
        "body": None,
        "rating": None,
        "survey": None,
        "feedback_kind": None,
        "reply_to_id": None,
        "created_at": when,
        "updated_at": when,
        "version": 1,
    }
    row.update(fields)
    return row


async def _feedback(
    session: AsyncSession,
    rng: np.random.Generator,
    customers: list[tuple[int, datetime, str | None]],
) -> int:
    last_year = ANCHOR - timedelta(days=365)
    found = await session.execute(
        select(col(Interaction.customer_id), func.max(col(Interaction.id)))
        .where(
            col(Interaction.visibility) == "shared",
            col(Interaction.kind).in_(("purchase", "visit")),
        )
        .group_by(col(Interaction.customer_id))
    )
    latest_shared = {cid: last for cid, last in found if last is not None}
    rows: list[dict[str, Any]] = []
    kinds = tuple(IDEAS)
    draws = rng.random((len(customers), 5))
    for (cid, created, _), u in zip(customers, draws, strict=True):
        start = max(created, last_year)
        if u[0] < 0.10:  # NPS, skewed towards promoters
            score = int(min(10, max(0, round(rng.normal(7.5, 2.2)))))
            rows.append(
                _interaction(cid, _when(rng, start, 365), rating=score, survey="nps")
            )
        if u[1] < 0.05 and cid in latest_shared:
            rows.append(
                _interaction(
                    cid,
                    _when(rng, start, 365),
                    rating=int(1 + min(4, int(rng.beta(4, 1.5) * 5))),
                    survey="csat",
                    reply_to_id=latest_shared[cid],
                    subject="Rating of your last visit",
                )
            )
        if u[2] < 0.03:
            kind = kinds[int(u[3] * len(kinds))]
            subject, body = IDEAS[kind]
            rows.append(
                _interaction(
                    cid,
                    _when(rng, start, 365),
                    feedback_kind=kind,
                    subject=subject,
                    body=body,
                )
            )
    if not rows:
        return 0
    table = Interaction.__table__  # type: ignore[attr-defined]
    ids = (
        (
            await session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
            )
        )
        .scalars()
        .all()
    )
    staff = (
        await session.scalars(
            select(col(StaffMember.id))
            .where(
                col(StaffMember.role).in_(("agent", "manager")),
                col(StaffMember.archived_at).is_(None),
            )
            .order_by(col(StaffMember.id))
        )
    ).all()
    staff = [i for i in staff if i is not None]
    answers = []
    for row, fid, u in zip(rows, ids, rng.random(len(rows)), strict=True):
        kind = row["feedback_kind"]
        if kind is None or u >= 0.6 or not staff:
            continue
        member = staff[int(u / 0.6 * len(staff))]
        when = min(row["occurred_at"] + DAY * float(1 + 3 * u), ANCHOR - DAY / 2)
        answers.append(
            _interaction(
                row["customer_id"],
                when,
                direction="outbound",
                source="staff",
                recorded_by=f"staff:{member}",
                recorded_by_staff_id=member,
                subject=f"Re: {row['subject']}",
                body=ANSWERS[kind],
                reply_to_id=int(fid),
            )
        )
    if answers:
        await session.execute(insert(table), answers)
    return len(rows) + len(answers)


async def seed(database: Database, *, seed: int) -> None:
    """Add the self-service part of the demo (deterministic for `seed`)."""
    rng = np.random.default_rng([seed, 6])
    async with database.transaction() as session:
        customers = await _demo_customers(session)
        if not customers:
            return
        events = _consents(rng, customers)
        if events:
            await session.execute(insert(ConsentEvent), events)
            await session.execute(_current_state([c[0] for c in customers]))
        preferences = _preferences(rng, customers)
        if preferences:
            await session.execute(insert(ContactPreference), preferences)
        await _feedback(session, rng, customers)


def _current_state(customer_ids: list[int]) -> Any:
    """INSERT .. SELECT of the latest decision per slot of these customers."""
    position = (
        func.row_number()
        .over(
            partition_by=(
                col(ConsentEvent.customer_id),
                col(ConsentEvent.purpose),
                col(ConsentEvent.channel),
            ),
            order_by=(
                col(ConsentEvent.occurred_at).desc(),
                col(ConsentEvent.id).desc(),
            ),
        )
        .label("position")
    )
    low, high = min(customer_ids), max(customer_ids)
    ranked = (
        select(
            col(ConsentEvent.customer_id),
            col(ConsentEvent.purpose),
            col(ConsentEvent.channel),
            col(ConsentEvent.granted),
            col(ConsentEvent.source),
            col(ConsentEvent.id).label("event_id"),
            col(ConsentEvent.occurred_at),
            position,
        )
        .where(col(ConsentEvent.customer_id).between(low, high))
        .subquery()
    )
    fresh = (
        ~select(col(ConsentState.id))
        .where(col(ConsentState.customer_id) == ranked.c.customer_id)
        .exists()
    )
    columns = (
        "customer_id",
        "purpose",
        "channel",
        "granted",
        "source",
        "event_id",
        "occurred_at",
    )
    return insert(ConsentState).from_select(
        list(columns),
        select(*(ranked.c[name] for name in columns)).where(
            ranked.c.position == 1, fresh
        ),
    )
