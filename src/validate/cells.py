"""Cells to typed values: each text cell of an integer, number or date column converted, or a problem in words.

:func:`_parse_column` converts a column and says why a cell cannot be read, with a hint when the cause is common
(a thousands separator, a decimal comma, an Excel day number, digits other than 0-9, a code such as 999 for an
unknown value outside the allowed range).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from src.validate.dictionary import (_DATE_RE, _NS_MAX, _NS_MIN, _NUMBER_RE, _PANDAS_DTYPES, _describe_range,
                                     _parse_allowed)
from src.validate.problems import _problem, _show


def _parse_column(text: pd.Series, spec, file: str):
    """Convert a text column to its dictionary type.

    Returns (typed series, problems, rows that could not be converted).
    """
    kind, column = spec["type"], spec["column"]
    allowed = _parse_allowed(spec)
    problems, bad = [], []
    if kind in ("string", "category"):
        return text.astype(object), problems, bad
    read = _number_cell if kind in ("integer", "number") else _date_cell
    values = []
    for row, value in text.items():
        if value is None:
            values.append(None)
            continue
        typed, message = read(value, kind, allowed, spec)
        if message is not None:
            problems.append(_problem(file, row, column, value, f"{file} row {row}, {column} {message}"))
            bad.append(row)
        values.append(typed)
    return _typed_series(values, kind, text.index, column), problems, bad


def _number_cell(value: str, kind: str, allowed, spec):
    """``(number, None)`` for the text of an integer or number cell, or ``(None, what is wrong with it)``."""
    # the usual cells first: the same values as the general case below, sooner
    if kind == "integer" and _PLAIN_INTEGER_RE.match(value):
        return int(value), None
    if kind == "number" and _NUMBER_RE.match(value):
        number = float(value)  # float(Decimal(value)): both are the nearest float to the decimal value
        if math.isfinite(number) and _SHORT_EXPONENT_RE.match(value):
            return number, None
    if not _NUMBER_RE.match(value):
        hint = _number_hint(value)
        noun = "an integer" if kind == "integer" else "a number"
        return None, f"'{value}' is not {noun}{hint}"
    try:
        number = Decimal(value)
    except (InvalidOperation, ArithmeticError):  # e.g. an exponent too large for Decimal
        return None, f"{value} is too large"
    if kind == "integer":
        # adjusted() is the power of ten of the leading digit; checking it first avoids Decimal overflow
        huge = not number.is_zero() and number.adjusted() >= 18
        if huge:
            return None, _out_of_range(value, allowed, spec) if allowed else f"{value} is too large"
        if not number.is_zero() and (number.adjusted() < 0 or number != number.to_integral_value()):
            return None, f"'{value}' is not a whole number"
        return int(number), None
    number = float(number)  # 1e999 -> inf, 1e-999 -> 0.0
    if not math.isfinite(number):
        return None, _out_of_range(value, allowed, spec) if allowed else f"{value} is too large"
    return number, None


def _date_cell(value: str, kind: str, allowed, spec):
    """``(datetime.date, None)`` for the text of a date cell, or ``(None, what is wrong with it)``."""
    if not _DATE_RE.match(value):
        hint = _excel_day_hint(value) or _digit_hint(value)
        return None, f"'{value}' is not a date written as YYYY-MM-DD{hint}"
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None, f"'{value}' is not a real calendar date"
    if not (_NS_MIN <= day <= _NS_MAX):
        if allowed:
            return None, _out_of_range(value, allowed, spec)
        return None, f"{value} is outside the dates this tool handles (1678 to 2261)"
    return day, None


def _out_of_range(value: str, allowed, spec) -> str:
    """What is wrong with a value outside the dictionary's ``allowed`` range (with a hint for a code such as 999)."""
    return f"{value} is outside the allowed range {_describe_range(allowed, spec)}{_code_hint(spec, value)}"


def _typed_series(values: list, kind: str, index, column: str) -> pd.Series:
    """The converted values of a column (None for missing) as a Series of the dictionary type's dtype."""
    dtype = _PANDAS_DTYPES[kind]
    if kind == "integer":
        return pd.Series(pd.array(values, dtype="Int64"), index=index, name=column)
    if kind == "number":
        return pd.Series([np.nan if v is None else v for v in values], index=index, name=column, dtype=dtype)
    # days since 1970-01-01 (NaT for missing) as datetime64[ns]
    days = np.array([_NAT if v is None else v.toordinal() - _EPOCH_ORDINAL for v in values], dtype="int64")
    return pd.Series(days.view("datetime64[D]").astype(dtype), index=index, name=column)


_PLAIN_INTEGER_RE = re.compile(r"^[+-]?\d{1,18}$", re.ASCII)  # below 10**18: never "too large"
_SHORT_EXPONENT_RE = re.compile(r"^[^eE]*([eE][+-]?\d{1,4})?$")  # an exponent Decimal always reads
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NAT = np.iinfo(np.int64).min  # NaT as an integer


_THOUSANDS_RE = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$", re.ASCII)  # 2,833  12,500  1,234,567.5
_EUROPEAN_RE = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+,\d+$", re.ASCII)  # 1.234,5
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel day 1 is 1900-01-01 (day 60 is its phantom 1900-02-29)
_EXCEL_DAY_RE = re.compile(r"^\d{4,5}(\.0+)?$", re.ASCII)
_DECIMAL_COMMA_RE = re.compile(r"^[+-]?\d+,\d+$", re.ASCII)


def _number_hint(value: str) -> str:
    """Why a text is not a number, when the reason is a separator: thousands, decimal comma."""
    if _THOUSANDS_RE.match(value):
        plain = value.replace(",", "")
        return (f" (the comma looks like a thousands separator: write {plain}, digits only without separators; "
                f"a decimal is written with a point)")
    if _EUROPEAN_RE.match(value):
        return f" (write {value.replace('.', '').replace(',', '.')}: no thousands separator, a decimal point)"
    if _DECIMAL_COMMA_RE.match(value):
        return " (use a decimal point, not a comma)"
    return _digit_hint(value)


def _excel_day_hint(value: str) -> str:
    """A hint for an Excel day number in a date column (40909 is 2012-01-01), else ""."""
    if not _EXCEL_DAY_RE.match(value):
        return ""
    day = _EXCEL_EPOCH + dt.timedelta(days=int(float(value)))
    if not (dt.date(1950, 1, 1) <= day <= dt.date(2100, 12, 31)):
        return ""
    return (f" ({value} looks like an Excel day number: it is the date {day.isoformat()}; format the column "
            f"as a date, or write the date as YYYY-MM-DD)")


def _is_code(spec, value) -> bool:
    """True if ``value`` (text as written, or a typed value) is one of the row's ``warn_values``."""
    codes = [part.strip() for part in str(spec.get("warn_values", "") or "").split("|") if part.strip()]
    if not codes or value is None:
        return False
    if spec["type"] == "date":
        text = _show(value)
        return text in codes
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return any(_NUMBER_RE.match(code) and float(code) == number for code in codes)


def _code_hint(spec, value) -> str:
    """A hint that a value outside the allowed range is a common code for "unknown"."""
    if not _is_code(spec, value):
        return ""
    return (f" ({_show(value) if not isinstance(value, str) else value} is a common code for an unknown value "
            f"(warn_values in the data dictionary), not a measurement: leave the cell empty if the value is not "
            f"known)")


def _digit_hint(value: str) -> str:
    """A hint for digits other than 0-9 (full-width, Arabic-Indic, ...), else ""."""
    if any(ch.isdigit() and not ch.isascii() for ch in value):
        return " (write the digits as 0-9)"
    return ""
