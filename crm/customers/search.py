"""Ranked, typo-tolerant prefix search over names, email and company.

SQLite: an FTS5 index (`customer_fts`, kept by triggers) with prefix queries;
terms with no prefix match are widened to indexed terms one or two edits away
(read from the FTS vocabulary), so "jonh" still finds "john".
PostgreSQL: a `simple` tsvector with prefix queries OR trigram word similarity
(pg_trgm), both served by GIN indexes; ranked by ts_rank plus similarity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customers.models import Customer
from crm.errors import BadInput
from crm.validation import fold

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(query: str) -> list[str]:
    if len(query) > MAX_QUERY_LENGTH:
        raise BadInput(
            f"search is longer than {MAX_QUERY_LENGTH} characters.", field="search"
        )
    found = _TOKEN.findall(fold(query))
    return found[:MAX_TERMS]


@dataclass
class SearchPlan:
    """What a search adds to a customer query: a condition and a rank (lower first)."""

    condition: ColumnElement[bool]
    rank: ColumnElement[float]
    join_fts: bool = False


def edit_distance_at_most(a: str, b: str, limit: int) -> bool:
    """Damerau-Levenshtein distance of a and b is <= limit (banded, early exit)."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (
                previous2 is not None
                and i > 1
                and j > 1
                and a[i - 1] == b[j - 2]
                and a[i - 2] == b[j - 1]
            ):
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return False
        previous2, previous = previous, current
    return previous[len(b)] <= limit


def _typo_budget(term: str) -> int:
    return 0 if len(term) < 4 else (1 if len(term) < 8 else 2)


async def _sqlite_expansions(session: AsyncSession, term: str) -> list[str]:
    """Indexed terms close to `term` (same first letter), for typo tolerance."""
    budget = _typo_budget(term)
    if budget == 0:
        return []
    rows = await session.execute(
        text(
            "SELECT term FROM customer_fts_vocab WHERE term >= :lo AND term < :hi "
            "AND length(term) BETWEEN :short AND :long LIMIT 20000"
        ),
        {
            "lo": term[0],
            "hi": chr(ord(term[0]) + 1),
            "short": len(term) - budget,
            "long": len(term) + budget + 6,
        },
    )
    close: list[str] = []
    for (candidate,) in rows:
        # Compare with the candidate cut to the query's length too: a typo in a prefix.
        if edit_distance_at_most(term, candidate, budget) or edit_distance_at_most(
            term, candidate[: len(term)], budget
        ):
            close.append(candidate)
            if len(close) >= 20:
                break
    return close


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


async def plan_search(session: AsyncSession, query: str) -> SearchPlan | None:
    """The condition and rank for `query`; None when it has no searchable words."""
    terms = tokens(query)
    if not terms:
        return None
    if session.bind.dialect.name == "sqlite":
        groups = []
        for term in terms:
            alternatives = [f"{_quote(term)}*"]
            alternatives += [_quote(t) for t in await _sqlite_expansions(session, term)]
            groups.append("(" + " OR ".join(alternatives) + ")")
        match = " AND ".join(groups)
        condition = literal_column("customer_fts").op("MATCH")(
            bindparam("fts_query", match)
        )
        rank = func.bm25(literal_column("customer_fts"), type_=Float)
        return SearchPlan(condition=condition, rank=rank, join_fts=True)
    document = func.to_tsvector(literal_column("'simple'"), Customer.search_text)
    ts_query = func.to_tsquery(
        literal_column("'simple'"),
        bindparam("ts_query", " & ".join(f"{t}:*" for t in terms)),
    )
    plain = " ".join(terms)
    similar = bindparam("trgm_query", plain).op("<%")(Customer.search_text)
    condition = or_(document.op("@@")(ts_query), similar)
    rank = -(
        func.ts_rank(document, ts_query, type_=Float)
        + func.word_similarity(bindparam("trgm_query2", plain), Customer.search_text)
    )
    return SearchPlan(condition=condition, rank=rank)


_FTS = table("customer_fts", column("rowid"))


def search_join(stmt: Any) -> Any:
    """Join the FTS5 table (SQLite) so MATCH and bm25 can see it."""
    return stmt.join(_FTS, _FTS.c.rowid == Customer.id)
