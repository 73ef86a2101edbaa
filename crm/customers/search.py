"""Ranked, typo-tolerant prefix search over names, email and company.

Every word of the query must match a word of the customer (AND): as a prefix
("ada" finds "Adaline"), or, for words of 4+ letters, as an indexed word one
(4-7 letters) or two (8+) edits away with the same first letter ("jonh" finds
"John", "smiht" finds "Smith"). Both databases read the same rule:

SQLite: an FTS5 index (`customer_fts`, kept by triggers) with prefix queries;
the close words come from the FTS vocabulary. Ranked by bm25, where a word
matched exactly also counts as its own phrase, so "john" ranks John before
Johnny.
PostgreSQL: a word table (`customer_search_word`: one row per distinct word of
a customer's search text, kept by triggers on `customer`) read by prefix range
from its primary key, index only; the close words come from the distinct words
(`customer_search_vocabulary`, trigram-indexed). Ranked by how well each query
word matches: an exact word, then a longer word it starts (the shorter the
better), then a close word; ties by ID. The work is proportional to the
(customer, word) pairs matched, never to the table (docs/search.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    union_all,
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
# Words are indexed up to this length (PostgreSQL): longer query words are cut.
MAX_WORD_LENGTH = 100
# Close words tried per query word.
MAX_CLOSE_WORDS = 20
# Larger than any text rank (bm25 of a 1,200-character document; a word cost < 1).
TYPO_PENALTY = 1_000_000.0
_FTS = table("customer_fts", column("rowid"))
# PostgreSQL only (migrations/versions/2026-12-07-1400_list_path_indexes.py).
_WORD = table("customer_search_word", column("word", String), column("customer_id"))


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
    first = term[0]
    bounds = {"short": len(term) - budget, "long": len(term) + budget + 6}
    if _dialect(session) == "sqlite":
        rows = await session.execute(
            text(
                "SELECT term FROM customer_fts_vocab WHERE term >= :lo AND term < :hi "
                "AND length(term) BETWEEN :short AND :long LIMIT 20000"
            ),
            {"lo": first, "hi": _successor(first), **bounds},
        )
    elif budget == 1:
        # The words one edit away, exactly, as LIKE patterns over the words that
        # share the first letter (a range of the primary key, index only).
        rows = await session.execute(
            text(
                "SELECT word FROM customer_search_vocabulary "
                "WHERE word >= :lo AND word < :hi "
                "AND length(word) BETWEEN :short AND :long "
                "AND word LIKE ANY(CAST(:patterns AS text[])) "
                "AND NOT starts_with(word, :term) "
                "ORDER BY length(word), word LIMIT 200"
            ),
            {
                "lo": first,
                "hi": _successor(first),
                "patterns": one_edit_patterns(term),
                "term": term,
                **bounds,
            },
        )
    else:
        # Two edits: the trigram index finds the word-similar words.
        rows = await session.execute(
            text(
                "SELECT word FROM customer_search_vocabulary "
                "WHERE :term <% word AND left(word, 1) = :first "
                "AND length(word) BETWEEN :short AND :long "
                "ORDER BY length(word), word LIMIT 2000"
            ),
            {"term": term, "first": first, **bounds},
        )
    return [word for (word,) in rows]


def one_edit_patterns(term: str) -> list[str]:
    """LIKE patterns of the words one edit from `term` (first letter kept), or
    starting with such a word of its length (a typo in a prefix). `term` holds
    letters and digits only, so it needs no escaping."""
    n = len(term)
    patterns = set()
    for k in range(1, n):
        patterns.add(term[:k] + "_" + term[k + 1 :] + "%")  # substituted
        patterns.add(term[:k] + term[k + 1 :])  # deleted
        patterns.add(term[:k] + "_" + term[k:])  # inserted
        if k < n - 1:  # transposed
            patterns.add(term[:k] + term[k + 1] + term[k] + term[k + 2 :] + "%")
    return sorted(patterns)


def _successor(prefix: str) -> str:
    """The least string after every string starting with `prefix` (code points)."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates are no characters
        last = 0xE000
    return prefix[:-1] + chr(min(last, 0x10FFFF))


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
            if len(close) >= MAX_CLOSE_WORDS:
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
    """Customers joined with their hits (customer_id, rank), the hits ranked in
    their subquery: a first page reads them in order and stops after its rows."""
    words = _WORD.alias("w")
    length = func.length(words.c.word)
    per_term: list[Select[Any]] = []
    for term in dict.fromkeys(t[:MAX_WORD_LENGTH] for t in terms):
        # A word costs 0 when it is the term, (extra letters / letters) when it
        # starts with it, and TYPO_PENALTY more when it is a close word.
        extra = cast(length - len(term), Float).op("/", return_type=Float)(length)
        branches = [
            select(words.c.customer_id, extra.label("cost")).where(
                words.c.word >= term, words.c.word < _successor(term)
            )
        ]
        close = await _close_words(session, term)
        if close:
            typo = TYPO_PENALTY + func.greatest(extra, 0.0, type_=Float)
            branches.append(
                select(words.c.customer_id, typo.label("cost")).where(
                    words.c.word.in_(close)
                )
            )
        matched = union_all(*branches).subquery()
        per_term.append(
            select(
                matched.c.customer_id, func.min(matched.c.cost).label("rank")
            ).group_by(matched.c.customer_id)
        )
    if len(per_term) == 1:
        hits = per_term[0]
    else:
        # Every query word matched: the customer's rank is the sum of its costs.
        every = union_all(*per_term).subquery()
        hits = (
            select(every.c.customer_id, func.sum(every.c.rank).label("rank"))
            .group_by(every.c.customer_id)
            .having(func.count() == len(per_term))
        )
    # Ordered as the page reads them: the planner then reads the sorted hits
    # and fetches customers only until the page is full (a nested loop under the
    # LIMIT), instead of joining every hit first.
    ranked = hits.selected_columns
    found = hits.order_by(ranked.rank, ranked.customer_id).subquery("search_hits")
    return SearchPlan(
        condition=col(Customer.id) == found.c.customer_id, rank=found.c.rank
    )


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
