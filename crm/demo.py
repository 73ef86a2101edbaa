"""Demo data: a deterministic, realistic customer base to try Mutual on.

Purchases follow a BG/NBD-like story: each buyer has a gamma-distributed purchase
rate and, after every purchase, drops out for good with a beta-distributed
probability, so some customers keep buying and others stop. November and December
sell more (thinning of the purchase process), spend per customer is lognormal, and
refunds, support contacts, campaigns, visits, feedback and notes surround it.

Everything is drawn with numpy from one seed, then written in bulk in one
transaction (a failed seed leaves nothing behind): COPY on PostgreSQL,
executemany on SQLite.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import repeat
from typing import Any, NamedTuple, cast

import numpy as np
import orjson
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm import events
from crm.actors import SystemActor
from crm.customers.models import Customer, LifecycleStage
from crm.customers.service import derive
from crm.db import Database, metadata
from crm.errors import BadInput, Conflict
from crm.interactions.models import Interaction, Source
from crm.staff import service as staff_service
from crm.staff.models import StaffMember
from crm.validation import fold

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
HISTORY_DAYS = 730
START = ANCHOR - timedelta(days=HISTORY_DAYS)
RECENT_DAYS = 180  # a buyer with no purchase for this long has churned
ACTOR = SystemActor(name="demo")
CHUNK = 5_000  # customers written, with their interactions, per round
_START64 = np.datetime64(START.replace(tzinfo=None), "s")

# fmt: off
# Relative purchase intensity by month, January first.
SEASON = np.array([0.85, 0.8, 0.9, 0.95, 1.0, 0.95, 0.9, 0.9, 1.0, 1.05, 1.55, 1.9])
STAFF = (  # email, display name, role; slots 1-3 (manager, agents) own accounts
    ("admin@mutual.example", "Admin", "admin"),
    ("manager@mutual.example", "Morgan Lee", "manager"),
    ("agent1@mutual.example", "Sam Rivera", "agent"),
    ("agent2@mutual.example", "Priya Shah", "agent"),
    ("analyst@mutual.example", "Kim Novak", "analyst"),
)
OWNER_SLOTS, OWNER_WEIGHTS = (1, 2, 3), (0.2, 0.4, 0.4)
# Per locale: "code weight currency dialling-code time-zones company-suffix",
# then given names, then family names.
_LOCALE_TABLE = """
de-DE .17 EUR 49 Europe/Berlin GmbH
    Lukas,Hannah,Jürgen,Sophie,Maximilian,Lena,Jörg,Anja,Felix,Marie
    Müller,Schmidt,Schäfer,Weiß,Groß,Becker,Hoffmann,Köhler,Wagner,Koch
fr-FR .13 EUR 33 Europe/Paris SARL
    Léa,Chloé,Hélène,François,Gaëlle,Zoé,Mathéo,Camille,Julien,Noémie
    Dubois,Lefèvre,Girard,Moreau,Laurent,Bernard,Fournier,Rousseau,Mercier,Faure
es-ES .10 EUR 34 Europe/Madrid,Atlantic/Canary S.L.
    José,María,Sofía,Álvaro,Iñigo,Lucía,Javier,Carmen,Raúl,Begoña
    García,Martínez,Núñez,Fernández,Pérez,López,Sánchez,Gómez,Ibáñez,Ruiz
it-IT .08 EUR 39 Europe/Rome S.r.l.
    Giulia,Francesco,Niccolò,Chiara,Lorenzo,Martina,Matteo,Alessia,Andrea
    Rossi,Russo,Esposito,Bianchi,Romano,Colombo,Ricci,Marino,Greco,Bruno
nl-NL .08 EUR 31 Europe/Amsterdam B.V.
    Daan,Sanne,Bram,Zoë,Anouk,Sem,Fleur,Jeroen,Lotte,Thijs
    de Vries,Jansen,van Dijk,Bakker,Visser,Smit,de Jong,Mulder,Bos,van den Berg
pl-PL .06 EUR 48 Europe/Warsaw Sp. z o.o.
    Łukasz,Agnieszka,Małgorzata,Paweł,Katarzyna,Michał,Zofia,Piotr,Joanna
    Kowalski,Wiśniewski,Wójcik,Zieliński,Nowak,Kamiński,Dąbrowski,Woźniak
pt-PT .04 EUR 351 Europe/Lisbon,Atlantic/Azores Lda.
    João,Inês,Tomás,Beatriz,Gonçalo,Leonor,Rodrigo,Mariana,Duarte,Matilde
    Silva,Santos,Gonçalves,Conceição,Ferreira,Pereira,Costa,Sousa,Simões
sv-SE .04 EUR 46 Europe/Stockholm AB
    Åsa,Björn,Linnéa,Oskar,Elsa,Måns,Ingrid,Göran,Saga,Erik
    Andersson,Johansson,Lindström,Öberg,Karlsson,Nilsson,Ström,Åkesson,Holm
da-DK .04 EUR 45 Europe/Copenhagen ApS
    Søren,Mette,Frederik,Ida,Rasmus,Astrid,Jens,Freja,Mads,Signe
    Nørgaard,Jørgensen,Hansen,Nielsen,Sørensen,Christensen,Møller,Kjær
en-GB .14 GBP 44 Europe/London,Europe/Dublin Ltd
    Oliver,Amelia,Harry,Isla,George,Siobhán,Noah,Olivia,Jack,Zoë
    Smith,Jones,Taylor,Brown,O'Brien,Evans,Thomas,Roberts,Walker,McAllister
en-US .12 USD 1 America/New_York,America/Chicago,America/Los_Angeles Inc.
    James,Mary,Michael,Jennifer,Renée,David,Ashley,André,Emily,Daniel
    Johnson,Williams,Miller,Davis,Rodriguez,Nguyen,Anderson,Jackson,Harris
"""
FX_TO_EUR = {"EUR": 1.0, "GBP": 1.17, "USD": 0.92}  # only to rank customers
# Reserved example domains: demo addresses can never reach a real mailbox.
DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example")
EMAIL_FORMATS = ("{g}.{f}", "{g}{f}", "{i}{f}", "{g}_{f}", "{f}.{g}", "{g}.{f}{y}")
COMPANY_WORDS = ("Atlas", "Nordwind", "Bluebird", "Kestrel", "Lumen", "Orbit", "Cedar",
                 "Harbor", "Vega", "Quartz")
COMPANY_KINDS = ("Logistics", "Studio", "Trading", "Systems", "Foods", "Design",
                 "Partners", "Retail", "Labs")
ACQUISITION = ("organic_search", "paid_search", "social", "referral", "email",
               "store", "partner")
INDUSTRIES = ("retail", "hospitality", "manufacturing", "services", "education")
WEB_SECTIONS = ("new arrivals", "winter jackets", "running shoes", "home & living",
                "gift cards", "sale items", "accessories")
SUPPORT = (  # subject, body
    ("Where is my parcel?", "Tracking link resent; parcel is with the courier."),
    ("Item arrived damaged", "Photos received; replacement dispatched."),
    ("Wrong size delivered", "Exchange arranged with a prepaid label."),
    ("Invoice request", "VAT invoice sent by email."),
    ("Cannot sign in", "Password reset link sent; customer confirmed access."),
    ("Question about a product", "Explained sizing and materials."),
    ("Change delivery address", "Address updated before dispatch."),
    ("Refund status", "Refund confirmed; 3-5 working days to appear."),
)
NOTES = ("Prefers to be contacted by email.", "Interested in the loyalty programme.",
         "Asked for a quote for a bulk order.", "Birthday in spring: send a voucher.",
         "Had a poor delivery experience last year; handle with care.",
         "Call back after the holidays.")
FEEDBACK = {  # by rating: 8-10, 5-7, 0-4
    "good": ("Great quality, fast delivery.", "Love it, will order again.",
             "Exactly as described."),
    "mixed": ("Fine, but delivery took a while.",
              "Good product, packaging could be better.", "Okay overall."),
    "bad": ("Not what I expected.", "Arrived late and the box was damaged.",
            "Quality has gone down."),
}
CAMPAIGNS = ("New year, new favourites", "Winter sale: last chance",
             "Spring collection is here", "Easter treats", "May days: 15% off",
             "Summer essentials", "Holiday packing list", "Back to routine",
             "Autumn edit", "Members' weekend", "Black Friday early access",
             "Gift guide {year}")
CUSTOMER_COLUMNS = ("id", "external_ref", "email", "email_key", "phone", "given_name",
                    "family_name", "display_name", "company", "locale", "time_zone",
                    "lifecycle_stage", "tags", "attributes", "owner_id", "search_text",
                    "created_at", "updated_at", "version")
INTERACTION_COLUMNS = ("customer_id", "occurred_at", "channel", "direction", "kind",
                       "subject", "body", "amount", "currency", "cost_to_serve",
                       "rating", "sentiment", "visibility", "source", "recorded_by",
                       "created_at", "updated_at", "version")
# fmt: on


class Locale(NamedTuple):
    code: str
    weight: float
    currency: str
    dial: str
    zones: tuple[str, ...]
    suffix: str
    given: tuple[str, ...]
    family: tuple[str, ...]


def _locales(table: str) -> tuple[Locale, ...]:
    lines = [line.strip() for line in table.strip().splitlines()]
    found = []
    for head, given, family in zip(lines[::3], lines[1::3], lines[2::3], strict=True):
        code, weight, currency, dial, zones, suffix = head.split(" ", 5)
        found.append(
            Locale(
                code,
                float(weight),
                currency,
                dial,
                tuple(zones.split(",")),
                suffix,
                tuple(given.split(",")),
                tuple(family.split(",")),
            )
        )
    return tuple(found)


LOCALES = _locales(_LOCALE_TABLE)


@dataclass
class DemoSummary:
    """What a seed wrote; `staff` counts the members it created (not reused)."""

    customers: int
    interactions: int
    staff: int
    seconds: float


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


def _stamps(days: np.ndarray) -> np.ndarray:
    return _START64 + np.round(days * 86400).astype("int64").astype("timedelta64[s]")


def _month(days: np.ndarray) -> np.ndarray:
    """0 for January ... 11 for December."""
    return _stamps(days).astype("datetime64[M]").astype("int64") % 12


def _datetimes(days: np.ndarray) -> list[datetime]:
    return [d.replace(tzinfo=UTC) for d in _stamps(days).tolist()]


def _pick(
    rng: np.random.Generator, options: Sequence[Any], p: Sequence[float], size: int
) -> np.ndarray:
    return np.array(options, dtype=object)[rng.choice(len(options), size, p=p)]


def _rating_sentiment(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    rating = np.round(10 * rng.beta(4.0, 1.6, n)).astype("int64")
    sentiment = np.clip((rating - 5) / 6.25 + rng.normal(0, 0.2, n), -1, 1)
    return rating, np.round(sentiment, 2)


def _between(
    rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`counts[c]` uniform times in [lo[c], hi[c]) for each customer c."""
    cust = np.repeat(np.arange(counts.size), counts)
    return cust, lo[cust] + rng.random(cust.size) * (hi[cust] - lo[cust])


def _purchase_days(
    rng: np.random.Generator, first_seen: np.ndarray, buyer: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(customer, day) of every purchase: BG/NBD with seasonal thinning."""
    rate = rng.gamma(0.9, 4.0, first_seen.size) / 365 * SEASON.max()  # per day
    dropout = rng.beta(1.3, 5.0, first_seen.size)
    idx = np.flatnonzero(buyer)
    t = first_seen[idx] + rng.exponential(10.0, idx.size)
    idx, t = idx[t < HISTORY_DAYS], t[t < HISTORY_DAYS]
    customers, days = [idx], [t]
    alive = rng.random(idx.size) >= dropout[idx]
    idx, t = idx[alive], t[alive]
    while idx.size:
        t = t + rng.exponential(1.0, idx.size) / rate[idx]
        inside = t < HISTORY_DAYS
        bought = inside & (rng.random(idx.size) * SEASON.max() < SEASON[_month(t)])
        customers.append(idx[bought])
        days.append(t[bought])
        stays = inside & ~(bought & (rng.random(idx.size) < dropout[idx]))
        idx, t = idx[stays], t[stays]
    return np.concatenate(customers), np.concatenate(days)


class _Interactions:
    """Interaction columns gathered kind by kind, then sorted by customer and time.

    Missing values are -1 (money in cents, rating), NaN (sentiment) or None.
    """

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(
        self,
        cust: np.ndarray,
        day: np.ndarray,
        *,
        kind: str,
        channel: Any,
        direction: str,
        visibility: str = "internal",
        subject: Any = None,
        body: Any = None,
        amount: Any = -1,
        cost: Any = -1,
        rating: Any = -1,
        sentiment: Any = np.nan,
    ) -> None:
        for name, value, dtype in (
            ("cust", cust, "int64"),
            ("day", day, "float64"),
            ("kind", kind, object),
            ("channel", channel, object),
            ("direction", direction, object),
            ("visibility", visibility, object),
            ("subject", subject, object),
            ("body", body, object),
            ("amount", amount, "int64"),
            ("cost", cost, "int64"),
            ("rating", rating, "int64"),
            ("sentiment", sentiment, "float64"),
        ):
            column = (
                value.astype(dtype)
                if isinstance(value, np.ndarray)
                else np.full(cust.size, value, dtype=dtype)
            )
            self.parts.setdefault(name, []).append(column)

    def build(self) -> dict[str, np.ndarray]:
        cols = {k: np.concatenate(v) for k, v in self.parts.items()}
        order = np.lexsort((cols["day"], cols["cust"]))
        return {k: v[order] for k, v in cols.items()}


@dataclass
class DemoPlan:
    """Every row to write, as columns; customers are numbered 0..n-1 by first sight."""

    customers: dict[str, list[Any]]
    currency: np.ndarray
    owner_slot: np.ndarray  # index into STAFF, -1 for no owner
    interactions: dict[str, np.ndarray]


@dataclass
class _Base:
    """What is drawn per customer before their history."""

    n: int
    first_seen: np.ndarray  # days after START
    currency: np.ndarray
    b2b: np.ndarray
    newsletter: np.ndarray


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


def _orders(
    rng: np.random.Generator,
    base: _Base,
    p_cust: np.ndarray,
    p_day: np.ndarray,
    out: _Interactions,
) -> np.ndarray:
    """Add purchases, refunds and reviews; return each net revenue in cents."""
    level = rng.lognormal(np.log(38), 0.85, base.n) * np.where(base.b2b, 3.5, 1.0)
    festive = np.where(np.isin(_month(p_day), (10, 11)), 1.15, 1.0)
    noise = rng.lognormal(0, 0.45, p_cust.size)
    cents = np.maximum(100, np.round(100 * level[p_cust] * noise * festive))
    cents = cents.astype("int64")
    channel = np.where(
        base.b2b[p_cust],
        _pick(rng, ("web", "phone", "email"), (0.5, 0.3, 0.2), p_cust.size),
        _pick(rng, ("web", "store", "phone"), (0.62, 0.33, 0.05), p_cust.size),
    )
    number = np.empty(p_cust.size, dtype="int64")
    number[np.argsort(p_day, kind="stable")] = np.arange(p_cust.size) + 100_001
    orders = np.array([f"order #{k}" for k in number.tolist()], dtype=object)
    out.add(
        p_cust,
        p_day,
        kind="purchase",
        channel=channel,
        direction="inbound",
        visibility="shared",
        subject="Your " + orders,
        amount=cents,
    )

    r = np.flatnonzero(rng.random(p_cust.size) < 0.05)
    r_day = p_day[r] + 2 + rng.exponential(10, r.size)
    r, r_day = r[r_day < HISTORY_DAYS], r_day[r_day < HISTORY_DAYS]
    partial = rng.random(r.size) < 0.35
    share = np.where(partial, rng.uniform(0.2, 0.8, r.size), 1.0)
    r_cents = np.maximum(100, np.round(cents[r] * share)).astype("int64")
    out.add(
        p_cust[r],
        r_day,
        kind="refund",
        channel=np.where(channel[r] == "store", "store", "email"),
        direction="inbound",
        visibility="shared",
        subject="Refund for " + orders[r],
        body=np.where(partial, "Partial refund: item returned.", "Order returned."),
        amount=r_cents,
    )

    f = np.flatnonzero(rng.random(p_cust.size) < 0.08)
    f_day = p_day[f] + 1 + rng.exponential(5, f.size)
    f, f_day = f[f_day < HISTORY_DAYS], f_day[f_day < HISTORY_DAYS]
    rating, sentiment = _rating_sentiment(rng, f.size)
    mood = np.select([rating >= 8, rating >= 5], ["good", "mixed"], "bad")
    says = [
        FEEDBACK[m][k] for m, k in zip(mood, rng.integers(0, 3, f.size), strict=True)
    ]
    out.add(
        p_cust[f],
        f_day,
        kind="feedback",
        channel=_pick(rng, ("web", "email"), (0.7, 0.3), f.size),
        direction="inbound",
        visibility="shared",
        subject="Review of " + orders[f],
        body=np.array(says, dtype=object),
        rating=rating,
        sentiment=sentiment,
    )
    n = base.n
    return np.bincount(p_cust, cents, n) - np.bincount(p_cust[r], r_cents, n)


def _visits(
    rng: np.random.Generator,
    base: _Base,
    purchases: np.ndarray,
    active_end: np.ndarray,
    out: _Interactions,
) -> np.ndarray:
    """Add web and store visits; return who visited in the last 90 days."""
    counts = rng.poisson(1.2 + 0.6 * purchases)
    cust, day = _between(rng, base.first_seen, active_end, counts)
    store = rng.random(cust.size) < 0.2
    sections = np.array([f"Browsed {s}" for s in WEB_SECTIONS], dtype=object)
    browsed = sections[rng.integers(0, sections.size, cust.size)]
    out.add(
        cust,
        day,
        kind="visit",
        channel=np.where(store, "store", "web"),
        direction="inbound",
        subject=np.where(store, "Store visit", browsed),
    )
    lately = np.zeros(base.n, dtype=bool)
    lately[cust[day >= HISTORY_DAYS - 90]] = True
    return lately


def _support(
    rng: np.random.Generator,
    base: _Base,
    purchases: np.ndarray,
    active_end: np.ndarray,
    out: _Interactions,
) -> None:
    contacts = (0.08 + 0.12 * purchases) * np.where(base.b2b, 1.5, 1.0)
    cust, day = _between(rng, base.first_seen, active_end, rng.poisson(contacts))
    size = cust.size
    channel = _pick(rng, ("phone", "email", "chat"), (0.35, 0.4, 0.25), size)
    topic = rng.integers(0, len(SUPPORT), size)
    rating, sentiment = _rating_sentiment(rng, size)
    cost = np.select([channel == "phone", channel == "email"], [7.5, 3.0], 2.0)
    cost = np.round(100 * cost * rng.lognormal(0, 0.5, size)).astype("int64")
    out.add(
        cust,
        day,
        kind="support",
        channel=channel,
        direction="inbound",
        subject=np.array([SUPPORT[k][0] for k in topic], dtype=object),
        body=np.array([SUPPORT[k][1] for k in topic], dtype=object),
        cost=np.maximum(cost, 1),
        rating=np.where(rng.random(size) < 0.4, rating, -1),
        sentiment=np.where(rng.random(size) < 0.65, sentiment, np.nan),
    )


def _campaigns_and_notes(
    rng: np.random.Generator, base: _Base, vip: np.ndarray, out: _Interactions
) -> None:
    sends = 10 + np.arange(HISTORY_DAYS // 30) * 30.4 + 8 / 24  # monthly, 08:00 UTC
    titles = [CAMPAIGNS[d.month - 1].format(year=d.year) for d in _datetimes(sends)]
    gets = (sends[None, :] > base.first_seen[:, None]) & base.newsletter[:, None]
    cust, k = np.nonzero(gets & (rng.random(gets.shape) < 0.75))
    out.add(
        cust,
        sends[k],
        kind="campaign",
        channel="email",
        direction="outbound",
        subject=np.array(titles, dtype=object)[k],
    )
    counts = rng.poisson(0.1 + base.b2b + vip)  # account managers write more
    end = np.full(base.n, float(HISTORY_DAYS))
    cust, day = _between(rng, base.first_seen, end, counts)
    notes = np.array(NOTES, dtype=object)[rng.integers(0, len(NOTES), cust.size)]
    out.add(cust, day, kind="note", channel="other", direction="outbound", body=notes)


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


def _money(cents: np.ndarray) -> list[Decimal | None]:
    return [None if c < 0 else Decimal(c).scaleb(-2) for c in cents.tolist()]


def _customer_rows(
    plan: DemoPlan,
    lo: int,
    hi: int,
    ids: np.ndarray,
    owners: list[int | None],
    *,
    json_text: bool,
) -> list[tuple[Any, ...]]:
    c = {k: v[lo:hi] for k, v in plan.customers.items()}

    def doc(value: Any) -> Any:  # asyncpg's COPY takes JSON as text
        return orjson.dumps(value).decode() if json_text else value

    return list(
        zip(
            ids[lo:hi].tolist(),
            *(c[k] for k in CUSTOMER_COLUMNS[1:12]),
            map(doc, c["tags"]),
            map(doc, c["attributes"]),
            [owners[s] for s in plan.owner_slot[lo:hi].tolist()],
            c["search_text"],
            c["created_at"],
            c["updated_at"],
            repeat(1),
            strict=False,  # repeat() is endless
        )
    )


def _interaction_rows(
    plan: DemoPlan, lo: int, hi: int, ids: np.ndarray
) -> list[tuple[Any, ...]]:
    c = {k: v[lo:hi] for k, v in plan.interactions.items()}
    occurred = _datetimes(c["day"])
    money = (c["amount"] >= 0) | (c["cost"] >= 0)
    return list(
        zip(
            ids[c["cust"]].tolist(),
            occurred,
            *(
                c[k].tolist()
                for k in ("channel", "direction", "kind", "subject", "body")
            ),
            _money(c["amount"]),
            list(np.where(money, plan.currency[c["cust"]], None)),
            _money(c["cost"]),
            [None if r < 0 else r for r in c["rating"].tolist()],
            [None if s != s else s for s in c["sentiment"].tolist()],  # NaN: none
            c["visibility"].tolist(),
            repeat(Source.IMPORT.value),
            repeat(ACTOR.ref),
            occurred,
            occurred,
            repeat(1),
            strict=False,  # repeat() is endless
        )
    )


async def _write(
    session: AsyncSession,
    database: Database,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> None:
    if not rows:
        return
    if database.sqlite:
        await session.execute(
            insert(table), [dict(zip(columns, row, strict=True)) for row in rows]
        )
        return
    # COPY is several times faster than executemany. It joins the session's
    # transaction, which the statements before it on this connection began.
    connection = (
        await (await session.connection()).get_raw_connection()
    ).driver_connection
    assert connection is not None
    await connection.copy_records_to_table(
        table.name, records=rows, columns=list(columns)
    )


_DEFERRABLE = """
SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY(CAST(:tables AS regclass[]))
  AND NOT i.indisprimary AND NOT i.indisunique
UNION ALL
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
              pg_get_constraintdef(c.oid))
FROM pg_constraint c
WHERE c.conrelid = ANY(CAST(:tables AS regclass[])) AND c.contype = 'f'
"""


@asynccontextmanager
async def _indexes_rebuilt_after(
    session: AsyncSession, tables: Sequence[str]
) -> AsyncIterator[None]:
    """Drop secondary indexes and foreign keys for a bulk load; rebuild them after.

    Building an index once is several times cheaper than updating it row by row
    (pg_restore loads the same way): 1M interactions load in half the time. The
    definitions are read from the catalog, so later migrations are honoured, and
    DDL is transactional: if the load fails, the rollback restores them.
    """
    found = (await session.execute(text(_DEFERRABLE), {"tables": list(tables)})).all()
    connection = await session.connection()  # DDL verbatim: no bind-parameter parsing
    for drop, _ in found:
        await connection.exec_driver_sql(drop)
    yield
    await connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    for _, create in found:
        await connection.exec_driver_sql(create)


async def _reserve_ids(session: AsyncSession, database: Database, n: int) -> np.ndarray:
    """Ids for the customers about to be written, so interactions can cite them."""
    if database.sqlite:  # the writer's BEGIN IMMEDIATE holds the lock: max+1 is ours
        top = await session.scalar(select(func.coalesce(func.max(col(Customer.id)), 0)))
        return np.arange(n, dtype="int64") + int(top or 0) + 1
    # Drawn from the sequence, so it stays right and concurrent inserts are safe.
    drawn = await session.scalars(
        text(
            "SELECT nextval(pg_get_serial_sequence('customer', 'id')) "
            "FROM generate_series(1, :n)"
        ),
        {"n": n},
    )
    return np.array(drawn.all(), dtype="int64")


async def _refuse_twice(session: AsyncSession) -> None:
    found = await session.scalar(
        select(col(Customer.id)).where(col(Customer.external_ref) == "demo-0")
    )
    if found is not None:
        raise Conflict("demo data already present")


async def _bulk_loadable(session: AsyncSession) -> bool:
    """Empty tables we own: rebuilding their indexes is cheap and hides no data."""
    for model in (Customer, Interaction):
        if await session.scalar(select(col(model.id)).limit(1)) is not None:
            return False
    owned = await session.scalar(
        text(
            "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class "
            "WHERE oid IN ('customer'::regclass, 'interaction'::regclass)"
        )
    )
    return bool(owned)


async def _ensure_staff(session: AsyncSession) -> tuple[int, list[int | None]]:
    """(members created, id per STAFF slot); members with those emails are reused."""
    found = await session.scalars(
        select(StaffMember).where(col(StaffMember.email_key).in_([s[0] for s in STAFF]))
    )
    by_email = {member.email_key: member for member in found}
    created, ids = 0, []
    for email, name, role in STAFF:
        member = by_email.get(email)
        if member is None:  # created through the service: new accounts are audited
            member = await staff_service.create_staff(
                session, ACTOR, email=email, display_name=name, role=role, password=None
            )
            created += 1
        ids.append(member.id if member.archived_at is None else None)
    return created, ids


async def seed_demo(
    database: Database,
    *,
    customers: int = 500,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Write a demo customer base; Conflict if demo customers are already there.

    `progress` gets the number of customers written so far. Into empty tables on
    PostgreSQL the load defers index maintenance, which holds an exclusive lock on
    the customer and interaction tables until it commits.
    """
    if customers < 1:
        raise BadInput("customers must be at least 1.", field="customers")
    started = time.perf_counter()
    async with database.transaction(write=False) as session:
        await _refuse_twice(session)  # before the work, not after it
    plan = plan_demo(customers, seed)
    cust_of = plan.interactions["cust"]
    tables = metadata.tables["customer"], metadata.tables["interaction"]
    async with database.transaction() as session:
        await _refuse_twice(session)
        created, staff_ids = await _ensure_staff(session)
        owners = [*staff_ids, None]  # slot -1 is nobody
        ids = await _reserve_ids(session, database, customers)
        bulk = not database.sqlite and await _bulk_loadable(session)
        deferred = (
            _indexes_rebuilt_after(session, [t.name for t in tables])
            if bulk
            else nullcontext()
        )
        async with deferred:
            for lo in range(0, customers, CHUNK):
                hi = min(lo + CHUNK, customers)
                rows = _customer_rows(
                    plan, lo, hi, ids, owners, json_text=not database.sqlite
                )
                await _write(session, database, tables[0], CUSTOMER_COLUMNS, rows)
                first, last = np.searchsorted(cust_of, (lo, hi)).tolist()
                rows = _interaction_rows(plan, first, last, ids)
                await _write(session, database, tables[1], INTERACTION_COLUMNS, rows)
                if progress is not None:
                    progress(hi)
        if not database.sqlite:  # fresh statistics, so the first queries plan well
            await session.execute(text("ANALYZE customer, interaction"))
        summary = {"customers": customers, "interactions": int(cust_of.size)}
        await events.record(
            session,
            ACTOR,
            action="demo.seeded",
            entity_type="Demo",
            entity_id=0,
            changes=events.diff({}, {**summary, "seed": seed, "staff": created}),
        )
    return DemoSummary(
        customers=customers,
        interactions=int(cust_of.size),
        staff=created,
        seconds=time.perf_counter() - started,
    )
