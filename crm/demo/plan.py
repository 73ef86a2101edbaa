"""The whole demo drawn from one seed: customers and their interactions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import numpy as np

from crm.customers.models import Customer, LifecycleStage
from crm.customers.service import derive
from crm.demo.history import (
    _Base,
    _campaigns_and_notes,
    _Interactions,
    _orders,
    _purchase_days,
    _support,
    _visits,
)
from crm.demo.names import (
    ACQUISITION,
    COMPANY_KINDS,
    COMPANY_WORDS,
    DOMAINS,
    EMAIL_FORMATS,
    FX_TO_EUR,
    INDUSTRIES,
    LOCALES,
    OWNER_SLOTS,
    OWNER_WEIGHTS,
)
from crm.demo.timeline import HISTORY_DAYS, RECENT_DAYS, _datetimes
from crm.validation import fold


class _Draft:
    """The fields `derive` reads and writes, without a mapped instance's cost.

    Building 100,000 `Customer` objects takes ~40 s; this takes under one.
    """

    def __init__(self, given: str, family: str, email: str, company: str | None):
        self.given_name, self.family_name = given, family
        self.email, self.company = email, company
        self.display_name, self.phone = "", None
        self.email_key: str | None = None
        self.search_text = ""


_TRANSLITERATE: dict[str, str | int | None] = {"ł": "l", "ø": "o", "æ": "ae"}


@cache
def _ascii(name: str) -> str:
    folded = fold(name).translate(str.maketrans(_TRANSLITERATE))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


@dataclass
class DemoPlan:
    """Every row to write, as columns; customers are numbered 0..n-1 by first sight."""

    customers: dict[str, list[Any]]
    currency: np.ndarray
    owner_slot: np.ndarray  # index into STAFF, -1 for no owner
    interactions: dict[str, np.ndarray]


def plan_demo(n: int, seed: int) -> DemoPlan:
    """Draw every customer and interaction; the same (n, seed) gives the same plan."""
    rng = np.random.default_rng(seed)
    loc = rng.choice(len(LOCALES), n, p=[x.weight for x in LOCALES])
    base = _Base(
        n=n,
        first_seen=np.sort(HISTORY_DAYS * rng.random(n) ** 0.8),  # growing business
        currency=np.array([x.currency for x in LOCALES], dtype=object)[loc],
        b2b=rng.random(n) < 0.12,
        newsletter=rng.random(n) < 0.55,
    )
    out = _Interactions()
    p_cust, p_day = _purchase_days(rng, base.first_seen, rng.random(n) < 0.8)
    revenue = _orders(rng, base, p_cust, p_day, out)
    purchases = np.bincount(p_cust, minlength=n)
    last_buy = np.full(n, -1.0)
    np.maximum.at(last_buy, p_cust, p_day)
    recent = last_buy >= HISTORY_DAYS - RECENT_DAYS
    # Visits and contacts wind down after a churned buyer's last purchase.
    active_end = np.where(
        (purchases > 0) & ~recent,
        np.minimum(last_buy + 60, HISTORY_DAYS),
        HISTORY_DAYS,
    )
    fx = np.array([FX_TO_EUR[c] for c in base.currency.tolist()])
    vip = revenue * fx >= max(1.0, float(np.quantile(revenue * fx, 0.97)))
    visited_lately = _visits(rng, base, purchases, active_end, out)
    _support(rng, base, purchases, active_end, out)
    _campaigns_and_notes(rng, base, vip, out)

    stage = np.select(
        [purchases == 0, recent],
        [
            np.where(
                visited_lately, LifecycleStage.PROSPECT.value, LifecycleStage.LEAD.value
            ),
            LifecycleStage.ACTIVE.value,
        ],
        LifecycleStage.CHURNED.value,
    )
    owned = rng.random(n) < np.select([base.b2b, vip], [0.9, 0.8], 0.05)
    owner_slot = np.where(owned, rng.choice(OWNER_SLOTS, n, p=OWNER_WEIGHTS), -1)
    interactions = out.build()
    monetary = interactions["amount"] >= 0
    last_money = base.first_seen.copy()  # updated_at: the latest purchase or refund
    np.maximum.at(
        last_money, interactions["cust"][monetary], interactions["day"][monetary]
    )
    customers = _customers(rng, loc, base, vip, purchases)
    customers["lifecycle_stage"] = stage.astype(object).tolist()
    customers["created_at"] = _datetimes(base.first_seen)
    customers["updated_at"] = _datetimes(last_money)
    return DemoPlan(customers, base.currency, owner_slot, interactions)


def _customers(
    rng: np.random.Generator,
    loc: np.ndarray,
    base: _Base,
    vip: np.ndarray,
    purchases: np.ndarray,
) -> dict[str, list[Any]]:
    n = base.n
    name_u, zone_u = rng.random((n, 2)), rng.random(n)
    form_i, domain_i = rng.integers(0, len(EMAIL_FORMATS), n), rng.integers(0, 5, n)
    year = rng.integers(60, 100, n)
    shouty = rng.random(n) < 0.04  # typed in capitals: email_key must fold it
    phone_on = rng.random(n) < 0.78
    phone = rng.integers(100, 1000, n), rng.integers(1_000_000, 10_000_000, n)
    word_i, kind_i = rng.integers(0, 10, n), rng.integers(0, 9, n)
    channel_i, industry_i = rng.integers(0, 7, n), rng.integers(0, 5, n)
    cols: dict[str, list[Any]] = defaultdict(list)
    taken: set[str] = set()
    for i in range(n):
        locale = LOCALES[loc[i]]
        given = locale.given[int(name_u[i, 0] * len(locale.given))]
        family = locale.family[int(name_u[i, 1] * len(locale.family))]
        g, f = _ascii(given), _ascii(family)
        company = None
        domain = DOMAINS[domain_i[i]]
        local = EMAIL_FORMATS[form_i[i]].format(g=g, f=f, i=g[:1], y=year[i])
        attributes: dict[str, Any] = {"acquisition_channel": ACQUISITION[channel_i[i]]}
        if base.b2b[i]:
            word, kind = COMPANY_WORDS[word_i[i]], COMPANY_KINDS[kind_i[i]]
            company = f"{word} {kind} {locale.suffix}"
            domain = f"{word}-{kind}.example".lower()
            local = f"{g}.{f}"
            attributes["industry"] = INDUSTRIES[industry_i[i]]
        email, k = f"{local}@{domain}", 1
        while email in taken:
            k += 1
            email = f"{local}{k}@{domain}"
        taken.add(email)
        draft = _Draft(given, family, email.title() if shouty[i] else email, company)
        derive(cast(Customer, draft))  # the service's own rules, on a cheap object
        flags = (
            ("vip", vip[i]),
            ("newsletter", base.newsletter[i]),
            ("b2b", base.b2b[i]),
            ("repeat-buyer", purchases[i] >= 5),
        )
        row = {
            "external_ref": f"demo-{i}",
            "email": draft.email,
            "email_key": draft.email_key,
            "phone": f"+{locale.dial} {phone[0][i]} {phone[1][i]}"
            if phone_on[i]
            else None,
            "given_name": given,
            "family_name": family,
            "display_name": draft.display_name,
            "company": company,
            "locale": locale.code,
            "time_zone": locale.zones[int(zone_u[i] * len(locale.zones))],
            "tags": [tag for tag, on in flags if on],
            "attributes": attributes,
            "search_text": draft.search_text,
        }
        for name, value in row.items():
            cols[name].append(value)
    return dict(cols)
