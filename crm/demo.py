"""Demo data: a deterministic, realistic customer base to try Mutual on.

Purchases follow a BG/NBD-like story: each buyer has a gamma-distributed purchase
rate and, after every purchase, drops out for good with a beta-distributed
probability, so some customers keep buying and others stop. November and December
sell more (thinning of the purchase process), spend per customer is lognormal,
and refunds, support contacts, campaigns, visits, feedback and notes surround it.
Everything is drawn with numpy from one seed and written in bulk: COPY on
PostgreSQL, executemany on SQLite, in one transaction, so a failed seed leaves
nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import repeat
from typing import Any, cast

import numpy as np
import orjson
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm import events
from crm.actors import SystemActor
from crm.customers.models import Customer, LifecycleStage
from crm.customers.service import derive
from crm.db import Database
from crm.errors import Conflict
from crm.interactions.models import Interaction
from crm.staff import service as staff_service
from crm.staff.models import StaffMember
from crm.validation import fold

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
HISTORY_DAYS = 730
START = ANCHOR - timedelta(days=HISTORY_DAYS)
RECENT_DAYS = 180  # a buyer with no purchase for this long has churned
ACTOR = SystemActor(name="demo")
CHUNK = 10_000  # customers written (with their interactions) per round

_START64 = np.datetime64(START.replace(tzinfo=None), "s")
# Relative purchase intensity by month, January first.
SEASON = np.array([0.85, 0.8, 0.9, 0.95, 1.0, 0.95, 0.9, 0.9, 1.0, 1.05, 1.55, 1.9])

STAFF = (
    ("admin@mutual.example", "Admin", "admin"),
    ("manager@mutual.example", "Morgan Lee", "manager"),
    ("agent1@mutual.example", "Sam Rivera", "agent"),
    ("agent2@mutual.example", "Priya Shah", "agent"),
    ("analyst@mutual.example", "Kim Novak", "analyst"),
)
_OWNER_SLOTS = (1, 2, 3)  # manager and agents own accounts
_OWNER_WEIGHTS = (0.2, 0.4, 0.4)


@dataclass(frozen=True)
class _Locale:
    code: str
    weight: float
    currency: str
    dial: str
    zones: tuple[str, ...]
    given: tuple[str, ...]
    family: tuple[str, ...]
    suffix: str


def _locale(code: str, weight: float, currency: str, dial: str, zones: str,
            given: str, family: str, suffix: str) -> _Locale:  # fmt: skip
    return _Locale(code, weight, currency, dial, tuple(zones.split(",")),
                   tuple(given.split(",")), tuple(family.split(",")), suffix)  # fmt: skip


LOCALES = (
    _locale("de-DE", 0.17, "EUR", "49", "Europe/Berlin",
            "Lukas,Hannah,Jürgen,Sophie,Maximilian,Lena,Jörg,Anja,Felix,Marie",
            "Müller,Schmidt,Schäfer,Weiß,Groß,Becker,Hoffmann,Köhler,Wagner,Koch",
            "GmbH"),
    _locale("fr-FR", 0.13, "EUR", "33", "Europe/Paris",
            "Léa,Chloé,Hélène,François,Gaëlle,Zoé,Mathéo,Camille,Julien,Noémie",
            "Dubois,Lefèvre,Girard,Moreau,Laurent,Bernard,Fournier,Rousseau,"
            "Mercier,Faure", "SARL"),
    _locale("es-ES", 0.10, "EUR", "34", "Europe/Madrid,Atlantic/Canary",
            "José,María,Sofía,Álvaro,Iñigo,Lucía,Javier,Carmen,Raúl,Begoña",
            "García,Martínez,Núñez,Fernández,Pérez,López,Sánchez,Gómez,Ibáñez,"
            "Ruiz", "S.L."),
    _locale("it-IT", 0.08, "EUR", "39", "Europe/Rome",
            "Giulia,Francesco,Niccolò,Chiara,Lorenzo,Martina,Matteo,Alessia,"
            "Andrea,Federica",
            "Rossi,Russo,Esposito,Bianchi,Romano,Colombo,Ricci,Marino,Greco,"
            "Bruno", "S.r.l."),
    _locale("nl-NL", 0.08, "EUR", "31", "Europe/Amsterdam",
            "Daan,Sanne,Bram,Zoë,Anouk,Sem,Fleur,Jeroen,Lotte,Thijs",
            "de Vries,Jansen,van Dijk,Bakker,Visser,Smit,de Jong,Mulder,Bos,"
            "van den Berg", "B.V."),
    _locale("pl-PL", 0.06, "EUR", "48", "Europe/Warsaw",
            "Łukasz,Agnieszka,Małgorzata,Paweł,Katarzyna,Michał,Zofia,Piotr,"
            "Joanna,Wojciech",
            "Kowalski,Wiśniewski,Wójcik,Zieliński,Nowak,Lewandowski,Kamiński,"
            "Dąbrowski,Szymański,Woźniak", "Sp. z o.o."),
    _locale("pt-PT", 0.04, "EUR", "351", "Europe/Lisbon,Atlantic/Azores",
            "João,Inês,Tomás,Beatriz,Gonçalo,Leonor,Rodrigo,Mariana,Duarte,Matilde",
            "Silva,Santos,Gonçalves,Conceição,Ferreira,Pereira,Costa,Sousa,"
            "Rodrigues,Simões", "Lda."),
    _locale("sv-SE", 0.04, "EUR", "46", "Europe/Stockholm",
            "Åsa,Björn,Linnéa,Oskar,Elsa,Måns,Ingrid,Göran,Saga,Erik",
            "Andersson,Johansson,Lindström,Öberg,Karlsson,Nilsson,Ström,Åkesson,"
            "Berg,Holm", "AB"),
    _locale("da-DK", 0.04, "EUR", "45", "Europe/Copenhagen",
            "Søren,Mette,Frederik,Ida,Rasmus,Astrid,Jens,Freja,Mads,Signe",
            "Nørgaard,Jørgensen,Hansen,Nielsen,Sørensen,Christensen,Møller,Larsen,"
            "Kjær,Thomsen", "ApS"),
    _locale("en-GB", 0.14, "GBP", "44", "Europe/London,Europe/Dublin",
            "Oliver,Amelia,Harry,Isla,George,Siobhán,Noah,Olivia,Jack,Zoë",
            "Smith,Jones,Taylor,Brown,O'Brien,Evans,Thomas,Roberts,Walker,"
            "McAllister", "Ltd"),
    _locale("en-US", 0.12, "USD", "1",
            "America/New_York,America/Chicago,America/Denver,America/Los_Angeles",
            "James,Mary,Michael,Jennifer,Renée,David,Ashley,Andre,Emily,Daniel",
            "Johnson,Williams,Miller,Davis,Rodriguez,Nguyen,Anderson,Jackson,"
            "Harris,Clark", "Inc."),
)  # fmt: skip
_FX_TO_EUR = {"EUR": 1.0, "GBP": 1.17, "USD": 0.92}
_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example")
_EMAIL_FORMATS = ("{g}.{f}", "{g}{f}", "{i}{f}", "{g}_{f}", "{f}.{g}", "{g}.{f}{y}")
_COMPANY_WORDS = "Atlas,Nordwind,Bluebird,Kestrel,Lumen,Orbit,Cedar,Harbor,Vega,Quartz"
_COMPANY_KINDS = "Logistics,Studio,Trading,Systems,Foods,Design,Partners,Retail,Labs"
_ACQUISITION = ("organic_search", "paid_search", "social", "referral", "email",
                "store", "partner")  # fmt: skip
_INDUSTRIES = ("retail", "hospitality", "manufacturing", "services", "education")
_WEB_SECTIONS = ("new arrivals", "winter jackets", "running shoes", "home & living",
                 "gift cards", "sale items", "accessories")  # fmt: skip
_SUPPORT = (
    ("Where is my parcel?", "Tracking link resent; parcel is with the courier."),
    ("Item arrived damaged", "Photos received; replacement dispatched."),
    ("Wrong size delivered", "Exchange arranged with a prepaid label."),
    ("Invoice request", "VAT invoice sent by email."),
    ("Cannot sign in", "Password reset link sent; customer confirmed access."),
    ("Question about a product", "Explained sizing and materials."),
    ("Change delivery address", "Address updated before dispatch."),
    ("Refund status", "Refund confirmed; 3-5 working days to appear."),
)
_NOTES = (
    "Prefers to be contacted by email.",
    "Interested in the loyalty programme.",
    "Asked for a quote for a bulk order.",
    "Birthday in spring; consider a voucher.",
    "Had a poor delivery experience last year; handle with care.",
    "Call back after the holidays.",
)
_FEEDBACK = {
    "good": ("Great quality, fast delivery.", "Love it, will order again.",
             "Exactly as described."),
    "mixed": ("Fine, but delivery took a while.", "Good product, packaging could"
              " be better.", "Okay overall."),
    "bad": ("Not what I expected.", "Arrived late and the box was damaged.",
            "Quality has gone down."),
}  # fmt: skip
_CAMPAIGNS = ("New year, new favourites", "Winter sale: last chance",
              "Spring collection is here", "Easter treats", "May days: 15% off",
              "Summer essentials", "Holiday packing list", "Back to routine",
              "Autumn edit", "Members' weekend", "Black Friday early access",
              "Gift guide {year}")  # fmt: skip


@dataclass
class DemoSummary:
    customers: int
    interactions: int
    staff: int
    seconds: float


class _Draft:
    """The fields `derive` reads and writes, without a mapped instance's cost."""

    def __init__(self, given: str, family: str, email: str, company: str | None):
        self.given_name, self.family_name = given, family
        self.email, self.company = email, company
        self.display_name, self.phone = "", None
        self.email_key: str | None = None
        self.search_text = ""


def _ascii(name: str) -> str:
    folded = fold(name).translate(str.maketrans({"ł": "l", "ø": "o", "æ": "ae"}))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


def _month(days: np.ndarray) -> np.ndarray:
    stamps = _START64 + (days * 86400).astype("int64").astype("timedelta64[s]")
    return stamps.astype("datetime64[M]").astype("int64") % 12


def _datetimes(days: np.ndarray) -> list[datetime]:
    stamps = _START64 + np.round(days * 86400).astype("int64").astype("timedelta64[s]")
    return [d.replace(tzinfo=UTC) for d in stamps.tolist()]


def _pick(rng: np.random.Generator, options: Sequence[Any], p: Sequence[float],
          size: int) -> np.ndarray:  # fmt: skip
    return np.array(options, dtype=object)[rng.choice(len(options), size, p=p)]


def _rating_sentiment(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    rating = np.round(10 * rng.beta(4.0, 1.6, n)).astype("int64")
    sentiment = np.clip((rating - 5) / 6.25 + rng.normal(0, 0.2, n), -1, 1)
    return rating, np.round(sentiment, 2)


def _purchases(rng: np.random.Generator, first_seen: np.ndarray,
               buyer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(customer, day) of every purchase: BG/NBD with seasonal thinning."""
    n = first_seen.size
    rate = rng.gamma(0.9, 3.2, n) / 365 * SEASON.max()  # candidates per day
    dropout = rng.beta(1.3, 5.0, n)
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
        dropped = bought & (rng.random(idx.size) < dropout[idx])
        idx, t = idx[inside & ~dropped], t[inside & ~dropped]
    return np.concatenate(customers), np.concatenate(days)


class _Interactions:
    """Columns of interactions, gathered kind by kind, then sorted by customer."""

    NAMES = ("cust", "day", "kind", "channel", "direction", "visibility", "subject",
             "body", "amount", "cost", "rating", "sentiment")  # fmt: skip
    DEFAULTS = {"subject": None, "body": None, "amount": -1, "cost": -1,
                "rating": -1, "sentiment": np.nan}  # fmt: skip

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in self.NAMES}

    def add(self, cust: np.ndarray, day: np.ndarray, **columns: Any) -> None:
        columns = {**self.DEFAULTS, **columns, "cust": cust, "day": day}
        for name in self.NAMES:
            value = columns[name]
            if not isinstance(value, np.ndarray):
                value = np.full(cust.size, value, dtype=object)
            self.parts[name].append(value)

    def build(self) -> dict[str, np.ndarray]:
        cols = {k: np.concatenate(v) for k, v in self.parts.items()}
        order = np.lexsort((cols["day"], cols["cust"]))
        return {k: v[order] for k, v in cols.items()}


@dataclass
class _Plan:
    customers: dict[str, list[Any]]
    owner_slot: np.ndarray
    interactions: dict[str, np.ndarray]


def _uniform_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray,
                     counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    cust = np.repeat(np.arange(counts.size), counts)
    return cust, lo[cust] + rng.random(cust.size) * (hi[cust] - lo[cust])


def plan_demo(n: int, seed: int) -> _Plan:
    """Draw every customer and interaction; the same (n, seed) gives the same plan."""
    rng = np.random.default_rng(seed)
    first_seen = np.sort(HISTORY_DAYS * rng.random(n) ** 0.8)  # a growing business
    loc = rng.choice(len(LOCALES), n, p=[x.weight for x in LOCALES])
    currency = np.array([x.currency for x in LOCALES], dtype=object)[loc]
    b2b = rng.random(n) < 0.12
    newsletter = rng.random(n) < 0.55
    buyer = rng.random(n) < 0.8

    p_cust, p_day = _purchases(rng, first_seen, buyer)
    purchases = np.bincount(p_cust, minlength=n)
    level = rng.lognormal(np.log(38), 0.85, n) * np.where(b2b, 3.5, 1.0)
    festive = np.isin(_month(p_day), (10, 11))
    p_cents = np.maximum(100, np.round(100 * level[p_cust] * rng.lognormal(
        0, 0.45, p_cust.size) * np.where(festive, 1.15, 1.0))).astype("int64")  # fmt: skip
    p_channel = np.where(b2b[p_cust], _pick(rng, ("web", "phone", "email"),
        (0.5, 0.3, 0.2), p_cust.size), _pick(rng, ("web", "store", "phone"),
        (0.62, 0.33, 0.05), p_cust.size))  # fmt: skip
    order_no = np.empty(p_cust.size, dtype="int64")
    order_no[np.argsort(p_day, kind="stable")] = np.arange(p_cust.size) + 100_001
    orders = np.array([f"#{k}" for k in order_no.tolist()], dtype=object)

    out = _Interactions()
    out.add(p_cust, p_day, kind="purchase", channel=p_channel, direction="inbound",
            visibility="shared", subject="Order " + orders, amount=p_cents)  # fmt: skip

    r = np.flatnonzero(rng.random(p_cust.size) < 0.05)
    r_day = p_day[r] + 2 + rng.exponential(10, r.size)
    r = r[r_day < HISTORY_DAYS]
    r_day = r_day[r_day < HISTORY_DAYS]
    partial = rng.random(r.size) < 0.35
    r_cents = np.where(partial, np.maximum(100, p_cents[r] * rng.uniform(
        0.2, 0.8, r.size)).astype("int64"), p_cents[r])  # fmt: skip
    out.add(p_cust[r], r_day, kind="refund", direction="inbound",
            channel=np.where(p_channel[r] == "store", "store", "email"),
            visibility="shared", subject="Refund for order " + orders[r],
            amount=r_cents, body=np.where(partial, "Partial refund: item returned.",
            "Full refund: order returned."))  # fmt: skip

    fx = np.vectorize(_FX_TO_EUR.__getitem__, otypes=[float])(currency)
    revenue = np.bincount(p_cust, p_cents, n) - np.bincount(p_cust[r], r_cents, n)
    revenue_eur = revenue * fx
    vip = revenue_eur >= max(1.0, np.quantile(revenue_eur, 0.97))
    last_buy = np.full(n, -1.0)
    np.maximum.at(last_buy, p_cust, p_day)
    recent = last_buy >= HISTORY_DAYS - RECENT_DAYS
    # Activity winds down after a churned buyer's last purchase.
    active_end = np.where((purchases > 0) & ~recent,
                          np.minimum(last_buy + 60, HISTORY_DAYS), HISTORY_DAYS)  # fmt: skip

    v_cust, v_day = _uniform_between(rng, first_seen, active_end,
                                     rng.poisson(0.8 + 0.45 * purchases))  # fmt: skip
    v_store = rng.random(v_cust.size) < 0.2
    sections = np.array([f"Browsed {s}" for s in _WEB_SECTIONS], dtype=object)
    out.add(v_cust, v_day, kind="visit", direction="inbound",
            channel=np.where(v_store, "store", "web"),
            subject=np.where(v_store, "Store visit",
                             sections[rng.integers(0, sections.size, v_cust.size)]))  # fmt: skip

    s_cust, s_day = _uniform_between(rng, first_seen, active_end, rng.poisson(
        (0.08 + 0.12 * purchases) * np.where(b2b, 1.5, 1.0)))  # fmt: skip
    s_channel = _pick(rng, ("phone", "email", "chat"), (0.35, 0.4, 0.25), s_cust.size)
    s_topic = rng.integers(0, len(_SUPPORT), s_cust.size)
    s_rating, s_sentiment = _rating_sentiment(rng, s_cust.size)
    base_cost = np.select([s_channel == "phone", s_channel == "email"], [7.5, 3.0], 2.0)
    out.add(s_cust, s_day, kind="support", channel=s_channel, direction="inbound",
            subject=np.array([_SUPPORT[k][0] for k in s_topic], dtype=object),
            body=np.array([_SUPPORT[k][1] for k in s_topic], dtype=object),
            cost=np.round(100 * base_cost * rng.lognormal(0, 0.5, s_cust.size)),
            rating=np.where(rng.random(s_cust.size) < 0.4, s_rating, -1),
            sentiment=np.where(rng.random(s_cust.size) < 0.65, s_sentiment, np.nan))  # fmt: skip

    f = np.flatnonzero(rng.random(p_cust.size) < 0.08)
    f_day = p_day[f] + 1 + rng.exponential(5, f.size)
    f, f_day = f[f_day < HISTORY_DAYS], f_day[f_day < HISTORY_DAYS]
    f_rating, f_sentiment = _rating_sentiment(rng, f.size)
    mood = np.select([f_rating >= 8, f_rating >= 5], ["good", "mixed"], "bad")
    pick = rng.integers(0, 3, f.size)
    out.add(p_cust[f], f_day, kind="feedback", direction="inbound",
            channel=_pick(rng, ("web", "email"), (0.7, 0.3), f.size),
            visibility="shared", subject="Review of order " + orders[f],
            body=np.array([_FEEDBACK[m][k] for m, k in zip(mood, pick, strict=True)],
                          dtype=object), rating=f_rating, sentiment=f_sentiment)  # fmt: skip

    sends = 10 + np.arange(HISTORY_DAYS // 30) * 30.4 + 8 / 24  # monthly, 08:00 UTC
    titles = [_CAMPAIGNS[m].format(year=y) for m, y in zip(_month(sends), (
        START + timedelta(days=float(d)) for d in sends), strict=True) for y in [y.year]]  # fmt: skip
    gets = (sends[None, :] > first_seen[:, None]) & newsletter[:, None]
    c_cust, c_k = np.nonzero(gets & (rng.random(gets.shape) < 0.6))
    out.add(c_cust, sends[c_k], kind="campaign", channel="email", direction="outbound",
            subject=np.array(titles, dtype=object)[c_k])  # fmt: skip

    n_cust, n_day = _uniform_between(rng, first_seen, np.full(n, HISTORY_DAYS * 1.0),
                                     rng.poisson(0.1 + 0.6 * b2b + 0.8 * vip))  # fmt: skip
    out.add(n_cust, n_day, kind="note", channel="other", direction="outbound",
            body=np.array(_NOTES, dtype=object)[rng.integers(0, len(_NOTES),
                                                             n_cust.size)])  # fmt: skip
    interactions = out.build()

    visited = np.zeros(n, dtype=bool)
    visited[v_cust[v_day >= HISTORY_DAYS - 90]] = True
    stage = np.select(
        [purchases == 0, recent],
        [np.where(visited, LifecycleStage.PROSPECT.value, LifecycleStage.LEAD.value),
         LifecycleStage.ACTIVE.value],
        LifecycleStage.CHURNED.value,
    )  # fmt: skip
    last_money = np.maximum(first_seen, last_buy)
    np.maximum.at(last_money, p_cust[r], r_day)
    owner_slot = np.where(
        rng.random(n) < np.select([b2b, vip], [0.9, 0.8], 0.05),
        rng.choice(_OWNER_SLOTS, n, p=_OWNER_WEIGHTS), -1)  # fmt: skip
    customers = _customer_columns(rng, n, loc, b2b, newsletter, vip, purchases)
    customers.update(
        currency=currency.tolist(),
        lifecycle_stage=stage.tolist(),
        created_at=_datetimes(first_seen),
        updated_at=_datetimes(last_money),
    )
    return _Plan(customers, owner_slot, interactions)


def _customer_columns(rng: np.random.Generator, n: int, loc: np.ndarray,
                      b2b: np.ndarray, newsletter: np.ndarray, vip: np.ndarray,
                      purchases: np.ndarray) -> dict[str, list[Any]]:  # fmt: skip
    given_i, family_i = rng.integers(0, 10, n), rng.integers(0, 10, n)
    zone_u, fmt_i, dom_i = rng.random(n), rng.integers(0, 6, n), rng.integers(0, 5, n)
    year = rng.integers(60, 100, n) % 100
    shouty = rng.random(n) < 0.04
    has_phone = rng.random(n) < 0.78
    phone_a, phone_b = rng.integers(100, 1000, n), rng.integers(1_000_000, 9_999_999, n)
    words, kinds = _COMPANY_WORDS.split(","), _COMPANY_KINDS.split(",")
    word_i, kind_i = rng.integers(0, len(words), n), rng.integers(0, len(kinds), n)
    acquisition = rng.integers(0, len(_ACQUISITION), n)
    industry = rng.integers(0, len(_INDUSTRIES), n)
    cols: dict[str, list[Any]] = {k: [] for k in (
        "external_ref", "email", "email_key", "phone", "given_name", "family_name",
        "display_name", "company", "locale", "time_zone", "tags", "attributes",
        "search_text")}  # fmt: skip
    taken: set[str] = set()
    for i in range(n):
        lo = LOCALES[loc[i]]
        given, family = lo.given[given_i[i]], lo.family[family_i[i]]
        g, f = _ascii(given), _ascii(family)
        company = domain = None
        if b2b[i]:
            company = f"{words[word_i[i]]} {kinds[kind_i[i]]} {lo.suffix}"
            domain = f"{words[word_i[i]]}-{kinds[kind_i[i]]}.example".lower()
        local = (_EMAIL_FORMATS[0] if domain else _EMAIL_FORMATS[fmt_i[i]]).format(
            g=g, f=f, i=g[:1], y=f"{year[i]:02d}")  # fmt: skip
        candidate, k = local, 1
        while (email := f"{candidate}@{domain or _DOMAINS[dom_i[i]]}") in taken:
            k += 1
            candidate = f"{local}{k}"
        taken.add(email)
        if shouty[i]:
            email = email.title()
        draft = _Draft(given, family, email, company)
        derive(cast(Customer, draft))  # the service's own rules, on a cheap object
        tags = [t for t, on in (("vip", vip[i]), ("newsletter", newsletter[i]),
                ("b2b", b2b[i]), ("repeat", purchases[i] >= 5)) if on]  # fmt: skip
        attributes: dict[str, Any] = {
            "acquisition_channel": _ACQUISITION[acquisition[i]]
        }
        if b2b[i]:
            attributes["industry"] = _INDUSTRIES[industry[i]]
        for name, value in (
            ("external_ref", f"demo-{i}"), ("email", email),
            ("email_key", draft.email_key), ("given_name", given),
            ("family_name", family), ("display_name", draft.display_name),
            ("company", company), ("locale", lo.code),
            ("time_zone", lo.zones[int(zone_u[i] * len(lo.zones))]),
            ("phone", f"+{lo.dial} {phone_a[i]} {phone_b[i]}" if has_phone[i] else None),
            ("tags", tags), ("attributes", attributes),
            ("search_text", draft.search_text),
        ):  # fmt: skip
            cols[name].append(value)
    return cols
