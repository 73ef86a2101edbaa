"""The GraphQL schema."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from schema.auth.mutations import AuthMutations
from schema.customers.mutations import CustomerMutations
from schema.customers.queries import CustomerQueries
from schema.errors import ErrorCodes
from schema.extensions import OperationTransaction
from schema.interactions.mutations import InteractionMutations
from schema.interactions.queries import InteractionQueries
from schema.limits import CostLimit
from schema.node import NodeQueries
from schema.viewer import ViewerQueries


@strawberry.type(description="Read the firm's customer data.")
class Query(CustomerQueries, InteractionQueries, NodeQueries, ViewerQueries):
    pass


@strawberry.type(description="Change the firm's customer data.")
class Mutation(AuthMutations, CustomerMutations, InteractionMutations):
    pass


def build_schema(
    *, max_depth: int = 12, max_aliases: int = 30, max_cost: int = 50_000
) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            ErrorCodes,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: QueryDepthLimiter(max_depth=max_depth),
            lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
            lambda: MaxTokensLimiter(max_token_count=5000),
            lambda: CostLimit(max_cost=max_cost),
            OperationTransaction,
        ],
        config=StrawberryConfig(auto_camel_case=True),
    )


schema = build_schema()
