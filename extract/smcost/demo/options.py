"""`smcost demo`'s options: the knobs, their bounds, and one-line errors naming the flag."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any, TypeVar

from smcost import lake

T = TypeVar("T")

# Bounds on the knobs. --months: the correction restates an earlier period, so at least 2; at most
# 36 because each replica's whole bill is built in memory before it streams to disk (peak RSS about
# 1.4 GB at 36 months, growing linearly), and three years covers every case several times over.
# --scale: replicas stream one at a time (memory stays flat), but 1,000 replicas are ~60M bill rows
# at 3 months, several GB of Parquet and a long dbt build: a bigger number is almost surely a typo.
# --start-month: a real calendar month (01-12, never rolled over into the next year) in 2000-2099.
MIN_MONTHS, MAX_MONTHS = 2, 36
MAX_SCALE = 1000
_YEAR_MONTH = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])")
_DEFAULTS: dict[str, Any] = dict(months=3, start_month="2026-08", scale=1, seed=0, export_name=lake.DEFAULT_EXPORT_NAME)


def check_options(*, months: int, start_month: str, scale: int, seed: int, export_name: str) -> None:
    """ValueError, with a one-line message naming the flag, for any knob generate() cannot honour."""
    if not isinstance(start_month, str) or not _YEAR_MONTH.fullmatch(start_month):
        raise ValueError(f"--start-month must be YYYY-MM with month 01-12 and year 2000-2099, got {start_month!r}")
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValueError(
            f"--months must be between {MIN_MONTHS} (the correction restates an earlier period) "
            f"and {MAX_MONTHS}, got {months}"
        )
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"--scale must be between 1 and {MAX_SCALE}, got {scale}")
    if seed < 0:
        raise ValueError(f"--seed must be 0 or more, got {seed}")
    try:
        lake.validate_name("--export-name", export_name)
    except ValueError as exc:
        raise ValueError(f"{exc} (it becomes the folder billing/<export-name> under --out)") from None


def _checked(flag: str, convert: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type: convert, then check_options() judges this one flag (one-line error, exit 2)."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        try:
            check_options(**{**_DEFAULTS, flag: value})
        except ValueError as exc:  # argparse already says "argument --months: "
            raise argparse.ArgumentTypeError(str(exc).removeprefix("--" + flag.replace("_", "-") + " ")) from None
        return value

    parse.__name__ = flag  # argparse names the type in its messages
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        default=lake.DEFAULT_LAKE_ROOT,
        help="lake root to write; its billing/<export>, sagemaker/ and demo/ folders are replaced "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=_checked("seed", int),
        default=42,
        help="random seed; same seed, same files (default: %(default)s)",
    )
    parser.add_argument(
        "--months",
        type=_checked("months", int),
        default=3,
        help=f"billing periods to generate, {MIN_MONTHS}-{MAX_MONTHS}; at least 3 for every case "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--start-month",
        type=_checked("start_month", str),
        default="2026-08",
        help="first billing period, YYYY-MM (default: %(default)s)",
    )
    parser.add_argument(
        "--scale",
        type=_checked("scale", int),
        default=1,
        help=f"replicate the account's resources N times, 1-{MAX_SCALE} (about 60k bill rows each at 3 months)",
    )
    parser.add_argument(
        "--focus-version",
        choices=["1.2", "1.0"],
        default="1.2",
        help="which AWS FOCUS export to imitate (default: %(default)s)",
    )
    parser.add_argument(
        "--export-name",
        type=_checked("export_name", str),
        default=lake.DEFAULT_EXPORT_NAME,
        help="export folder name: letters, digits, '-', '_', '.' (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
