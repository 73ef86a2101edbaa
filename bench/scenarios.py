"""The load scenarios: a GraphQL document, how to vary its variables, what is an error.

The two customer filters are written once, as GraphQL variables; `domain_where`
turns them into the dicts `crm.customers.service.list_customers` takes, so the
EXPLAIN step plans exactly what the API runs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bench.database import Fixtures
from crm.demo import ANCHOR

Variables = dict[str, Any]

CUSTOMERS_PAGE = """
query CustomersPage($after: String) {
  customers(first: 50, after: $after) {
    edges { node { id displayName email lifecycleStage
      interactions(first: 5) { edges { node {
        id occurredAt kind channel amount { amount currency } } } } } }
    pageInfo { endCursor hasNextPage }
  }
}
"""

CUSTOMER_BY_ID = """
query CustomerById($id: ID!) {
  customer(id: $id) { id displayName email lifecycleStage createdAt version }
}
"""

FILTERED_PAGE = """
query FilteredPage($where: CustomerWhere!) {
  customers(first: 50, where: $where) {
    totalCount
    edges { node { id displayName } }
  }
}
"""

SEARCH = """
query Search($q: String!) {
  customers(first: 20, search: $q) {
    edges { node { id displayName email } }
  }
}
"""

INTERACTION_LOG = """
mutation Log($input: InteractionLogInput!) {
  interactionLog(input: $input) {
    created
    interaction { id occurredAt amount { amount currency } }
    errors { field code message }
  }
}
"""

# Active customers who bought in the year before the seed's anchor date.
ACTIVE_BUYERS_WHERE: Variables = {
    "lifecycleStage": {"eq": "ACTIVE"},
    "interactions": {
        "some": {
            "kind": {"eq": "PURCHASE"},
            "occurredAt": {"gte": (ANCHOR - timedelta(days=365)).isoformat()},
        }
    },
}
# Indexed columns only: a created_at range (btree) and a tag (GIN, jsonb_path_ops).
RECENT_VIP_WHERE: Variables = {
    "createdAt": {
        "gte": (ANCHOR - timedelta(days=365)).isoformat(),
        "lt": ANCHOR.isoformat(),
    },
    "tags": {"has": "vip"},
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def domain_where(where: Any) -> Any:
    """GraphQL filter variables as the domain's dict (snake_case keys; the filter
    compiler reads enum names case-insensitively and ISO dates as given)."""
    if isinstance(where, dict):
        return {_snake(k): domain_where(v) for k, v in where.items()}
    if isinstance(where, list):
        return [domain_where(v) for v in where]
    return where


def graphql_errors(body: dict[str, Any]) -> str | None:
    """The first top-level GraphQL error, if any."""
    errors = body.get("errors")
    if errors:
        first = errors[0]
        code = (first.get("extensions") or {}).get("code", "")
        return f"{code} {first.get('message', '')} (path {first.get('path')})".strip()
    return None


def non_empty(field: str) -> Callable[[dict[str, Any]], str | None]:
    """Errors, or an empty answer: a null `field`, or a list without edges."""

    def check(body: dict[str, Any]) -> str | None:
        found = graphql_errors(body)
        if found:
            return found
        data = (body.get("data") or {}).get(field)
        if not data or ("edges" in data and not data["edges"]):
            return f"empty answer: no {field}"
        return None

    return check


def payload_errors(field: str) -> Callable[[dict[str, Any]], str | None]:
    """Also count a mutation's payload errors (`errors { field code message }`)."""

    def check(body: dict[str, Any]) -> str | None:
        found = graphql_errors(body)
        if found:
            return found
        payload = (body.get("data") or {}).get(field) or {}
        if payload.get("errors"):
            return f"payload error: {payload['errors'][0]}"
        if payload.get("created") is not True:
            return "interactionLog did not create an interaction"
        return None

    return check


def _shape_customers(body: dict[str, Any]) -> str:
    data = (body.get("data") or {}).get("customers") or {}
    parts = [f"{len(data.get('edges') or [])} edges"]
    if "totalCount" in data:
        parts.append(f"totalCount {data['totalCount']:,}")
    return ", ".join(parts)


@dataclass(frozen=True)
class Scenario:
    name: str
    measures: str
    document: str
    variables: Callable[[random.Random], Variables]
    check: Callable[[dict[str, Any]], str | None] = graphql_errors
    shape: Callable[[dict[str, Any]], str] | None = _shape_customers
    writes: bool = False


def build_scenarios(fx: Fixtures) -> list[Scenario]:
    customer_gids = fx.global_ids(fx.customer_ids)
    open_gids = fx.global_ids(fx.open_customer_ids)
    channels = ("WEB", "STORE", "PHONE")
    currencies = ("EUR", "GBP", "USD")

    def log_input(rng: random.Random) -> Variables:
        return {
            "input": {
                "customerId": rng.choice(open_gids),
                "channel": rng.choice(channels),
                "direction": "INBOUND",
                "kind": "PURCHASE",
                "amount": f"{rng.randint(500, 50_000) / 100:.2f}",
                "currency": rng.choice(currencies),
                "subject": "Benchmark order",
            }
        }

    return [
        Scenario(
            "customers_page",
            "keyset page of 50 customers, each with its 5 latest interactions "
            "(~2,100 fields; 2 SQL statements)",
            CUSTOMERS_PAGE,
            lambda rng: {"after": rng.choice(fx.cursors)},
            check=non_empty("customers"),
        ),
        Scenario(
            "customer_by_id",
            "one customer by global ID, 6 scalar fields: the per-request floor",
            CUSTOMER_BY_ID,
            lambda rng: {"id": rng.choice(customer_gids)},
            check=non_empty("customer"),
            shape=None,
        ),
        Scenario(
            "filtered_page_with_total",
            "ACTIVE customers with a PURCHASE in the last year (EXISTS on "
            "interactions), first 50 + totalCount",
            FILTERED_PAGE,
            lambda rng: {"where": ACTIVE_BUYERS_WHERE},
            check=non_empty("customers"),
        ),
        Scenario(
            "filtered_created_tags",
            "customers created in the last year tagged vip (btree range + GIN "
            "tags), first 50 + totalCount",
            FILTERED_PAGE,
            lambda rng: {"where": RECENT_VIP_WHERE},
            check=non_empty("customers"),
        ),
        Scenario(
            "search",
            "ranked search for a surname prefix (tsvector prefix OR pg_trgm), first 20",
            SEARCH,
            lambda rng: {"q": rng.choice(fx.surname_prefixes)},
            check=non_empty("customers"),
        ),
        Scenario(
            "interaction_log",
            "interactionLog mutation: a purchase for a random customer "
            "(insert + audit + outbox, commit)",
            INTERACTION_LOG,
            log_input,
            check=payload_errors("interactionLog"),
            shape=None,
            writes=True,
        ),
    ]
