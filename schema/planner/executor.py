"""The executor that places a planned subtree into the result as it is.

A planned value may hold fields the planner left to the resolvers: in the
document the database built, such a field reads `{"__deferred__": <row id>}`,
in its place among its siblings. Before the value is placed, those fields are
resolved the ordinary way (graphql-core's own `execute_fields`, at their real
paths, with their errors and null propagation) on the row's object, loaded once
per type for the whole value (schema/planner/sources.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    is_leaf_type,
    located_error,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.planner.sources import load_sources

DEFERRED = "__deferred__"


class Planned:
    """A field's value already shaped for the response (built by the database).

    `deferred`: the value holds fields left to the resolvers. `type_name`: the
    object type of the value, where the field's type is an interface (node)."""

    __slots__ = ("deferred", "type_name", "value")

    def __init__(
        self, value: Any, *, deferred: bool = False, type_name: str | None = None
    ) -> None:
        self.value = value
        self.deferred = deferred
        self.type_name = type_name


@dataclass
class _Slot:
    """Where an object sits: its container, its key there, and whether that
    position may be null (an error below it stops there)."""

    container: Any
    key: Any
    nullable: bool
    path: Path
    parent: _Slot | None


@dataclass
class _Job:
    type_: GraphQLObjectType
    value: dict[str, Any]
    pk: int
    fields: dict[str, Any]
    path: Path
    slot: _Slot | None


class PlannedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, except that a Planned value is not completed field
    by field: the planner already applied every rule and every scalar form."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        """The operation's result, once the work it leaves behind has settled.

        When an error nulls a field whose siblings are still reading (a failed
        non-null field), graphql-core answers at once and settles the siblings in
        the background. They read through the operation's session, which the
        transaction extension closes when the result is in: wait for them, or the
        closing races their statements (an intermittent INTERNAL_SERVER_ERROR)."""
        result = super().execute_operation(serially)
        if not self.background_futures and not self.is_awaitable(result):
            return result
        return self._settled(result)

    async def _settled(self, result: Any) -> Any:
        try:
            if self.is_awaitable(result):
                result = await result
        finally:
            while self.background_futures:
                await asyncio.wait(list(self.background_futures))
        return result

    def complete_value(  # type: ignore[override]
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if type(result) is Planned:
            if not result.deferred:
                return result.value
            return self._complete_deferred(
                return_type, field_details_list, path, result
            )
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    async def _complete_deferred(
        self, return_type: Any, field_details_list: Any, path: Path, planned: Planned
    ) -> Any:
        holder = {"value": planned.value}
        root = _Slot(
            holder, "value", not isinstance(return_type, GraphQLNonNull), path, None
        )
        jobs: list[_Job] = []
        self._collect(
            return_type, field_details_list, path, planned.value, root, planned, jobs
        )
        if not jobs:
            return holder["value"]
        wanted: dict[str, set[int]] = {}
        for job in jobs:
            wanted.setdefault(job.type_.name, set()).add(job.pk)
        sources = await load_sources(self.context_value, wanted)
        # Every row's fields at once, as graphql-core runs a list's items: their
        # DataLoaders then batch across the rows (one statement per loader).
        outcomes = await asyncio.gather(
            *(self._run_job(job, sources) for job in jobs), return_exceptions=True
        )
        for job, outcome in zip(jobs, outcomes, strict=True):
            if isinstance(holder["value"], _Raise):
                break  # the planned field itself fails: nothing else is reported
            if self.collected_errors.has_nulled_position(job.path):
                continue
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                self._null_up(outcome, job)
                continue
            for key, value in outcome.items():
                job.value[key] = value
        if isinstance(holder["value"], _Raise):
            raise holder["value"].error
        return holder["value"]

    async def _run_job(
        self, job: _Job, sources: dict[str, dict[int, Any]]
    ) -> dict[str, Any]:
        source = sources[job.type_.name].get(job.pk)
        if source is None:
            raise RuntimeError(f"{job.type_.name} {job.pk} vanished")
        resolved = self.execute_fields(job.type_, source, job.path, job.fields, None)
        if isinstance(resolved, Awaitable):
            resolved = await resolved
        return resolved  # type: ignore[no-any-return]

    def _null_up(self, exc: Exception, job: _Job) -> None:
        """A non-null field failed: null the nearest position that may be null
        (the planned field itself when nothing below it may be)."""
        error = (
            exc
            if isinstance(exc, GraphQLError)
            else located_error(exc, None, job.path.as_list())
        )
        slot = job.slot
        while slot is not None and not slot.nullable:
            slot = slot.parent
        if slot is None:
            root = job.slot
            while root is not None and root.parent is not None:
                root = root.parent
            if root is not None:
                root.container[root.key] = _Raise(error)
            return
        if not self.collected_errors.has_nulled_position(slot.path):
            self.collected_errors.add(error, slot.path)
        slot.container[slot.key] = None

    def _collect(
        self,
        type_: Any,
        field_details_list: Any,
        path: Path,
        value: Any,
        slot: _Slot,
        planned: Planned,
        jobs: list[_Job],
    ) -> None:
        if value is None or isinstance(value, _Raise):
            return
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            item_type = type_.of_type
            nullable = not isinstance(item_type, GraphQLNonNull)
            for index, item in enumerate(value):
                item_path = path.add_key(index, None)
                item_slot = _Slot(value, index, nullable, item_path, slot)
                self._collect(
                    item_type,
                    field_details_list,
                    item_path,
                    item,
                    item_slot,
                    planned,
                    jobs,
                )
            return
        if is_leaf_type(type_):
            return
        if not isinstance(type_, GraphQLObjectType):
            found = self.schema.get_type(planned.type_name or "")
            if not isinstance(found, GraphQLObjectType):
                return
            type_ = found
        grouped = self.collect_subfields(type_, field_details_list).grouped_field_set
        deferred: dict[str, Any] = {}
        pk = None
        for key, details in grouped.items():
            item = value.get(key)
            if type(item) is dict and len(item) == 1 and DEFERRED in item:
                deferred[key] = details
                pk = item[DEFERRED]
                continue
            name = details[0].node.name.value
            definition = type_.fields.get(name)
            if definition is None or item is None:
                continue
            field_path = path.add_key(key, type_.name)
            field_slot = _Slot(
                value,
                key,
                not isinstance(definition.type, GraphQLNonNull),
                field_path,
                slot,
            )
            self._collect(
                definition.type, details, field_path, item, field_slot, planned, jobs
            )
        if deferred and pk is not None:
            jobs.append(_Job(type_, value, int(pk), deferred, path, slot))


@dataclass
class _Raise:
    error: Exception
