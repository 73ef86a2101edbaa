"""SQL round trips per request: each scenario once through the app, in process.

Counts do not depend on how busy the machine is, so they compare across runs and
machines where latencies cannot: a list whose count grows with its page size is
an N+1, and every BEGIN and ROLLBACK is a round trip to the database.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx
import orjson
from sqlalchemy import event

from bench.scenarios import Scenario
from crm.db import Database

REPEATS = 3
KINDS = {
    "SELECT": "selects",
    "WITH": "selects",
    "INSERT": "writes",
    "UPDATE": "writes",
    "DELETE": "writes",
    "SAVEPOINT": "savepoints",
    "RELEASE": "savepoints",
    "ROLLBACK": "savepoints",  # ROLLBACK TO SAVEPOINT; a transaction's is an event
}
COLUMNS = ("selects", "writes", "savepoints", "other", "begins", "commits", "rollbacks")


async def statements_per_request(
    url: str, secret: str, token: str, scenarios: list[Scenario], seed: int
) -> dict[str, dict[str, float]]:
    """Per scenario: statements by kind, BEGINs, COMMITs and ROLLBACKs per request."""
    from api.app import create_app
    from api.settings import Settings

    database = Database(url)
    counts: Counter[str] = Counter()
    engine = database.read_engine.sync_engine

    def on_execute(*args: Any) -> None:
        verb = args[2].lstrip().split(None, 1)[0].upper()
        counts[KINDS.get(verb, "other")] += 1

    def on(name: str) -> Any:
        def hook(*_args: Any) -> None:
            counts[name] += 1

        return hook

    hooks = {
        "before_cursor_execute": on_execute,
        "begin": on("begins"),
        "commit": on("commits"),
        "rollback": on("rollbacks"),
    }
    for name, hook in hooks.items():
        event.listen(engine, name, hook)
    settings = Settings(database_url=url, secret_key=secret, environment="production")
    app = create_app(settings, database=database)
    result: dict[str, dict[str, float]] = {}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
        ) as client:
            for scenario in scenarios:
                rng = random.Random(seed)
                counts.clear()
                for _ in range(REPEATS):
                    body = {
                        "query": scenario.document,
                        "variables": scenario.variables(rng),
                    }
                    await client.post("/graphql", content=orjson.dumps(body))
                result[scenario.name] = {
                    key: round(counts[key] / REPEATS, 2) for key in COLUMNS
                }
    finally:
        for name, hook in hooks.items():
            event.remove(engine, name, hook)
        await database.dispose()
    return result
