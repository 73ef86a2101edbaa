"""Insight measures as customer filters (`where: {insights: {...}}`) and orderings.

Non-financial measures need INSIGHTS_READ (the relation's right); financial and
strategic ones need FINANCIALS_READ too, like every financial field.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, Float, Integer, func, literal, select

from crm.analytics.competence import ValueCreationMode, ValueGroup
from crm.analytics.rfm import RfmCell
from crm.filtering import EntitySpec, FieldSpec
from crm.insights.aggregates import MoneyFloat
from crm.insights.kinds import ChurnRisk
from crm.insights.models import CustomerInsight
from crm.pagination import KeyKind
from crm.permissions import Permission

F = Permission.FINANCIALS_READ


def _col(name: str) -> Any:
    return lambda entity: getattr(entity, name)


INSIGHT_FIELDS: dict[str, FieldSpec] = {
    "rfm_cell": FieldSpec(_col("rfm_cell"), "enum", enum=RfmCell),
    "recency_score": FieldSpec(_col("rfm_r"), "int"),
    "frequency_score": FieldSpec(_col("rfm_f"), "int"),
    "monetary_score": FieldSpec(_col("rfm_m"), "int"),
    "recency_days": FieldSpec(_col("recency_days"), "int"),
    "frequency": FieldSpec(_col("frequency"), "int"),
    "purchases": FieldSpec(_col("purchases"), "int"),
    "last_purchase_at": FieldSpec(_col("last_purchase_at"), "datetime"),
    "probability_alive": FieldSpec(_col("p_alive"), "float"),
    "expected_purchases": FieldSpec(_col("expected_purchases"), "float"),
    "churn_risk": FieldSpec(_col("churn_band"), "enum", enum=ChurnRisk),
    "loyalty": FieldSpec(_col("loyalty_score"), "int"),
    "willingness": FieldSpec(_col("willingness"), "float"),
    "value_creation_mode": FieldSpec(
        _col("value_creation_mode"), "enum", enum=ValueCreationMode
    ),
    "tier": FieldSpec(_col("tier"), "string"),
    "nps": FieldSpec(_col("nps"), "float"),
    "csat": FieldSpec(_col("csat"), "float"),
    # Financial and strategic.
    "monetary": FieldSpec(_col("monetary"), "decimal", permission=F),
    "revenue_lifetime": FieldSpec(_col("revenue_lifetime"), "decimal", permission=F),
    "revenue_12m": FieldSpec(_col("revenue_12m"), "decimal", permission=F),
    "cost_to_serve_12m": FieldSpec(_col("cost_to_serve_12m"), "decimal", permission=F),
    "margin_lifetime": FieldSpec(_col("margin_lifetime"), "decimal", permission=F),
    "margin_12m": FieldSpec(_col("margin_12m"), "decimal", permission=F),
    "predicted_value": FieldSpec(_col("predicted_clv"), "decimal", permission=F),
    "predicted_value_percentile": FieldSpec(
        _col("clv_percentile"), "float", permission=F
    ),
    "profitability": FieldSpec(_col("profitability_score"), "int", permission=F),
    "strategic_value": FieldSpec(_col("strategic_score"), "int", permission=F),
    "value_group": FieldSpec(
        _col("value_group"), "enum", enum=ValueGroup, permission=F
    ),
    "low_value": FieldSpec(_col("low_value"), "bool", permission=F),
}

INSIGHT_SPEC = EntitySpec(
    name="CustomerInsights", model=lambda: CustomerInsight, fields=INSIGHT_FIELDS
)


def insight_link(customer: Any, insight: Any) -> ColumnElement[bool]:
    return insight.customer_id == customer.id  # type: ignore[no-any-return]


# Orderings: column, key kind, whether financial, and the value that stands in for
# "no value" (customers without a row or a measure sort first ascending, last
# descending), below anything the measure can hold.
# Money sorts as a float (exact for any amount a customer reaches): keyset cursors
# bind their values untyped, and SQLite keeps money as 1/10,000ths.
_MONEY_FLOOR = -1e15
ORDER_COLUMNS: dict[str, tuple[str, str, bool, Any]] = {
    "predicted_value": ("predicted_clv", "money", True, _MONEY_FLOOR),
    "revenue_12m": ("revenue_12m", "money", True, _MONEY_FLOOR),
    "margin_12m": ("margin_12m", "money", True, _MONEY_FLOOR),
    "probability_alive": ("p_alive", "float", False, -1.0),
    "loyalty": ("loyalty_score", "int", False, 0),
    "recency_days": ("recency_days", "int", False, -1),
}


def order_expression(
    name: str, customer_id: Any
) -> tuple[ColumnElement[Any], KeyKind, bool]:
    """A sort key over a customer's insight: (expression, kind, financial).

    A correlated lookup by primary key, with the missing value coalesced to a floor:
    keyset cursors compare plain values, never NULL.
    """
    column_name, kind, financial, floor = ORDER_COLUMNS[name]
    column: Any = getattr(CustomerInsight, column_name)
    if kind == "money":
        column, kind = MoneyFloat(column), "float"
    lookup = (
        select(column)
        .where(CustomerInsight.customer_id == customer_id)  # type: ignore[arg-type]
        .scalar_subquery()
    )
    sql_type: Any = Integer() if kind == "int" else Float()
    return (
        func.coalesce(lookup, literal(floor, sql_type), type_=sql_type),
        cast(KeyKind, kind),
        financial,
    )
