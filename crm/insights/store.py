"""Stage 4 of a refresh: the results written in bulk, and a snapshot appended.

PostgreSQL: COPY into a temporary table (money and times as plain numbers, which
COPY takes without building a Python object per value), then one
INSERT .. SELECT .. ON CONFLICT DO UPDATE. SQLite: one executemany upsert. Both
then append the snapshot with one INSERT .. SELECT.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.db import upsert_insert
from crm.insights.models import CustomerInsight, InsightSnapshot

ColumnKind = Literal["money", "float", "int", "bool", "text", "time"]

# Every column of customer_insight but computed_at and model_version (parameters).
RESULT_COLUMNS: tuple[tuple[str, ColumnKind], ...] = (
    ("customer_id", "int"),
    ("currency", "text"),
    ("profiling_withdrawn", "bool"),
    ("purchases", "int"),
    ("first_purchase_at", "time"),
    ("last_purchase_at", "time"),
    ("last_interaction_at", "time"),
    ("recency_days", "int"),
    ("frequency", "int"),
    ("monetary", "money"),
    ("rfm_r", "int"),
    ("rfm_f", "int"),
    ("rfm_m", "int"),
    ("rfm_cell", "text"),
    ("revenue_lifetime", "money"),
    ("revenue_12m", "money"),
    ("cost_to_serve_lifetime", "money"),
    ("cost_to_serve_12m", "money"),
    ("margin_lifetime", "money"),
    ("margin_12m", "money"),
    ("repeat_purchases", "int"),
    ("weeks_first_to_last", "float"),
    ("weeks_since_first", "float"),
    ("expected_purchases", "float"),
    ("p_alive", "float"),
    ("churn_band", "text"),
    ("average_spend", "money"),
    ("expected_spend", "money"),
    ("predicted_clv", "money"),
    ("clv_percentile", "float"),
    ("nps_responses", "int"),
    ("promoters", "int"),
    ("detractors", "int"),
    ("csat_responses", "int"),
    ("satisfied", "int"),
    ("nps", "float"),
    ("csat", "float"),
    ("profitability_score", "int"),
    ("loyalty_score", "int"),
    ("strategic_score", "int"),
    ("strategic_overridden", "bool"),
    ("value_group", "text"),
    ("low_value", "bool"),
    ("customer_initiated", "int"),
    ("willingness", "float"),
    ("value_creation_mode", "text"),
    ("tier", "text"),
    ("tier_measure", "money"),
    ("next_tier", "text"),
    ("tier_progress", "float"),
)
NAMES = tuple(name for name, _ in RESULT_COLUMNS)
SNAPSHOT_COLUMNS = (
    "customer_id",
    "revenue_12m",
    "cost_to_serve_12m",
    "margin_12m",
    "purchases",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "rfm_cell",
    "p_alive",
    "churn_band",
    "predicted_clv",
    "nps",
    "profitability_score",
    "loyalty_score",
    "strategic_score",
    "value_group",
    "low_value",
    "value_creation_mode",
    "tier",
)
_PG_TYPES: dict[ColumnKind, str] = {
    "money": "double precision",
    "float": "double precision",
    "int": "bigint",
    "bool": "boolean",
    "text": "text",
    "time": "double precision",
}
_CENT = Decimal("0.01")

Results = dict[str, Any]  # column name -> numpy array or list, one entry per customer


def _plain(kind: ColumnKind, values: Any) -> list[Any]:
    """Python values for COPY: None for NaN, numbers as numbers."""
    array = np.asarray(values)
    if kind in ("money", "float", "time"):
        floats = array.astype(np.float64)
        return [None if v != v else v for v in floats.tolist()]
    if kind == "int":
        if array.dtype.kind == "f":
            return [None if v != v else int(v) for v in array.tolist()]
        return [None if v is None else int(v) for v in array.tolist()]
    if kind == "bool":
        return [None if v is None else bool(v) for v in array.tolist()]
    return [None if v is None else str(v) for v in array.tolist()]


def _orm_value(kind: ColumnKind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "money":
        return Decimal(repr(value)).quantize(_CENT)
    if kind == "time":
        return datetime.fromtimestamp(value, UTC)
    return value


def row_dicts(
    results: Results, computed_at: datetime, fit_id: int | None
) -> list[dict[str, Any]]:
    """The results as one dict per customer (for executemany and single updates)."""
    columns = [_plain(kind, results[name]) for name, kind in RESULT_COLUMNS]
    kinds = [kind for _, kind in RESULT_COLUMNS]
    rows = []
    for values in zip(*columns, strict=True):
        row = {
            name: _orm_value(kind, value)
            for name, kind, value in zip(NAMES, kinds, values, strict=True)
        }
        row["computed_at"] = computed_at
        row["model_version"] = fit_id
        rows.append(row)
    return rows


@lru_cache(maxsize=8)
def _upsert_statement(dialect: str, names: tuple[str, ...]) -> Any:
    """INSERT .. ON CONFLICT (customer_id) DO UPDATE of `names`, built once."""
    table = CustomerInsight.__table__  # type: ignore[attr-defined]
    stmt = upsert_insert(dialect)(table)
    updated = {name: stmt.excluded[name] for name in names if name != "customer_id"}
    return stmt.on_conflict_do_update(index_elements=["customer_id"], set_=updated)


async def upsert_rows(
    session: AsyncSession, rows: list[dict[str, Any]], dialect: str
) -> None:
    """Insert or replace customer_insight rows (executemany)."""
    if not rows:
        return
    await session.execute(_upsert_statement(dialect, tuple(rows[0])), rows)


async def write_results(
    session: AsyncSession,
    results: Results,
    *,
    dialect: str,
    computed_at: datetime,
    fit_id: int | None,
) -> None:
    """Replace every customer's current row; drop rows of customers not in `results`
    (archived since); append one snapshot row per customer."""
    if dialect == "postgresql":
        await _copy_upsert(session, results, computed_at, fit_id)
    else:
        await upsert_rows(session, row_dicts(results, computed_at, fit_id), dialect)
    await session.execute(
        delete(CustomerInsight).where(col(CustomerInsight.computed_at) != computed_at)
    )
    await append_snapshots(session, computed_at)


async def append_snapshots(session: AsyncSession, taken_at: datetime) -> None:
    """One snapshot row per customer computed at `taken_at`."""
    source = select(
        *(getattr(CustomerInsight, name) for name in SNAPSHOT_COLUMNS),
        col(CustomerInsight.model_version).label("fit_id"),
        col(CustomerInsight.computed_at).label("taken_at"),
    )
    await session.execute(
        insert(InsightSnapshot).from_select(
            [*SNAPSHOT_COLUMNS, "fit_id", "taken_at"],
            source.where(col(CustomerInsight.computed_at) == taken_at),
        )
    )


async def _copy_upsert(
    session: AsyncSession, results: Results, computed_at: datetime, fit_id: int | None
) -> None:
    connection = await session.connection()
    await connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE insight_load ("
        + ", ".join(f"{name} {_PG_TYPES[kind]}" for name, kind in RESULT_COLUMNS)
        + ") ON COMMIT DROP"
    )
    columns = [_plain(kind, results[name]) for name, kind in RESULT_COLUMNS]
    records = list(zip(*columns, strict=True))
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    await raw.copy_records_to_table(
        "insight_load", records=records, columns=list(NAMES)
    )

    def value(name: str, kind: ColumnKind) -> str:
        if kind == "money":
            return f"round(CAST({name} AS numeric), 2)"
        if kind == "time":
            return f"to_timestamp({name})"
        if kind == "int" and name != "customer_id":
            return f"CAST({name} AS integer)"
        return name

    targets = [*NAMES, "computed_at", "model_version"]
    selected = [value(name, kind) for name, kind in RESULT_COLUMNS]
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in targets if n != "customer_id")
    await session.execute(
        text(
            f"INSERT INTO customer_insight ({', '.join(targets)}) "
            f"SELECT {', '.join(selected)}, :computed_at, :fit_id FROM insight_load "
            f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        ),
        {"computed_at": computed_at, "fit_id": fit_id},
    )
    await connection.exec_driver_sql("DROP TABLE insight_load")
