"""Numbers as a paper prints them: rounding half up, a number at its printed decimals, a p-value.

On the floor of `cohort` (tests/test_imports.py): tables, statistics, the comparison with the paper
and the notebooks (through `helpers`) format with these, so one number reads the same everywhere.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd


def round_half_up(x: float, decimals: int) -> Decimal:
    """Round like a printed table (0.0445 -> 0.045 at 3 decimals; decimals may be negative)."""
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP)


def format_number(x: float, decimals: int) -> str:
    """`x` as the paper would print it with `decimals` decimals."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    return f"{round_half_up(x, decimals):f}" if decimals >= 0 else f"{round_half_up(x, decimals):.0f}"


def is_missing(x) -> bool:
    """None, NaN, NA, NaT or the empty string: a cell with nothing to print."""
    return (x is None or (isinstance(x, (float, np.floating)) and math.isnan(x)) or x is pd.NA or x is pd.NaT
            or (isinstance(x, str) and x == ""))


def format_p(p, digits: int = 3) -> str:
    """A p-value as a journal prints it: "0.032", "<0.001", "" when missing."""
    if is_missing(p):
        return ""
    p = float(p)
    floor = 10 ** -digits
    return f"<{floor:.{digits}f}" if p < floor else f"{p:.{digits}f}"


def format_p_in_text(p, digits: int = 3) -> str:
    """A p-value in a sentence, from the journal's `format_p`: "p = 0.012", "p < 0.001", "p = n/a"
    (also for an infinite p, which no test gives)."""
    if p is None or not np.isfinite(p):
        return "p = n/a"
    text = format_p(p, digits)
    return f"p < {text[1:]}" if text.startswith("<") else f"p = {text}"
