"""Column types shared by every domain: UTC time, money, JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Numeric, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

import crm.db  # noqa: F401  (the naming convention must exist before any table)

MONEY_SCALE = 4
_MONEY_FACTOR = Decimal(10) ** MONEY_SCALE
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_MONEY_LIMIT = Decimal(10) ** (18 - MONEY_SCALE)
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class MoneyType(TypeDecorator[Decimal]):
    """Exact money: NUMERIC(18, 4) on PostgreSQL; on SQLite, whose NUMERIC is a
    float, an integer count of 1/10,000ths (same column DDL, exact sums and
    comparisons)."""

    impl = Numeric(18, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
        if not amount.is_finite() or abs(amount) >= _MONEY_LIMIT:
            raise ValueError(f"{value!r} is out of range for money")
        if dialect.name == "sqlite":
            return int((amount * _MONEY_FACTOR).to_integral_value())
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / _MONEY_FACTOR).quantize(_MONEY_QUANTUM)
        return Decimal(value).quantize(_MONEY_QUANTUM)


Money = MoneyType()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Mutual stores UTC-aware times")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
