"""Fields of the firm's Customer type for insights: the firm's customer intelligence."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from crm.insights import service
from crm.insights.config import load_settings
from crm.insights.kinds import InsightKind as DomainKind
from crm.insights.models import InsightSettings, InsightSnapshot
from crm.pagination import count
from crm.permissions import Permission
from schema.context import Info
from schema.insights.enums import InsightKind
from schema.insights.types import CustomerInsights
from schema.relay import Connection, connection, page_args


@strawberry.type(description="One kind of measure as one refresh left it.")
class InsightHistoryPoint:
    taken_at: datetime = strawberry.field(description="When the refresh ran.")
    model_version: int | None = strawberry.field(description="The model fit used.")
    value: float | None = strawberry.field(
        description="The measure as a number (money in the reporting currency, "
        "scores 1-5, probabilities 0-1), when it has one."
    )
    label: str | None = strawberry.field(
        description="The measure as a name (cell, band, tier, group, mode), when it "
        "has one."
    )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _rfm_value(s: InsightSnapshot) -> float | None:
    if s.rfm_r is None or s.rfm_f is None or s.rfm_m is None:
        return None
    return float(s.rfm_r * 100 + s.rfm_f * 10 + s.rfm_m)


_POINTS: dict[DomainKind, Any] = {
    DomainKind.SPEND_SUMMARY: lambda s: (_number(s.revenue_12m), None),
    DomainKind.RFM_STATUS: lambda s: (_rfm_value(s), s.rfm_cell),
    DomainKind.TIER: lambda s: (None, s.tier),
    DomainKind.SATISFACTION: lambda s: (s.nps, None),
    DomainKind.LOYALTY: lambda s: (_number(s.loyalty_score), None),
    DomainKind.CHURN_RISK: lambda s: (s.p_alive, s.churn_band),
    DomainKind.PREDICTED_VALUE: lambda s: (_number(s.predicted_clv), None),
    DomainKind.COST_TO_SERVE: lambda s: (_number(s.cost_to_serve_12m), None),
    DomainKind.PROFITABILITY: lambda s: (_number(s.profitability_score), None),
    DomainKind.STRATEGIC_VALUE: lambda s: (_number(s.strategic_score), None),
    DomainKind.VALUE_GROUP: lambda s: (None, s.value_group),
    DomainKind.LOW_VALUE: lambda s: (
        None if s.low_value is None else float(s.low_value),
        None,
    ),
    DomainKind.VALUE_CREATION_MODE: lambda s: (None, s.value_creation_mode),
}


def _point(kind: DomainKind, snapshot: InsightSnapshot) -> InsightHistoryPoint:
    value, label = _POINTS[kind](snapshot)
    return InsightHistoryPoint(
        taken_at=snapshot.taken_at,
        model_version=snapshot.fit_id,
        value=value,
        label=label,
    )


async def _load_insights(
    session: Any, actor: Any, ids: list[int]
) -> list[service.InsightRow | None]:
    found = await service.insights_by_customer(session, actor, ids)
    return [found.get(i) for i in ids]


def insights_loader(info: Info) -> DataLoader[int, service.InsightRow | None]:
    ctx = info.context
    return ctx.memo(
        "insights.rows",
        lambda: DataLoader(partial(_load_insights, ctx.session, ctx.actor)),
    )


async def _load_settings(session: Any, keys: list[int]) -> list[InsightSettings]:
    settings = await load_settings(session)
    return [settings for _ in keys]


async def operation_settings(info: Info) -> InsightSettings:
    """The insight settings, read once per operation (sibling fields share it)."""
    ctx = info.context
    loader: DataLoader[int, InsightSettings] = ctx.memo(
        "insights.settings", lambda: DataLoader(partial(_load_settings, ctx.session))
    )
    return await loader.load(1)


@strawberry.type
class CustomerInsightFields:
    @strawberry.field(
        description="The customer's insights (RFM, value, retention, predicted "
        "value, satisfaction, classification, tier). Null without insights:read or "
        "before the first refresh; financial and strategic parts need "
        "financials:read."
    )
    async def insights(self, info: Info) -> CustomerInsights | None:
        actor = info.context.actor
        if not service.can_read(actor):
            return None
        row = await insights_loader(info).load(self.model_.id)  # type: ignore[attr-defined]
        if row is None:
            return None
        settings = await operation_settings(info)
        return CustomerInsights.of(
            row, settings, financial=actor.can(Permission.FINANCIALS_READ)
        )

    @strawberry.field(
        description="How one kind of measure moved over time, newest refresh first "
        "(needs insights:read; financial kinds need financials:read)."
    )
    async def insight_history(
        self,
        info: Info,
        kind: Annotated[
            InsightKind, strawberry.argument(description="The measure to follow.")
        ],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[InsightHistoryPoint]:
        session = info.context.session
        domain_kind = DomainKind(kind)
        listed = await service.history(
            session,
            info.context.actor,
            self.model_.id,  # type: ignore[attr-defined]
            domain_kind,
            page=page_args(first, after, last, before),
        )
        return connection(
            listed.page,
            lambda snapshot: _point(domain_kind, snapshot),
            lambda: count(session, listed.count_statement),
        )
