"""The executor that places a planned subtree into the result as it is."""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Planned:
    """A field's value already shaped for the response (built by the database)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class PlannedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, except that a Planned value is not completed field
    by field: the planner already applied every rule and every scalar form."""

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
            return result.value
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )
