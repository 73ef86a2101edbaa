"""The GraphQL schema."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.auth.mutations import AuthMutations
from schema.consent.mutations import ConsentMutations
from schema.consent.queries import ConsentQueries
from schema.customer_auth.mutations import CustomerAuthMutations
from schema.customers.mutations import CustomerMutations
from schema.customers.queries import CustomerQueries
from schema.exports.mutations import ExportMutations
from schema.exports.queries import ExportQueries
from schema.extensions import Documents, MutualOperation
from schema.insights.mutations import InsightMutations
from schema.insights.queries import InsightQueries
from schema.interactions.mutations import InteractionMutations
from schema.interactions.queries import InteractionQueries
from schema.limits import limits_rule
from schema.me.queries import MeQueries
from schema.node import NodeQueries
from schema.partners.mutations import PartnerMutations
from schema.partners.queries import PartnerQueries
from schema.planner.executor import PlannedExecutionContext
from schema.segments.mutations import SegmentMutations
from schema.segments.queries import SegmentQueries
from schema.selfservice.mutations import SelfServiceMutations
from schema.selfservice.queries import SelfServiceQueries
from schema.viewer import ViewerQueries

# A document of more tokens is refused before it is parsed whole (TOO_MANY_TOKENS).
MAX_TOKENS = 5000


@strawberry.type(description="Read the firm's customer data.")
class Query(
    CustomerQueries,
    InteractionQueries,
    NodeQueries,
    ViewerQueries,
    MeQueries,
    PartnerQueries,
    SegmentQueries,
    InsightQueries,
    ConsentQueries,
    SelfServiceQueries,
    ExportQueries,
):
    pass


@strawberry.type(description="Change the firm's customer data.")
class Mutation(
    AuthMutations,
    CustomerAuthMutations,
    CustomerMutations,
    InteractionMutations,
    PartnerMutations,
    SegmentMutations,
    InsightMutations,
    ConsentMutations,
    SelfServiceMutations,
    ExportMutations,
):
    pass


class MutualSchema(strawberry.Schema):
    """Errors are logged once, by ErrorCodes, and only the unexpected ones:
    refusals and bad input are answers, not incidents."""

    documents: Documents

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        return None


def build_schema(
    *, max_depth: int = 12, max_aliases: int = 30, max_cost: int = 50_000
) -> strawberry.Schema:
    documents = Documents(
        rules=(
            limits_rule(
                max_depth=max_depth, max_aliases=max_aliases, max_cost=max_cost
            ),
        ),
        max_tokens=MAX_TOKENS,
        maxsize=256,
    )
    built = MutualSchema(
        query=Query,
        mutation=Mutation,
        extensions=[lambda: MutualOperation(documents)],
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=PlannedExecutionContext,
    )
    built.documents = documents
    return built


schema = build_schema()
