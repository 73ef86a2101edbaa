"""What an operation asks of a field: its sub-selections, merged as GraphQL does.

Fragments (named and inline), aliases, variables and `@include`/`@skip` are
resolved here, once per planned field, in the order graphql-core would complete
the fields (first appearance of each response key).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSkipDirective,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionSetNode,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
)
from strawberry.types.arguments import convert_arguments

from schema.context import Info


class Unplannable(Exception):
    """The planner leaves this field to the ordinary resolvers."""


@dataclass(frozen=True)
class Selected:
    """One response key of a selection set."""

    key: str
    name: str
    nodes: tuple[FieldNode, ...]
    definition: GraphQLField | None  # None for __typename


class Selection:
    """Reads the selections of one operation (one resolver's `info`)."""

    def __init__(self, info: Info) -> None:
        raw = info._raw_info
        self.info = info
        self.schema = raw.schema
        self.fragments = raw.fragments
        # strawberry hands resolvers the coerced dict; graphql-core's helpers
        # read it from its container.
        coerced = cast(dict[str, Any], raw.variable_values)
        self.variables = VariableValues(sources={}, coerced=coerced)
        self.strawberry = info.schema

    def root(self) -> tuple[FieldNode, ...]:
        return tuple(self.info._raw_info.field_nodes)

    def fields(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode]
    ) -> list[Selected]:
        """The response keys selected under `nodes` on an object of `type_`."""
        grouped: dict[str, list[FieldNode]] = {}
        seen: set[str] = set()

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, type_):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name in seen or fragment is None:
                        continue
                    seen.add(name)
                    if self._applies(fragment.type_condition, type_):
                        walk(fragment.selection_set)

        for node in nodes:
            if node.selection_set is not None:
                walk(node.selection_set)
        selected = []
        for key, found in grouped.items():
            name = found[0].name.value
            definition = None if name == "__typename" else type_.fields.get(name)
            if definition is None and name != "__typename":
                raise Unplannable(f"{type_.name}.{name}")
            selected.append(Selected(key, name, tuple(found), definition))
        return selected

    def object_type(self, name: str) -> GraphQLObjectType:
        found = self.schema.get_type(name)
        assert isinstance(found, GraphQLObjectType)
        return found

    def arguments(self, selected: Selected) -> dict[str, Any]:
        """The field's arguments as its resolver would receive them."""
        assert selected.definition is not None
        raw = get_argument_values(
            selected.definition, selected.nodes[0], self.variables
        )
        field = selected.definition.extensions["strawberry-definition"]
        return convert_arguments(
            raw,
            field.arguments,
            scalar_registry=self.strawberry.schema_converter.scalar_registry,
            config=self.strawberry.config,
        )

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include.get("if") is False)

    def _applies(
        self, condition: NamedTypeNode | None, type_: GraphQLObjectType
    ) -> bool:
        if condition is None:
            return True
        conditional = self.schema.get_type(condition.name.value)
        if conditional is type_:
            return True
        if conditional is None or isinstance(conditional, GraphQLObjectType):
            return False
        return bool(self.schema.is_sub_type(conditional, type_))  # type: ignore[arg-type]
