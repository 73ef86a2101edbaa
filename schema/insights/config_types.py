"""Types of the insight configuration: settings, tier ladder, policies, defections."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import cast

import strawberry
from strawberry.scalars import JSON

from crm.insights.config import ladder_of
from crm.insights.kinds import CONFIDENTIAL_KINDS, CUSTOMER_FACING_KINDS
from crm.insights.kinds import InsightKind as DomainKind
from crm.insights.models import InsightPolicy as PolicyModel
from crm.insights.models import InsightSettings as SettingsModel
from crm.insights.models import InsightSnapshot
from crm.insights.refresh import RefreshReport
from schema.insights.enums import ChurnRisk, InsightKind, TierBasis
from schema.interactions.types import Money


@strawberry.type(description="The firm's model settings for insights.")
class InsightSettings:
    rfm_window_days: int = strawberry.field(description="The RFM window, in days.")
    clv_horizon_months: int = strawberry.field(
        description="Horizon of expected purchases and predicted lifetime value."
    )
    annual_discount_rate: float = strawberry.field(
        description="Discount rate of predicted value, per year (0.1 = 10%)."
    )
    cohort_min_size: int = strawberry.field(
        description="k: customers see cohort figures only from cohorts of at least "
        "k customers."
    )
    churn_high_below: float = strawberry.field(
        description="Churn risk is HIGH below this probability of being active."
    )
    churn_medium_below: float = strawberry.field(
        description="Churn risk is MEDIUM below this probability (LOW above)."
    )
    reporting_currency: str = strawberry.field(
        description="Currency of every insight amount."
    )
    exchange_rates: JSON = strawberry.field(
        description="Units of the reporting currency per unit of another currency, "
        'e.g. {"GBP": "1.17"}; unlisted currencies count 1:1.'
    )
    updated_at: datetime = strawberry.field(description="When they last changed.")
    updated_by: str = strawberry.field(description="Who changed them last.")

    @classmethod
    def from_model(cls, model: SettingsModel) -> InsightSettings:
        return cls(
            rfm_window_days=model.rfm_window_days,
            clv_horizon_months=model.clv_horizon_months,
            annual_discount_rate=model.annual_discount_rate,
            cohort_min_size=model.cohort_min_size,
            churn_high_below=model.churn_high_below,
            churn_medium_below=model.churn_medium_below,
            reporting_currency=model.reporting_currency,
            exchange_rates=cast(JSON, dict(model.exchange_rates or {})),
            updated_at=model.updated_at,
            updated_by=model.updated_by,
        )


@strawberry.type(description="One rung of the loyalty tier ladder.")
class Tier:
    name: str = strawberry.field(description="The tier's name.")
    threshold: Decimal = strawberry.field(
        description="The value of the ladder's measure that reaches this tier."
    )


@strawberry.type(description="The firm's loyalty tier ladder.")
class TierLadder:
    basis: TierBasis = strawberry.field(description="The measure compared.")
    tiers: list[Tier] = strawberry.field(description="Lowest first.")

    @classmethod
    def from_model(cls, model: SettingsModel) -> TierLadder:
        return cls(
            basis=TierBasis(model.tier_basis),
            tiers=[Tier(name=t.name, threshold=t.threshold) for t in ladder_of(model)],
        )


@strawberry.type(description="Whether customers see one kind of insight, and how.")
class InsightPolicy:
    kind: InsightKind = strawberry.field(description="The kind of insight.")
    visible_to_customers: bool = strawberry.field(
        description="Published in the customers' own view (me.insights)."
    )
    title: str | None = strawberry.field(description="The heading customers see.")
    description: str | None = strawberry.field(description="The wording customers see.")
    publishable: bool = strawberry.field(
        description="Whether this kind can be published at all (confidential kinds "
        "and kinds without a customer-facing view cannot)."
    )
    updated_at: datetime = strawberry.field(description="When it last changed.")
    updated_by: str = strawberry.field(description="Who changed it last.")

    @classmethod
    def from_model(cls, model: PolicyModel) -> InsightPolicy:
        kind = DomainKind(model.kind)
        return cls(
            kind=kind,
            visible_to_customers=model.visible_to_customers,
            title=model.title,
            description=model.description,
            publishable=kind in CUSTOMER_FACING_KINDS
            and kind not in CONFIDENTIAL_KINDS,
            updated_at=model.updated_at,
            updated_by=model.updated_by,
        )


@strawberry.type(description="Seconds one stage of a refresh took.")
class RefreshStage:
    name: str = strawberry.field(
        description="aggregates, fits, scores or write (see docs/insights.md)."
    )
    seconds: float = strawberry.field(description="Wall-clock seconds.")


@strawberry.type(description="What a full insight refresh did.")
class InsightRefresh:
    model_version: int | None = strawberry.field(description="The new model fit.")
    customers: int = strawberry.field(description="Customers scored.")
    computed_at: datetime = strawberry.field(
        description="The instant the measures were taken at."
    )
    seconds: float = strawberry.field(description="Total time of the four stages.")
    stages: list[RefreshStage] = strawberry.field(description="Each stage, in order.")

    @classmethod
    def from_report(cls, report: RefreshReport) -> InsightRefresh:
        return cls(
            model_version=report.fit_id,
            customers=report.customers,
            computed_at=report.computed_at,
            seconds=round(report.seconds, 3),
            stages=[
                RefreshStage(name=n, seconds=s) for n, s in report.stage_seconds.items()
            ],
        )


def snapshot_money(snapshot: InsightSnapshot, currency: str) -> Money | None:
    if snapshot.predicted_clv is None:
        return None
    return Money.of(snapshot.predicted_clv, currency)


__all__ = [
    "ChurnRisk",
    "InsightPolicy",
    "InsightRefresh",
    "InsightSettings",
    "Tier",
    "TierLadder",
    "snapshot_money",
]
