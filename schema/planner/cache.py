"""Planned statements by shape: the same query, caller kind and variables (but
the root's ID or cursor) runs the statement built the first time.

A shape is keyed by the root field's node in the parsed document (documents are
parsed once and cached by text, so a repeated query brings the same nodes), the
dialect, what decides the caller's rules (kind, permissions, and for a partner
or a customer who they are), and the values of every variable except those that
feed only the root's bound arguments (which the statement takes as parameters).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
from graphql import FieldNode, OperationDefinitionNode, VariableNode, visit
from graphql.language import Visitor
from sqlalchemy import Select

from crm.actors import CustomerActor, PartnerActor
from crm.pagination import SortKey
from schema.context import Info

MAX_PLANS = 1024


@dataclass(frozen=True)
class Shape:
    root: str
    node_id: int
    key: tuple[Any, ...]
    node: FieldNode

    @classmethod
    def of(cls, info: Info, root: str, *, bound: Sequence[str]) -> Shape:
        raw = info._raw_info
        node = raw.field_nodes[0]
        actor = info.context.actor
        who = actor.ref if isinstance(actor, CustomerActor | PartnerActor) else None
        per_request = _bound_variables(raw.operation, raw.field_nodes, bound)
        # strawberry hands resolvers the coerced variables as a dict.
        variables = cast(dict[str, Any], raw.variable_values)
        fixed = {k: v for k, v in variables.items() if k not in per_request}
        present = tuple(sorted(k for k in per_request if variables.get(k) is not None))
        key = (
            info.context.database.dialect,
            actor.kind,
            actor.permissions,
            who,
            len(raw.field_nodes),
            present,
            orjson.dumps(fixed, option=orjson.OPT_SORT_KEYS, default=str),
        )
        return cls(root, id(node), key, node)


@dataclass(frozen=True)
class Cached:
    statement: Select[Any] | None  # None: the planner leaves this shape alone
    keys: Sequence[SortKey]
    deferred: bool = False  # some fields are left to the resolvers
    # nodes(ids:): a statement per object type, each of (id, document) rows.
    parts: tuple[tuple[str, Select[Any]], ...] = ()
    # Response keys whose null means "let the resolvers answer" (me.profile).
    required: tuple[str, ...] = ()
    # Where cursors come as key values, encoded in Python (crm.sqljson).
    raw_cursors: tuple[tuple[str | None, ...], ...] = ()


class PlanCache:
    def __init__(self, size: int = MAX_PLANS) -> None:
        self.size = size
        self._plans: OrderedDict[tuple[Any, ...], tuple[FieldNode, Cached]] = (
            OrderedDict()
        )

    def get(self, shape: Shape) -> Cached | None:
        entry = self._plans.get((shape.root, shape.node_id, shape.key))
        # The node itself must match: an ID can be reused once a document is gone.
        if entry is None or entry[0] is not shape.node:
            return None
        self._plans.move_to_end((shape.root, shape.node_id, shape.key))
        return entry[1]

    def put(self, shape: Shape, cached: Cached) -> Cached:
        self._plans[(shape.root, shape.node_id, shape.key)] = (shape.node, cached)
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return cached


PLANS = PlanCache()

_USES: dict[int, tuple[OperationDefinitionNode, dict[str, int]]] = {}


def _variable_uses(operation: OperationDefinitionNode) -> dict[str, int]:
    """How often each variable is used in the operation (memoised per node)."""
    found = _USES.get(id(operation))
    if found is not None and found[0] is operation:
        return found[1]
    counts: dict[str, int] = {}

    class Count(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            counts[node.name.value] = counts.get(node.name.value, 0) + 1

    visit(operation.selection_set, Count())
    if len(_USES) > MAX_PLANS:
        _USES.clear()
    _USES[id(operation)] = (operation, counts)
    return counts


def _bound_variables(
    operation: OperationDefinitionNode,
    nodes: Sequence[FieldNode],
    bound: Sequence[str],
) -> frozenset[str]:
    """Variables used once in the operation, as one of the root's bound
    arguments: their values are parameters, not part of the shape."""
    if len(nodes) != 1:
        return frozenset()
    uses = _variable_uses(operation)
    names = {
        argument.value.name.value
        for argument in nodes[0].arguments or ()
        if argument.name.value in bound and isinstance(argument.value, VariableNode)
    }
    return frozenset(name for name in names if uses.get(name) == 1)
