"""The built-in segments of competence-based CRM: profitable, loyal, strategic.

They are ordinary dynamic segments (editable rules) carrying a `builtin_key`, so
that bootstrapping finds them again whatever they were renamed to. The rules are
explained in docs/segments.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import Actor
from crm.segments import service
from crm.segments.models import Segment, SegmentKind

SPEND_365 = {"kinds": ["purchase", "refund"], "within_days": 365}


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    description: str
    rule: dict[str, Any]


BUILTINS = (
    Builtin(
        key="profitable",
        name="Profitable customers",
        description="Net spend (purchases less refunds) of 500 or more in the last "
        "365 days.",
        rule={"activity": {**SPEND_365, "amount": {"gte": "500"}}},
    ),
    Builtin(
        key="loyal",
        name="Loyal customers",
        description="Bought at least three times in the last 365 days and were in "
        "touch (a purchase, visit, support contact or feedback) in the last 90.",
        rule={
            "and": [
                {
                    "activity": {
                        "kinds": ["purchase"],
                        "within_days": 365,
                        "count": {"gte": 3},
                    }
                },
                {
                    "activity": {
                        "kinds": ["feedback", "purchase", "support", "visit"],
                        "within_days": 90,
                    }
                },
            ]
        },
    ),
    Builtin(
        key="strategic",
        name="Strategic customers",
        description="Tagged 'strategic' by the firm, or companies with a net spend "
        "of 1,000 or more in the last 365 days.",
        rule={
            "or": [
                {"tags": {"has": "strategic"}},
                {
                    "and": [
                        {"company": {"is_null": False}},
                        {"activity": {**SPEND_365, "amount": {"gte": "1000"}}},
                    ]
                },
            ]
        },
    ),
)


async def bootstrap(session: AsyncSession, actor: Actor) -> list[Segment]:
    """Create the built-in segments that are missing; returns those it created."""
    existing = set(
        (
            await session.scalars(
                select(col(Segment.builtin_key)).where(
                    col(Segment.builtin_key).is_not(None)
                )
            )
        ).all()
    )
    created = []
    for builtin in BUILTINS:
        if builtin.key in existing:
            continue
        created.append(
            await service.create_segment(
                session,
                actor,
                {
                    "name": builtin.name,
                    "description": builtin.description,
                    "kind": SegmentKind.DYNAMIC.value,
                    "rule": builtin.rule,
                },
                builtin_key=builtin.key,
            )
        )
    return created
