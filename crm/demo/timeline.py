"""The demo's two years of history, and days-after-START as timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
HISTORY_DAYS = 730
START = ANCHOR - timedelta(days=HISTORY_DAYS)
RECENT_DAYS = 180  # a buyer with no purchase for this long has churned
_START64 = np.datetime64(START.replace(tzinfo=None), "s")
# Relative purchase intensity by month, January first.
SEASON = np.array([0.85, 0.8, 0.9, 0.95, 1.0, 0.95, 0.9, 0.9, 1.0, 1.05, 1.55, 1.9])


def _stamps(days: np.ndarray) -> np.ndarray:
    return _START64 + np.round(days * 86400).astype("int64").astype("timedelta64[s]")


def _month(days: np.ndarray) -> np.ndarray:
    """0 for January ... 11 for December."""
    return _stamps(days).astype("datetime64[M]").astype("int64") % 12


def _datetimes(days: np.ndarray) -> list[datetime]:
    return [d.replace(tzinfo=UTC) for d in _stamps(days).tolist()]
