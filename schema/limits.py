"""Query cost: an upper bound on the objects a document can ask for, checked
during validation (before any SQL), linear in the document size."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
)
from strawberry.extensions import AddValidationRules

from crm.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")


def _multiplier(field: FieldNode, defaults: dict[str, int]) -> int:
    for argument in field.arguments or ():
        if argument.name.value not in PAGE_ARGUMENTS:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(1, min(int(value.value), MAX_PAGE_SIZE))
        if isinstance(value, VariableNode):
            return defaults.get(value.name.value, MAX_PAGE_SIZE)
    return 1


def _is_list(field: FieldNode) -> bool:
    return any(a.name.value in PAGE_ARGUMENTS for a in field.arguments or ()) or (
        field.name.value in ("customers", "interactions", "auditTrail", "nodes")
    )


class _Cost:
    def __init__(
        self, fragments: dict[str, FragmentDefinitionNode], defaults: dict[str, int]
    ):
        self.fragments = fragments
        self.defaults = defaults
        self.memo: dict[str, int] = {}
        self.visiting: set[str] = set()

    def selection_set(self, selections: SelectionSetNode | None) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                child = self.selection_set(selection.selection_set)
                if _is_list(selection):
                    size = _multiplier(selection, self.defaults)
                    if not any(
                        a.name.value in PAGE_ARGUMENTS
                        for a in selection.arguments or ()
                    ):
                        size = DEFAULT_PAGE_SIZE
                    total += 1 + size * child
                else:
                    total += 1 + child
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name in self.memo:
            return self.memo[name]
        if name in self.visiting or name not in self.fragments:
            return 0  # cycles and unknown fragments are other rules' errors
        self.visiting.add(name)
        cost = self.selection_set(self.fragments[name].selection_set)
        self.visiting.discard(name)
        self.memo[name] = cost
        return cost


def cost_rule(max_cost: int) -> type[ValidationRule]:
    class CostRule(ValidationRule):
        def enter_operation_definition(
            self, node: OperationDefinitionNode, *_args: Any
        ) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            defaults = {}
            for definition in node.variable_definitions or ():
                if isinstance(definition.default_value, IntValueNode):
                    defaults[definition.variable.name.value] = int(
                        definition.default_value.value
                    )
            cost = _Cost(fragments, defaults).selection_set(node.selection_set)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"The query may return up to {cost} objects; the limit is "
                        f"{max_cost}. Ask for smaller pages or fewer nested lists.",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost},
                    )
                )

    return CostRule


def CostLimit(*, max_cost: int) -> AddValidationRules:  # noqa: N802
    return AddValidationRules([cost_rule(max_cost)])
