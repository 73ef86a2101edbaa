"""The objects the resolvers start from, for fields a planned value defers.

One statement per type for a whole planned value, through the same scoped reads
the ordinary resolvers use (the operation's DataLoaders where there is one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from crm.interactions import service as interaction_service
from crm.me import service as me_service
from crm.segments import service as segment_service
from schema.context import Context


async def _customers(context: Context, pks: Iterable[int]) -> dict[int, Any]:
    from schema.customers.types import Customer

    wanted = sorted(pks)
    models = await context.loaders.customers.load_many(wanted)
    return {
        pk: Customer.from_model(model)
        for pk, model in zip(wanted, models, strict=True)
        if model is not None
    }


async def _interactions(context: Context, pks: Iterable[int]) -> dict[int, Any]:
    from schema.interactions.types import Interaction

    found = await interaction_service.by_ids(context.session, context.actor, pks)
    return {pk: Interaction.from_model(model) for pk, model in found.items()}


async def _me(context: Context, pks: Iterable[int]) -> dict[int, Any]:
    from schema.me.types import Me

    return dict.fromkeys(pks, Me())


async def _my_interactions(context: Context, pks: Iterable[int]) -> dict[int, Any]:
    from schema.me.types import MyInteraction

    found = await me_service.my_interactions_by_ids(context.session, context.actor, pks)
    return {pk: MyInteraction.from_model(model) for pk, model in found.items()}


async def _segments(context: Context, pks: Iterable[int]) -> dict[int, Any]:
    from schema.segments.types import Segment

    found = await segment_service.segments_by_ids(context.session, context.actor, pks)
    return {pk: Segment.from_model(model) for pk, model in found.items()}


SOURCES: dict[str, Callable[[Context, Iterable[int]], Awaitable[dict[int, Any]]]] = {
    "Customer": _customers,
    "Interaction": _interactions,
    "Me": _me,
    "MyInteraction": _my_interactions,
    "Segment": _segments,
}


def deferrable(type_name: str) -> bool:
    """Whether fields of this type can be left to the resolvers row by row."""
    return type_name in SOURCES


async def load_sources(
    context: Context, wanted: dict[str, set[int]]
) -> dict[str, dict[int, Any]]:
    return {name: await SOURCES[name](context, pks) for name, pks in wanted.items()}
