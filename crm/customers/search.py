"""Ranked, typo-tolerant prefix search over names, email and company.

Every word of the query must match a word of the customer (AND): as a prefix
("ada" finds "Adaline"), or, for words of 4+ letters, as an indexed word one
(4-7 letters) or two (8+) edits away with the same first letter ("jonh" finds
"John", "smiht" finds "Smith"). Both databases read the same rule:

SQLite: an FTS5 index (`customer_fts`, kept by triggers) with prefix queries;
the close words come from the FTS vocabulary. Ranked by bm25, where a word
matched exactly also counts as its own phrase, so "john" ranks John before
Johnny.
PostgreSQL: a word-start regular expression per query word (served by the
trigram GIN index; it sees the parts of an email, which the `simple` tsvector
keeps whole), words of 1-2 letters by tsvector prefix; the close words come
from the words of rows the trigram index finds word-similar. Ranked by ts_rank
plus trigram word similarity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.customers.models import Customer
from crm.errors import BadInput
from crm.validation import fold

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
# Letters and digits: "_" separates words, as in both full-text indexes.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Rows whose words are read for typo candidates (PostgreSQL): a bound on the work.
MAX_CANDIDATE_ROWS = 2000
# Larger than any text rank (bm25 of a 1,200-character document, ts_rank + 1).
TYPO_PENALTY = 1_000_000.0
_FTS = table("customer_fts", column("rowid"))


def _fts_match(query: ColumnElement[str]) -> ColumnElement[bool]:
    return literal_column("customer_fts").op("MATCH")(query)


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


async def _vocabulary(session: AsyncSession, term: str, budget: int) -> list[str]:
    """Indexed words that might be `term` mistyped: same first letter, near length."""
    bounds = {
        "first": term[0],
        "short": len(term) - budget,
        "long": len(term) + budget + 6,
    }
    if _dialect(session) == "sqlite":
        rows = await session.execute(
            text(
                "SELECT term FROM customer_fts_vocab WHERE term >= :lo AND term < :hi "
                "AND length(term) BETWEEN :short AND :long LIMIT 20000"
            ),
            {
                "lo": term[0],
                "hi": chr(ord(term[0]) + 1),
                "short": bounds["short"],
                "long": bounds["long"],
            },
        )
    else:
        # The trigram index finds the rows holding a word-similar word; their
        # words are the candidates.
        rows = await session.execute(
            text(
                "SELECT DISTINCT word FROM "
                "(SELECT search_text FROM customer WHERE :term <% search_text "
                "LIMIT :rows) AS hit, "
                "regexp_split_to_table(hit.search_text, '[^[:alnum:]]+') AS word "
                "WHERE left(word, 1) = :first "
                "AND length(word) BETWEEN :short AND :long LIMIT 20000"
            ),
            {"term": term, "rows": MAX_CANDIDATE_ROWS, **bounds},
        )
    return [word for (word,) in rows]


async def _close_words(session: AsyncSession, term: str) -> list[str]:
    """Indexed words close to `term` (same first letter), for typo tolerance."""
    budget = _typo_budget(term)
    if budget == 0:
        return []
    close: list[str] = []
    for candidate in await _vocabulary(session, term, budget):
        if candidate.startswith(term):
            continue  # the prefix match finds it already
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
    if _dialect(session) == "sqlite":
        return await _sqlite_plan(session, terms)
    return await _postgres_plan(session, terms)


def _dialect(session: AsyncSession) -> str:
    assert session.bind is not None
    return session.bind.dialect.name


async def _sqlite_plan(session: AsyncSession, terms: list[str]) -> SearchPlan:
    groups = []
    direct: list[ColumnElement[bool]] = []
    for term in terms:
        close = await _close_words(session, term)
        # The exact word is its own phrase too: bm25 then ranks it first.
        alternatives = [_quote(term), f"{_quote(term)}*", *map(_quote, close)]
        groups.append("(" + " OR ".join(alternatives) + ")")
        if close:
            prefix = bindparam(None, f"{_quote(term)}*", String)
            hits = select(_FTS.c.rowid).where(_fts_match(prefix)).correlate(None)
            direct.append(col(Customer.id).in_(hits))
    condition = _fts_match(bindparam("fts_query", " AND ".join(groups)))
    rank = func.bm25(literal_column("customer_fts"), type_=Float)
    return SearchPlan(
        condition=condition, rank=_typos_last(direct, rank), join_fts=True
    )


async def _postgres_plan(session: AsyncSession, terms: list[str]) -> SearchPlan:
    search_text = col(Customer.search_text)
    document = func.to_tsvector(literal_column("'simple'"), search_text)
    conditions: list[ColumnElement[bool]] = []
    direct: list[ColumnElement[bool]] = []
    for term in terms:
        if len(term) < 3:
            # Too short for trigrams: the tsvector index serves the prefix.
            starts = func.to_tsquery(
                literal_column("'simple'"), bindparam(None, f"{term}:*", String)
            )
            conditions.append(document.op("@@")(starts))
            continue
        close = await _close_words(session, term)
        # \m: the start of a word; \M: its end. Terms hold letters and digits only.
        pattern = r"\m(?:" + "|".join([term, *(rf"{w}\M" for w in close)]) + ")"
        conditions.append(search_text.op("~")(bindparam(None, pattern, String)))
        if close:
            begins = bindparam(None, rf"\m{term}", String)
            direct.append(search_text.op("~")(begins))
    ts_query = func.to_tsquery(
        literal_column("'simple'"),
        bindparam("ts_query", " & ".join(f"{t}:*" for t in terms)),
    )
    similarity = func.word_similarity(
        bindparam("trgm_query", " ".join(terms)), search_text, type_=Float
    )
    rank = -(func.ts_rank(document, ts_query, type_=Float) + similarity)
    return SearchPlan(condition=and_(*conditions), rank=_typos_last(direct, rank))


def _typos_last(
    direct: list[ColumnElement[bool]], rank: ColumnElement[float]
) -> ColumnElement[float]:
    """`rank`, after a penalty per query word matched only through a typo: a word
    the customer's words start with beats a close word ("adal": Adaline, then Ada).
    """
    misses = [case((matched, 0.0), else_=TYPO_PENALTY) for matched in direct]
    return rank + sum(misses, start=literal(0.0, Float)) if misses else rank


def search_join(stmt: Any) -> Any:
    """Join the FTS5 table (SQLite) so MATCH and bm25 can see it."""
    return stmt.join(_FTS, _FTS.c.rowid == Customer.id)
