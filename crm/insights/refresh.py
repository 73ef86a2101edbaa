"""The insight refresh: four set-based stages over the whole base, and the
incremental update of one customer with the last fitted parameters.

1. aggregates: one SQL pass (crm.insights.aggregates);
2. fits: BG/NBD and Gamma-Gamma by maximum likelihood over numpy arrays;
3. scores: every measure, vectorised (crm.insights.scoring);
4. write: bulk upsert of the current rows, one snapshot row per customer, and the
   fit row (parameters, cut points, stage times) that updates reuse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.actors import Actor
from crm.columns import utcnow
from crm.db import Database
from crm.insights import aggregates, scoring, store
from crm.insights.config import load_settings, settings_snapshot
from crm.insights.models import CustomerInsight, InsightModelFit, InsightSettings
from crm.permissions import Permission
from crm.policy import require

log = logging.getLogger(__name__)

STAGES = ("aggregates", "fits", "scores", "write")
Progress = Callable[[str, float], None]  # (stage finished, its seconds)


@dataclass
class RefreshReport:
    """What one full refresh did and how long each stage took (seconds)."""

    fit_id: int | None
    customers: int
    computed_at: datetime
    stage_seconds: dict[str, float] = field(default_factory=dict)
    bgnbd: dict[str, float] | None = None
    gamma_gamma: dict[str, float] | None = None

    @property
    def seconds(self) -> float:
        return sum(self.stage_seconds.values())


def _rates(settings: InsightSettings) -> dict[str, Decimal]:
    """Every currency whose amounts count, with its factor into the reporting
    currency (itself at 1); amounts in other currencies are left out of sums."""
    rates = {
        code: Decimal(rate)
        for code, rate in (settings.exchange_rates or {}).items()
        if code != settings.reporting_currency
    }
    rates[settings.reporting_currency] = Decimal(1)
    return rates


def _window(settings: InsightSettings, as_of: datetime) -> aggregates.Window:
    return aggregates.Window(as_of=as_of, rfm_days=settings.rfm_window_days)


async def refresh_insights(
    database: Database,
    *,
    progress: Progress | None = None,
    as_of: datetime | None = None,
) -> RefreshReport:
    """Recompute every active customer's insights in one transaction.

    `as_of` (default: now) is the instant measured against; later interactions are
    left out. `progress` hears of each stage as it ends.
    """
    async with database.transaction() as session:
        return await refresh_in_session(
            session, database.dialect, progress=progress, as_of=as_of
        )


async def refresh_if_due(
    database: Database, *, max_age: timedelta
) -> RefreshReport | None:
    """A full refresh when the last one is older than `max_age` (or there is none);
    None when it is not due. The check runs in the refresh's own write transaction,
    so two workers never both refresh (on SQLite the writer lock orders them)."""
    async with database.transaction() as session:
        last = await _last_fit(session)
        if last is not None and utcnow() - last.fitted_at < max_age:
            return None
        return await refresh_in_session(session, database.dialect)


async def refresh_in_session(
    session: AsyncSession,
    dialect: str,
    *,
    progress: Progress | None = None,
    as_of: datetime | None = None,
) -> RefreshReport:
    computed_at = as_of or utcnow()
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal started
        now = time.perf_counter()
        seconds[stage] = round(now - started, 3)
        started = now
        if progress is not None:
            progress(stage, seconds[stage])

    settings = await load_settings(session)
    agg = await aggregates.fetch_aggregates(
        session, _window(settings, computed_at), _rates(settings)
    )
    lap("aggregates")
    inputs = scoring.inputs_of(agg, computed_at.timestamp())
    fit = scoring.fit_models(inputs)
    lap("fits")
    results = scoring.score(agg, inputs, fit, settings, fresh=True)
    lap("scores")
    bg, gg = fit.parameters()
    row = InsightModelFit(
        fitted_at=computed_at,
        customers=int(agg["customer_id"].size),
        bgnbd=bg,
        bgnbd_log_likelihood=fit.bgnbd.log_likelihood if fit.bgnbd else None,
        gamma_gamma=gg,
        gamma_gamma_log_likelihood=(
            fit.gamma_gamma.log_likelihood if fit.gamma_gamma else None
        ),
        cut_points=fit.cuts,
        settings=_jsonable_settings(settings),
        stage_seconds={},
    )
    session.add(row)
    await session.flush()
    await store.write_results(
        session, results, dialect=dialect, computed_at=computed_at, fit_id=row.id
    )
    lap("write")
    row.stage_seconds = dict(seconds)
    await session.flush()
    return RefreshReport(
        fit_id=row.id,
        customers=row.customers,
        computed_at=computed_at,
        stage_seconds=dict(seconds),
        bgnbd=bg,
        gamma_gamma=gg,
    )


def _jsonable_settings(settings: InsightSettings) -> dict[str, Any]:
    from crm.events import jsonable

    return jsonable(settings_snapshot(settings))  # type: ignore[no-any-return]


async def refresh_for(
    session: AsyncSession, actor: Actor, dialect: str
) -> RefreshReport:
    """A full refresh on behalf of `actor` (admins: INSIGHTS_CONFIGURE)."""
    require(actor, Permission.INSIGHTS_CONFIGURE)
    return await refresh_in_session(session, dialect)


# --- incremental updates ------------------------------------------------------------


async def _last_fit(session: AsyncSession) -> InsightModelFit | None:
    return await session.scalar(
        select(InsightModelFit).order_by(col(InsightModelFit.id).desc()).limit(1)
    )


FIT_COLUMNS = (
    "id",
    "bgnbd",
    "bgnbd_log_likelihood",
    "gamma_gamma",
    "gamma_gamma_log_likelihood",
    "cut_points",
)


@lru_cache(maxsize=1)
def _model_statement() -> Select[Any]:
    """The last fit, with the settings row when there is one: one statement."""
    fits = InsightModelFit.__table__  # type: ignore[attr-defined]
    settings = InsightSettings.__table__  # type: ignore[attr-defined]
    last = (
        select(*(fits.c[name] for name in FIT_COLUMNS))
        .order_by(fits.c.id.desc())
        .limit(1)
        .subquery("last_fit")
    )
    return select(
        last, *(c.label(f"settings_{c.name}") for c in settings.columns)
    ).select_from(last.outerjoin(settings, settings.c.id == 1))


async def _model(session: AsyncSession) -> tuple[Any, InsightSettings] | None:
    """The last fit (a row) and the settings, or None before the first refresh."""
    row = (await session.execute(_model_statement())).first()
    if row is None:
        return None
    found = row._mapping
    if found["settings_id"] is None:
        return row, InsightSettings(id=1)
    names = InsightSettings.__table__.columns.keys()  # type: ignore[attr-defined]
    return row, InsightSettings(**{name: found[f"settings_{name}"] for name in names})


async def _scored_rows(
    session: AsyncSession, fit_row: Any, settings: InsightSettings, ids: list[int]
) -> list[dict[str, Any]]:
    now = utcnow()
    agg = await aggregates.fetch_aggregates(
        session, _window(settings, now), _rates(settings), ids
    )
    if agg["customer_id"].size == 0:
        return []
    inputs = scoring.inputs_of(agg, now.timestamp())
    fit = scoring.Fit.restore(
        fit_row.bgnbd,
        fit_row.bgnbd_log_likelihood,
        fit_row.gamma_gamma,
        fit_row.gamma_gamma_log_likelihood,
        fit_row.cut_points or {},
    )
    results = scoring.score(agg, inputs, fit, settings, fresh=False)
    return store.row_dicts(results, now, fit_row.id)


async def update_customers(session: AsyncSession, customer_ids: list[int]) -> None:
    """Recompute a few customers' measures with the last fit, in the caller's
    transaction: no refit, rank-based scores from the last refresh's cut points.

    Nothing happens before the first full refresh (there is nothing to update).
    Set-based: one read of the fit and settings, one aggregate statement (built
    once, compiled once) over the customers, one upsert of their rows.
    """
    if not customer_ids:
        return
    model = await _model(session)
    if model is None:
        return
    rows = await _scored_rows(session, *model, customer_ids)
    dialect = (await session.connection()).dialect.name
    await store.upsert_rows(session, rows, dialect)


async def apply_strategic_value(session: AsyncSession, customer_id: int) -> None:
    """Carry a strategic value set or cleared by staff into the current row."""
    exists = await session.scalar(
        select(col(CustomerInsight.customer_id)).where(
            col(CustomerInsight.customer_id) == customer_id
        )
    )
    if exists is not None:
        await update_customers(session, [customer_id])


async def on_interactions_changed(
    session: AsyncSession, customer_ids: list[int]
) -> None:
    """The hook of crm.interactions.service: a purchase or refund (or a rating,
    contact or cost) moves that customer's measures within the same transaction.

    The update runs in a savepoint and never refuses the interaction: if it fails
    (e.g. an unusable stored fit), the update is rolled back and logged, the
    interaction is kept, and the customer's row stays as it was until the next full
    refresh recomputes it."""
    wanted = sorted(set(customer_ids))
    try:
        async with session.begin_nested():
            await update_customers(session, wanted)
    except Exception:
        log.exception("insight update failed for customers %s; kept stale", wanted)
