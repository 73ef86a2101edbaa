"""Field checks shared by every service: each failure names its field and a code."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import available_timezones

import orjson

from crm.columns import MONEY_SCALE
from crm.errors import FieldError, ValidationFailed

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
PHONE_RE = re.compile(r"^\+?[0-9 ().\-/]{3,40}$")
_TIME_ZONES = frozenset(available_timezones()) | {"UTC"}


class Errors:
    """Collects field errors; `raise_if_any` raises them together."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str | None, code: str, message: str) -> None:
        self.items.append(FieldError(field, code, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)


def clean_text(
    errors: Errors, field: str, value: Any, *, max_length: int, required: bool = False
) -> str | None:
    """Strip, turn empty into None, and check type and length."""
    if value is None:
        if required:
            errors.add(field, "REQUIRED", f"{field} is required.")
        return None
    if not isinstance(value, str):
        errors.add(field, "INVALID", f"{field} must be text.")
        return None
    value = value.strip()
    if not value:
        if required:
            errors.add(field, "REQUIRED", f"{field} is required.")
        return None
    if len(value) > max_length:
        errors.add(
            field,
            "TOO_LONG",
            f"{field} is {len(value)} characters; at most {max_length}.",
        )
        return None
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        errors.add(field, "INVALID", f"{field} contains control characters.")
        return None
    return value


def clean_email(errors: Errors, field: str, value: Any) -> str | None:
    email = clean_text(errors, field, value, max_length=320)
    if email is not None and not EMAIL_RE.match(email):
        errors.add(field, "INVALID_EMAIL", f"{email!r} is not a valid email address.")
        return None
    return email


def clean_phone(errors: Errors, field: str, value: Any) -> str | None:
    phone = clean_text(errors, field, value, max_length=40)
    if phone is not None and not PHONE_RE.match(phone):
        errors.add(field, "INVALID_PHONE", f"{phone!r} is not a phone number.")
        return None
    return phone


def clean_locale(errors: Errors, field: str, value: Any) -> str | None:
    locale = clean_text(errors, field, value, max_length=35)
    if locale is not None and not LOCALE_RE.match(locale):
        errors.add(field, "INVALID", f"{locale!r} is not a BCP 47 locale (e.g. en-GB).")
        return None
    return locale


def clean_time_zone(errors: Errors, field: str, value: Any) -> str | None:
    zone = clean_text(errors, field, value, max_length=64)
    if zone is not None and zone not in _TIME_ZONES:
        errors.add(field, "INVALID", f"{zone!r} is not an IANA time zone.")
        return None
    return zone


def clean_enum(
    errors: Errors,
    field: str,
    value: Any,
    enum: type[StrEnum],
    *,
    required: bool = False,
) -> str | None:
    if value is None:
        if required:
            errors.add(field, "REQUIRED", f"{field} is required.")
        return None
    try:
        return enum(value).value
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        errors.add(field, "INVALID", f"{value!r} is not one of {allowed}.")
        return None


def clean_money(errors: Errors, field: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        errors.add(field, "INVALID", f"{field} must be a decimal number.")
        return None
    if not amount.is_finite():
        errors.add(field, "INVALID", f"{field} must be a finite number.")
        return None
    if amount < 0:
        errors.add(field, "NEGATIVE", f"{field} cannot be negative.")
        return None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_SCALE:
        errors.add(field, "INVALID", f"{field} has more than {MONEY_SCALE} decimals.")
        return None
    if amount >= Decimal(10) ** (18 - MONEY_SCALE):
        errors.add(field, "OUT_OF_RANGE", f"{field} is too large.")
        return None
    return amount


def clean_currency(errors: Errors, field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CURRENCY_RE.match(value.strip().upper()):
        errors.add(field, "INVALID_CURRENCY", f"{value!r} is not an ISO 4217 code.")
        return None
    return value.strip().upper()


def clean_tags(errors: Errors, field: str, value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        errors.add(field, "INVALID", f"{field} must be a list of tags.")
        return None
    if len(value) > 50:
        errors.add(field, "TOO_MANY", f"{field} holds at most 50 tags.")
        return None
    tags: list[str] = []
    for tag in value:
        cleaned = clean_text(errors, field, tag, max_length=50, required=True)
        if cleaned is None:
            return None
        if cleaned.lower() not in (t.lower() for t in tags):
            tags.append(cleaned)
    return tags


def clean_attributes(errors: Errors, field: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add(field, "INVALID", f"{field} must be a JSON object.")
        return None
    if len(value) > 100:
        errors.add(field, "TOO_MANY", f"{field} holds at most 100 keys.")
        return None
    if len(orjson.dumps(value)) > 16_384:
        errors.add(field, "TOO_LONG", f"{field} is larger than 16 KiB as JSON.")
        return None
    return dict(value)


def fold(text: str) -> str:
    """Lower case without accents: the form that search and unique keys compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def search_document(parts: Iterable[str | None]) -> str:
    return " ".join(fold(p) for p in parts if p)[:1200]
