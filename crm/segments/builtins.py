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


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    description: str
    rule: dict[str, Any]


def _score_at_least(measure: str, score: int) -> dict[str, Any]:
    return {"insights": {measure: {"gte": score}}}


# Over the competence-based scores of the insights refresh (1-5 each, see
# docs/insights.md); a customer without insights yet is in none of them.
BUILTINS = (
    Builtin(
        key="profitable",
        name="Profitable customers",
        description="Profitability score 4 or 5: margin (revenue net of refunds, "
        "less cost to serve) over the last 12 months in the top two fifths.",
        rule=_score_at_least("profitability", 4),
    ),
    Builtin(
        key="loyal",
        name="Loyal customers",
        description="Loyalty score 4 or 5: long tenure, repeat purchases and a high "
        "probability of still being active.",
        rule=_score_at_least("loyalty", 4),
    ),
    Builtin(
        key="strategic",
        name="Strategic customers",
        description="Strategic value 4 or 5: set by staff with a reason, otherwise "
        "from predicted lifetime value.",
        rule=_score_at_least("strategic_value", 4),
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
