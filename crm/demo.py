"""Demo data: a deterministic, realistic customer base to try Mutual on.

Purchases follow a BG/NBD-like story: each buyer has a gamma-distributed purchase
rate and, after every purchase, drops out for good with a beta-distributed
probability, so some customers keep buying and others stop. November and December
sell more (thinning of the purchase process), spend per customer is lognormal,
and refunds, support contacts, campaigns, visits, feedback and notes surround it.
Everything is drawn with numpy from one seed and written in bulk (COPY on
PostgreSQL, executemany on SQLite) in one transaction, so a failed seed leaves
nothing behind and a second seed is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import repeat
from typing import Any, NamedTuple, cast

import numpy as np
import orjson
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm import events
from crm.actors import SystemActor
from crm.customers.models import Customer, LifecycleStage
from crm.customers.service import derive
from crm.db import Database
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
STAFF = (  # email, display name, role; the manager and agents own accounts
    ("admin@mutual.example", "Admin", "admin"),
    ("manager@mutual.example", "Morgan Lee", "manager"),
    ("agent1@mutual.example", "Sam Rivera", "agent"),
    ("agent2@mutual.example", "Priya Shah", "agent"),
    ("analyst@mutual.example", "Kim Novak", "analyst"),
)
OWNER_SLOTS, OWNER_WEIGHTS = (1, 2, 3), (0.2, 0.4, 0.4)
# code | weight | currency | dialling code | time zones | given | family | suffix
_LOCALE_TABLE = """
de-DE|.17|EUR|49|Europe/Berlin|Lukas,Hannah,Jürgen,Sophie,Maximilian,Lena,Jörg,Anja,Felix,Marie|Müller,Schmidt,Schäfer,Weiß,Groß,Becker,Hoffmann,Köhler,Wagner,Koch|GmbH
fr-FR|.13|EUR|33|Europe/Paris|Léa,Chloé,Hélène,François,Gaëlle,Zoé,Mathéo,Camille,Julien,Noémie|Dubois,Lefèvre,Girard,Moreau,Laurent,Bernard,Fournier,Rousseau,Mercier,Faure|SARL
es-ES|.10|EUR|34|Europe/Madrid,Atlantic/Canary|José,María,Sofía,Álvaro,Iñigo,Lucía,Javier,Carmen,Raúl,Begoña|García,Martínez,Núñez,Fernández,Pérez,López,Sánchez,Gómez,Ibáñez,Ruiz|S.L.
it-IT|.08|EUR|39|Europe/Rome|Giulia,Francesco,Niccolò,Chiara,Lorenzo,Martina,Matteo,Alessia,Andrea,Federica|Rossi,Russo,Esposito,Bianchi,Romano,Colombo,Ricci,Marino,Greco,Bruno|S.r.l.
nl-NL|.08|EUR|31|Europe/Amsterdam|Daan,Sanne,Bram,Zoë,Anouk,Sem,Fleur,Jeroen,Lotte,Thijs|de Vries,Jansen,van Dijk,Bakker,Visser,Smit,de Jong,Mulder,Bos,van den Berg|B.V.
pl-PL|.06|EUR|48|Europe/Warsaw|Łukasz,Agnieszka,Małgorzata,Paweł,Katarzyna,Michał,Zofia,Piotr,Joanna,Wojciech|Kowalski,Wiśniewski,Wójcik,Zieliński,Nowak,Lewandowski,Kamiński,Dąbrowski,Szymański,Woźniak|Sp. z o.o.
pt-PT|.04|EUR|351|Europe/Lisbon,Atlantic/Azores|João,Inês,Tomás,Beatriz,Gonçalo,Leonor,Rodrigo,Mariana,Duarte,Matilde|Silva,Santos,Gonçalves,Conceição,Ferreira,Pereira,Costa,Sousa,Rodrigues,Simões|Lda.
sv-SE|.04|EUR|46|Europe/Stockholm|Åsa,Björn,Linnéa,Oskar,Elsa,Måns,Ingrid,Göran,Saga,Erik|Andersson,Johansson,Lindström,Öberg,Karlsson,Nilsson,Ström,Åkesson,Berg,Holm|AB
da-DK|.04|EUR|45|Europe/Copenhagen|Søren,Mette,Frederik,Ida,Rasmus,Astrid,Jens,Freja,Mads,Signe|Nørgaard,Jørgensen,Hansen,Nielsen,Sørensen,Christensen,Møller,Larsen,Kjær,Thomsen|ApS
en-GB|.14|GBP|44|Europe/London,Europe/Dublin|Oliver,Amelia,Harry,Isla,George,Siobhán,Noah,Olivia,Jack,Zoë|Smith,Jones,Taylor,Brown,O'Brien,Evans,Thomas,Roberts,Walker,McAllister|Ltd
en-US|.12|USD|1|America/New_York,America/Chicago,America/Denver,America/Los_Angeles|James,Mary,Michael,Jennifer,Renée,David,Ashley,André,Emily,Daniel|Johnson,Williams,Miller,Davis,Rodriguez,Nguyen,Anderson,Jackson,Harris,Clark|Inc.
"""
FX_TO_EUR = {"EUR": 1.0, "GBP": 1.17, "USD": 0.92}  # only to rank customers
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
SUPPORT = (
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
         "Asked for a quote for a bulk order.", "Birthday in spring; consider a voucher.",
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
    given: tuple[str, ...]
    family: tuple[str, ...]
    suffix: str

    @classmethod
    def parse(cls, row: str) -> Locale:
        code, weight, currency, dial, zones, given, family, suffix = row.split("|")
        return cls(code, float(weight), currency, dial, *(
            tuple(x.split(",")) for x in (zones, given, family)), suffix)  # fmt: skip


LOCALES = tuple(Locale.parse(row) for row in _LOCALE_TABLE.strip().splitlines())


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


def _stamps(days: np.ndarray) -> np.ndarray:
    seconds = np.round(days * 86400).astype("int64")
    return _START64 + seconds.astype("timedelta64[s]")


def _month(days: np.ndarray) -> np.ndarray:
    """0 for January ... 11 for December."""
    return _stamps(days).astype("datetime64[M]").astype("int64") % 12


def _datetimes(days: np.ndarray) -> list[datetime]:
    return [d.replace(tzinfo=UTC) for d in _stamps(days).tolist()]


def _pick(
    rng: np.random.Generator, options: Sequence[str], p: Sequence[float], size: int
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


def _purchases(
    rng: np.random.Generator, first_seen: np.ndarray, buyer: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(customer, day) of every purchase: BG/NBD with seasonal thinning."""
    rate = rng.gamma(0.9, 3.2, first_seen.size) / 365 * SEASON.max()  # per day
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
    """Interaction columns gathered kind by kind, then sorted by customer and time."""

    NUMERIC = {"cust": 0, "day": 0.0, "amount": -1, "cost": -1, "rating": -1}
    TEXT = ("kind", "channel", "direction", "visibility", "subject", "body")

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, cust: np.ndarray, day: np.ndarray, **given: Any) -> None:
        given = {"cust": cust, "day": day, "visibility": "internal", **given}
        given.setdefault("sentiment", np.full(cust.size, np.nan))
        for name in (*self.NUMERIC, "sentiment", *self.TEXT):
            value = given.get(name, self.NUMERIC.get(name))
            if isinstance(value, np.ndarray):
                value = value.astype(object) if name in self.TEXT else value
            else:
                value = np.full(cust.size, value, dtype=object)
                if name in self.NUMERIC:
                    value = value.astype("int64")
            self.parts.setdefault(name, []).append(value)

    def build(self) -> dict[str, np.ndarray]:
        cols = {k: np.concatenate(v) for k, v in self.parts.items()}
        order = np.lexsort((cols["day"], cols["cust"]))
        return {k: v[order] for k, v in cols.items()}


@dataclass
class DemoPlan:
    """Every row to write, as columns; customers are numbered 0..n-1 by first sight."""

    customers: dict[str, list[Any]]
    currency: np.ndarray
    owner_slot: np.ndarray
    interactions: dict[str, np.ndarray]


def plan_demo(n: int, seed: int) -> DemoPlan:
    """Draw every customer and interaction; the same (n, seed) gives the same plan."""
    rng = np.random.default_rng(seed)
    first_seen = np.sort(HISTORY_DAYS * rng.random(n) ** 0.8)  # a growing business
    loc = rng.choice(len(LOCALES), n, p=[x.weight for x in LOCALES])
    currency = np.array([x.currency for x in LOCALES], dtype=object)[loc]
    b2b = rng.random(n) < 0.12
    newsletter = rng.random(n) < 0.55
    p_cust, p_day = _purchases(rng, first_seen, rng.random(n) < 0.8)
    purchases = np.bincount(p_cust, minlength=n)
    out = _Interactions()

    level = rng.lognormal(np.log(38), 0.85, n) * np.where(b2b, 3.5, 1.0)
    festive = np.where(np.isin(_month(p_day), (10, 11)), 1.15, 1.0)
    noise = rng.lognormal(0, 0.45, p_cust.size)
    p_cents = np.maximum(100, np.round(100 * level[p_cust] * noise * festive))
    p_cents = p_cents.astype("int64")
    p_channel = np.where(
        b2b[p_cust],
        _pick(rng, ("web", "phone", "email"), (0.5, 0.3, 0.2), p_cust.size),
        _pick(rng, ("web", "store", "phone"), (0.62, 0.33, 0.05), p_cust.size),
    )
    order_no = np.empty(p_cust.size, dtype="int64")
    order_no[np.argsort(p_day, kind="stable")] = np.arange(p_cust.size) + 100_001
    orders = np.array([f"#{k}" for k in order_no.tolist()], dtype=object)
    out.add(
        p_cust,
        p_day,
        kind="purchase",
        channel=p_channel,
        direction="inbound",
        visibility="shared",
        subject="Order " + orders,
        amount=p_cents,
    )

    r = np.flatnonzero(rng.random(p_cust.size) < 0.05)
    r_day = p_day[r] + 2 + rng.exponential(10, r.size)
    r, r_day = r[r_day < HISTORY_DAYS], r_day[r_day < HISTORY_DAYS]
    partial = rng.random(r.size) < 0.35
    share = np.where(partial, rng.uniform(0.2, 0.8, r.size), 1.0)
    r_cents = np.maximum(100, np.round(p_cents[r] * share)).astype("int64")
    out.add(
        p_cust[r],
        r_day,
        kind="refund",
        direction="inbound",
        channel=np.where(p_channel[r] == "store", "store", "email"),
        visibility="shared",
        subject="Refund for order " + orders[r],
        body=np.where(
            partial, "Partial refund: item returned.", "Full refund: order returned."
        ),
        amount=r_cents,
    )

    revenue = np.bincount(p_cust, p_cents, n) - np.bincount(p_cust[r], r_cents, n)
    revenue_eur = revenue * np.array([FX_TO_EUR[c] for c in currency.tolist()])
    vip = revenue_eur >= max(1.0, float(np.quantile(revenue_eur, 0.97)))
    last_buy = np.full(n, -1.0)
    np.maximum.at(last_buy, p_cust, p_day)
    recent = last_buy >= HISTORY_DAYS - RECENT_DAYS
    # Visits and contacts wind down after a churned buyer's last purchase.
    churned = (purchases > 0) & ~recent
    active_end = np.where(
        churned, np.minimum(last_buy + 60, HISTORY_DAYS), HISTORY_DAYS
    )

    v_cust, v_day = _between(
        rng, first_seen, active_end, rng.poisson(0.8 + 0.45 * purchases)
    )
    v_store = rng.random(v_cust.size) < 0.2
    sections = np.array([f"Browsed {s}" for s in WEB_SECTIONS], dtype=object)
    browsed = sections[rng.integers(0, sections.size, v_cust.size)]
    out.add(
        v_cust,
        v_day,
        kind="visit",
        direction="inbound",
        channel=np.where(v_store, "store", "web"),
        subject=np.where(v_store, "Store visit", browsed),
    )

    contacts = (0.08 + 0.12 * purchases) * np.where(b2b, 1.5, 1.0)
    s_cust, s_day = _between(rng, first_seen, active_end, rng.poisson(contacts))
    size = s_cust.size
    s_channel = _pick(rng, ("phone", "email", "chat"), (0.35, 0.4, 0.25), size)
    topic = rng.integers(0, len(SUPPORT), size)
    rating, sentiment = _rating_sentiment(rng, size)
    cost = np.select([s_channel == "phone", s_channel == "email"], [7.5, 3.0], 2.0)
    cost = np.round(100 * cost * rng.lognormal(0, 0.5, size)).astype("int64")
    out.add(
        s_cust,
        s_day,
        kind="support",
        channel=s_channel,
        direction="inbound",
        subject=np.array([SUPPORT[k][0] for k in topic], dtype=object),
        body=np.array([SUPPORT[k][1] for k in topic], dtype=object),
        cost=np.maximum(cost, 1),
        rating=np.where(rng.random(size) < 0.4, rating, -1),
        sentiment=np.where(rng.random(size) < 0.65, sentiment, np.nan),
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
        direction="inbound",
        channel=_pick(rng, ("web", "email"), (0.7, 0.3), f.size),
        visibility="shared",
        subject="Review of order " + orders[f],
        body=np.array(says, dtype=object),
        rating=rating,
        sentiment=sentiment,
    )

    sends = 10 + np.arange(HISTORY_DAYS // 30) * 30.4 + 8 / 24  # monthly, 08:00 UTC
    titles = [CAMPAIGNS[d.month - 1].format(year=d.year) for d in _datetimes(sends)]
    gets = (sends[None, :] > first_seen[:, None]) & newsletter[:, None]
    c_cust, c_k = np.nonzero(gets & (rng.random(gets.shape) < 0.6))
    out.add(
        c_cust,
        sends[c_k],
        kind="campaign",
        channel="email",
        direction="outbound",
        subject=np.array(titles, dtype=object)[c_k],
    )

    n_cust, n_day = _between(
        rng, first_seen, np.full(n, float(HISTORY_DAYS)), rng.poisson(0.1 + b2b + vip)
    )
    notes = np.array(NOTES, dtype=object)[rng.integers(0, len(NOTES), n_cust.size)]
    out.add(
        n_cust, n_day, kind="note", channel="other", direction="outbound", body=notes
    )

    visited = np.zeros(n, dtype=bool)
    visited[v_cust[v_day >= HISTORY_DAYS - 90]] = True
    stage = np.select(
        [purchases == 0, recent],
        [
            np.where(visited, LifecycleStage.PROSPECT.value, LifecycleStage.LEAD.value),
            LifecycleStage.ACTIVE.value,
        ],
        LifecycleStage.CHURNED.value,
    ).astype(object)
    last_money = np.maximum(first_seen, last_buy)
    np.maximum.at(last_money, p_cust[r], r_day)
    owned = rng.random(n) < np.select([b2b, vip], [0.9, 0.8], 0.05)
    owner_slot = np.where(owned, rng.choice(OWNER_SLOTS, n, p=OWNER_WEIGHTS), -1)
    customers = _customer_columns(rng, loc, b2b, newsletter, vip, purchases)
    customers["lifecycle_stage"] = stage.tolist()
    customers["created_at"] = _datetimes(first_seen)
    customers["updated_at"] = _datetimes(last_money)
    return DemoPlan(customers, currency, owner_slot, out.build())


def _customer_columns(
    rng: np.random.Generator,
    loc: np.ndarray,
    b2b: np.ndarray,
    newsletter: np.ndarray,
    vip: np.ndarray,
    purchases: np.ndarray,
) -> dict[str, list[Any]]:
    n = loc.size
    name_i = rng.integers(0, 10, (n, 2))
    zone_u, fmt_i, domain_i = (
        rng.random(n),
        rng.integers(0, 6, n),
        rng.integers(0, 5, n),
    )
    year = rng.integers(60, 100, n) % 100
    shouty = rng.random(n) < 0.04  # typed in capitals: email_key must fold it
    phone_on = rng.random(n) < 0.78
    phone = rng.integers(100, 1000, n), rng.integers(1_000_000, 10_000_000, n)
    company_i = rng.integers(0, len(COMPANY_WORDS), n), rng.integers(0, 9, n)
    acquisition, industry = rng.integers(0, 7, n), rng.integers(0, 5, n)
    cols: dict[str, list[Any]] = {name: [] for name in CUSTOMER_COLUMNS}
    taken: set[str] = set()
    for i in range(n):
        locale = LOCALES[loc[i]]
        given, family = locale.given[name_i[i, 0]], locale.family[name_i[i, 1]]
        g, f = _ascii(given), _ascii(family)
        company = domain = None
        attributes: dict[str, Any] = {
            "acquisition_channel": ACQUISITION[acquisition[i]]
        }
        if b2b[i]:
            word, kind = COMPANY_WORDS[company_i[0][i]], COMPANY_KINDS[company_i[1][i]]
            company = f"{word} {kind} {locale.suffix}"
            domain = f"{word}-{kind}.example".lower()
            attributes["industry"] = INDUSTRIES[industry[i]]
        form = EMAIL_FORMATS[0 if domain else fmt_i[i]]
        local = form.format(g=g, f=f, i=g[:1], y=f"{year[i]:02d}")
        domain = domain or DOMAINS[domain_i[i]]
        email, k = f"{local}@{domain}", 1
        while email in taken:
            k += 1
            email = f"{local}{k}@{domain}"
        taken.add(email)
        draft = _Draft(given, family, email.title() if shouty[i] else email, company)
        derive(cast(Customer, draft))  # the service's own rules, on a cheap object
        flags = (
            ("vip", vip[i]),
            ("newsletter", newsletter[i]),
            ("b2b", b2b[i]),
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
    return cols


def _money(cents: np.ndarray) -> list[Decimal | None]:
    return [None if c < 0 else Decimal(c).scaleb(-2) for c in cents.tolist()]


def _customer_rows(
    plan: DemoPlan,
    lo: int,
    hi: int,
    ids: np.ndarray,
    owners: list[int | None],
    *,
    as_json: bool,
) -> list[tuple[Any, ...]]:
    c = {k: v[lo:hi] for k, v in plan.customers.items()}

    def dump(value: Any) -> Any:  # asyncpg's COPY takes JSON as text
        return orjson.dumps(value).decode() if as_json else value

    return list(
        zip(
            ids[lo:hi].tolist(),
            c["external_ref"],
            c["email"],
            c["email_key"],
            c["phone"],
            c["given_name"],
            c["family_name"],
            c["display_name"],
            c["company"],
            c["locale"],
            c["time_zone"],
            c["lifecycle_stage"],
            map(dump, c["tags"]),
            map(dump, c["attributes"]),
            [owners[s] for s in plan.owner_slot[lo:hi].tolist()],
            c["search_text"],
            c["created_at"],
            c["updated_at"],
            repeat(1),
            strict=False,
        )
    )


def _interaction_rows(
    plan: DemoPlan, lo: int, hi: int, ids: np.ndarray
) -> list[tuple[Any, ...]]:
    c = {k: v[lo:hi] for k, v in plan.interactions.items()}
    occurred = _datetimes(c["day"])
    money = (c["amount"] >= 0) | (c["cost"] >= 0)
    currency = np.where(money, plan.currency[c["cust"]], None)
    return list(
        zip(
            ids[c["cust"]].tolist(),
            occurred,
            c["channel"].tolist(),
            c["direction"].tolist(),
            c["kind"].tolist(),
            c["subject"].tolist(),
            c["body"].tolist(),
            _money(c["amount"]),
            currency.tolist(),
            _money(c["cost"]),
            [None if r < 0 else r for r in c["rating"].tolist()],
            [None if s != s else s for s in c["sentiment"].tolist()],  # NaN: none
            c["visibility"].tolist(),
            repeat(Source.IMPORT.value),
            repeat(ACTOR.ref),
            occurred,
            occurred,
            repeat(1),
            strict=False,
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
        await session.execute(insert(table), [dict(zip(columns, r)) for r in rows])
        return
    # COPY is several times faster than executemany; it joins the session's
    # transaction, which the earlier statements on this connection have begun.
    connection = await (await session.connection()).get_raw_connection()
    await connection.driver_connection.copy_records_to_table(
        table.name, records=rows, columns=list(columns)
    )


async def _reserve_ids(session: AsyncSession, database: Database, n: int) -> np.ndarray:
    """Customer ids for the rows we are about to write, so interactions can cite them."""
    if database.sqlite:  # the writer's BEGIN IMMEDIATE holds the lock: max+1 is ours
        top = await session.scalar(select(func.coalesce(func.max(Customer.id), 0)))
        return np.arange(int(top or 0) + 1, int(top or 0) + n + 1)
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
        select(Customer.id).where(Customer.external_ref == "demo-0")
    )
    if found is not None:
        raise Conflict("demo data already present")


async def _ensure_staff(session: AsyncSession) -> tuple[int, list[int | None]]:
    """(members created, id per STAFF slot): existing members are reused."""
    found = await session.scalars(
        select(StaffMember).where(StaffMember.email_key.in_([s[0] for s in STAFF]))
    )
    by_email = {m.email_key: m for m in found}
    created, ids = 0, []
    for email, name, role in STAFF:
        member = by_email.get(email)
        if member is None:
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
    """Write a demo customer base; Conflict if demo customers are already there."""
    if customers < 1:
        raise BadInput("customers must be at least 1.", field="customers")
    started = time.perf_counter()
    async with database.transaction(write=False) as session:
        await _refuse_twice(session)  # fail before the work, not after it
    plan = plan_demo(customers, seed)
    cust_of = plan.interactions["cust"]
    customer_table = cast(Table, Customer.__table__)
    interaction_table = cast(Table, Interaction.__table__)
    async with database.transaction() as session:
        await _refuse_twice(session)
        created, staff_ids = await _ensure_staff(session)
        owners = [*staff_ids, None]  # slot -1 is nobody
        ids = await _reserve_ids(session, database, customers)
        for lo in range(0, customers, CHUNK):
            hi = min(lo + CHUNK, customers)
            rows = _customer_rows(
                plan, lo, hi, ids, owners, as_json=not database.sqlite
            )
            await _write(session, database, customer_table, CUSTOMER_COLUMNS, rows)
            first, last = np.searchsorted(cust_of, (lo, hi)).tolist()
            rows = _interaction_rows(plan, first, last, ids)
            await _write(
                session, database, interaction_table, INTERACTION_COLUMNS, rows
            )
            if progress is not None:
                progress(hi)
        counts = {"customers": customers, "interactions": int(cust_of.size)}
        await events.record(
            session,
            ACTOR,
            action="demo.seeded",
            entity_type="Demo",
            entity_id=0,
            changes=events.diff({}, {**counts, "seed": seed, "staff_created": created}),
        )
    return DemoSummary(
        customers=customers,
        interactions=int(cust_of.size),
        staff=created,
        seconds=time.perf_counter() - started,
    )
