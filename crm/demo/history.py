"""Every customer's interactions, drawn column-wise with numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crm.demo.names import CAMPAIGNS, FEEDBACK, NOTES, SUPPORT, WEB_SECTIONS
from crm.demo.timeline import HISTORY_DAYS, SEASON, _datetimes, _month


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
class _Base:
    """What is drawn per customer before their history."""

    n: int
    first_seen: np.ndarray  # days after START
    currency: np.ndarray
    b2b: np.ndarray
    newsletter: np.ndarray


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
