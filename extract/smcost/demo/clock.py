"""Time in the demo account: epoch milliseconds (UTC) for the bill's vectors, naive UTC datetimes for
metadata rows (what the extractor lands), and the hourly grid the bill is cut on."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from numpy.typing import NDArray

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

Millis = NDArray[np.int64]
Floats = NDArray[np.float64]
Flags = NDArray[np.bool_]


def to_ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)


def utc(ms: int) -> datetime:
    """The naive UTC datetime of an epoch-milliseconds instant (metadata rows carry these)."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).replace(tzinfo=None)


def month_starts(start: str, months: int) -> list[int]:
    """The first instant of each of ``months`` months from ``start`` (YYYY-MM), and of the month after."""
    year, month = map(int, start.split("-"))
    out = []
    for i in range(months + 1):
        y, m = year + (month - 1 + i) // 12, (month - 1 + i) % 12 + 1
        out.append(to_ms(datetime(y, m, 1)))
    return out


def overlap_hours(hours: Millis, start_ms: int, end_ms: int) -> Floats:
    """Fraction of each hour inside [start, end)."""
    lo = np.maximum(hours, start_ms)
    hi = np.minimum(hours + HOUR_MS, end_ms)
    fraction: Floats = np.clip(hi - lo, 0, None) / HOUR_MS
    return fraction


def hour_of_day(hours: Millis) -> Millis:
    hod: Millis = (hours // HOUR_MS) % 24
    return hod
