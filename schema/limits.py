"""Document limits: depth, aliases and cost, checked during validation (before any
SQL) in one pass that is linear in the document size.

Fragments are measured once and memoised, so a fragment spread twice in each of
forty fragments (2**40 fields once expanded) costs forty steps, not 2**40, and a
fragment cycle stops the walk (NoFragmentCyclesRule reports it). strawberry's own
QueryDepthLimiter and MaxAliasesLimiter expand every spread, which is exponential
in such documents, so they are not used.

Cost is an upper bound on the objects a document can ask for: each field counts
one; a field returning a connection multiplies its selection by its page size
(`first`/`last`, else the default page size); `nodes(ids:)` by its number of IDs.
The `edges` and `nodes` inside a connection do not multiply again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.type.definition import GraphQLInterfaceType

from crm.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")
# Root `nodes(ids:)`: at most this many IDs (schema.node.MAX_NODES).
MAX_IDS = 100


@dataclass(frozen=True)
class Measure:
    """What a selection set asks for: levels of fields, aliases in it, its cost."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


def _is_connection(type_: GraphQLNamedType | None) -> bool:
    return (
        isinstance(type_, GraphQLObjectType)
        and {
            "edges",
            "pageInfo",
        }
        <= type_.fields.keys()
    )


def _int_argument(
    field: FieldNode, names: tuple[str, ...], defaults: dict[str, int]
) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value not in names:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(0, min(int(value.value), MAX_PAGE_SIZE))
        if isinstance(value, VariableNode):
            return min(defaults.get(value.name.value, MAX_PAGE_SIZE), MAX_PAGE_SIZE)
    return None


def _multiplier(
    field: FieldNode, returns: GraphQLNamedType | None, defaults: dict[str, int]
) -> int:
    if _is_connection(returns):
        size = _int_argument(field, PAGE_ARGUMENTS, defaults)
        return DEFAULT_PAGE_SIZE if size is None else size
    for argument in field.arguments or ():
        if argument.name.value == "ids":
            if isinstance(argument.value, ListValueNode):
                return min(len(argument.value.values), MAX_IDS)
            return MAX_IDS
    return 1


class _Measurer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        defaults: dict[str, int],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.defaults = defaults
        self.memo: dict[str, Measure] = {}
        self.visiting: set[str] = set()

    def selection_set(
        self, parent: GraphQLNamedType | None, selections: SelectionSetNode | None
    ) -> Measure:
        if selections is None:
            return Measure()
        depth = aliases = cost = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                returns = self._field_type(parent, selection.name.value)
                child = self.selection_set(returns, selection.selection_set)
                if selection.alias is not None:
                    aliases += 1
                aliases += child.aliases
                cost += 1 + _multiplier(selection, returns, self.defaults) * child.cost
                if not selection.name.value.startswith("__"):
                    # Introspection is not limited by depth (GraphiQL's query nests 9+).
                    depth = max(depth, child.depth + 1)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.selection_set(
                    self.schema.get_type(condition.name.value) if condition else parent,
                    selection.selection_set,
                )
                depth = max(depth, inner.depth)
                aliases += inner.aliases
                cost += inner.cost
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
                depth = max(depth, inner.depth)
                aliases += inner.aliases
                cost += inner.cost
        return Measure(depth, aliases, cost)

    def fragment(self, name: str) -> Measure:
        if name in self.memo:
            return self.memo[name]
        if name in self.visiting or name not in self.fragments:
            return Measure()  # cycles and unknown fragments are other rules' errors
        self.visiting.add(name)
        definition = self.fragments[name]
        measure = self.selection_set(
            self.schema.get_type(definition.type_condition.name.value),
            definition.selection_set,
        )
        self.visiting.discard(name)
        self.memo[name] = measure
        return measure

    def _field_type(
        self, parent: GraphQLNamedType | None, name: str
    ) -> GraphQLNamedType | None:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return None
        field = parent.fields.get(name)
        return get_named_type(field.type) if field is not None else None


def _root_type(
    schema: GraphQLSchema, operation: OperationDefinitionNode
) -> GraphQLObjectType | None:
    return schema.get_root_type(operation.operation)


def _defaults(operation: OperationDefinitionNode) -> dict[str, int]:
    defaults = {}
    for definition in operation.variable_definitions or ():
        if isinstance(definition.default_value, IntValueNode):
            defaults[definition.variable.name.value] = int(
                definition.default_value.value
            )
    return defaults


@functools.cache
def limits_rule(
    *, max_depth: int | None, max_aliases: int | None, max_cost: int | None
) -> type[ValidationRule]:
    """A validation rule reporting the first limit a document breaks, with its code.

    One class per set of limits: ValidationCache keys on the rule classes, so a
    new class per operation would make every lookup a miss.
    """

    class DocumentLimitsRule(ValidationRule):
        def enter_document(self, node: Any, *_args: Any) -> None:
            document = self.context.document
            schema = self.context.schema
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            operations = [
                d
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
            ]
            # Fragments do not depend on variables; memoise them across operations.
            shared: dict[str, Measure] = {}
            measures: list[tuple[OperationDefinitionNode, Measure]] = []
            for operation in operations:
                measurer = _Measurer(schema, fragments, _defaults(operation))
                measurer.memo = shared
                measures.append(
                    (
                        operation,
                        measurer.selection_set(
                            _root_type(schema, operation), operation.selection_set
                        ),
                    )
                )
            if error := self._first_broken(measures):
                self.report_error(error)

        def _first_broken(
            self, measures: list[tuple[OperationDefinitionNode, Measure]]
        ) -> GraphQLError | None:
            for operation, measure in measures:
                # Depth counts like strawberry's QueryDepthLimiter: root fields are 0.
                depth = measure.depth - 1
                if max_depth is not None and depth > max_depth:
                    name = operation.name.value if operation.name else "The query"
                    return GraphQLError(
                        f"{name} nests {depth} levels deep; the limit is {max_depth}.",
                        operation,
                        extensions={"code": "QUERY_TOO_DEEP", "depth": depth},
                    )
            total_aliases = sum(measure.aliases for _, measure in measures)
            if max_aliases is not None and total_aliases > max_aliases:
                return GraphQLError(
                    f"The document uses {total_aliases} aliases; the limit is "
                    f"{max_aliases}.",
                    extensions={"code": "TOO_MANY_ALIASES", "aliases": total_aliases},
                )
            for operation, measure in measures:
                if max_cost is not None and measure.cost > max_cost:
                    return GraphQLError(
                        f"The query may return up to {measure.cost} objects; the "
                        f"limit is {max_cost}. Ask for smaller pages or fewer nested "
                        "lists.",
                        operation,
                        extensions={"code": "QUERY_TOO_COMPLEX", "cost": measure.cost},
                    )
            return None

    return DocumentLimitsRule
