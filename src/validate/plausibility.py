"""The plausibility fields of the dictionary: ``warn_range``, ``warn_values``, ``error_after``, ``warn_after``.

:func:`check_plausibility` gives each value at most one finding: a date after today, a code for an unknown value
(999, -1), a value outside the physiological limits, a date far after every other date of the data. The severity
is part of the field's name (``warn_*``: a warning to acknowledge; ``error_*``: an error).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from src.validate.cells import _is_code
from src.validate.dictionary import (_DATE_RE, _NS_MAX, _NS_MIN, _NUMBER_RE, PLAUSIBILITY_FIELDS, _describe_range,
                                     _parse_plausibility, _spec_entry)
from src.validate.problems import RULE_CODE, RULE_FUTURE, RULE_LATE, RULE_LIMITS, _problem, _problem_frame, _show


def check_plausibility(tables: dict, dictionary: pd.DataFrame, *, files: dict | None = None,
                       today=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the plausibility fields of the dictionary (:data:`PLAUSIBILITY_FIELDS`) to typed tables.

    ``tables`` as for :func:`check_rules` (cells that broke a rule are
    missing and are skipped). ``today`` (a date, default the system date) is
    the day a recorded date may not pass. Returns ``(errors, warnings)``, two
    problem DataFrames; each cell gets at most one finding, in this order:

    * ``error_after``/``warn_after`` ``today``: a date after ``today``;
    * ``warn_values``: the value is one of the listed codes (999, -1, ...);
    * ``warn_range``: the value is outside the physiological limits ``lo..hi``;
    * ``error_after``/``warn_after`` ``others+DAYS``: a date more than DAYS
      days after the latest *other* date of the data (every date column of
      every table, this cell left out), which is taken to be the data's own
      last recorded date: a typing error in a year stretches every survival
      curve.
    """
    files = {name: f"{name}.csv" for name in tables} | (files or {})
    today = pd.Timestamp(today if today is not None else dt.date.today()).normalize()
    errors: list = []
    warnings_: list = []
    # the two latest recorded dates: the latest other date of a cell is one of them
    cells = _latest_dates(tables)
    for name, frame in tables.items():
        if frame is None or name not in set(dictionary["table"]):
            continue
        spec, infos, derived = _spec_entry(dictionary, name)
        file = files[name]
        for column in [c for c in frame.columns if c in spec.index]:
            info = infos[column]
            parsed = _parsed_fields(info, derived, column)
            if not any(parsed[f] for f in PLAUSIBILITY_FIELDS):
                continue
            values = frame[column].dropna()
            candidates = _plausibility_candidates(values, info, parsed, today, cells)
            for row, value in (values if candidates is None else values[candidates]).items():
                where = f"{file} row {row}, {column} {_show(value)}"
                finding = _finding(value, where, info, parsed, today, _latest_other(cells, name, row, column), files)
                if finding is None:
                    continue
                severity, message, rule = finding
                target = errors if severity == "error" else warnings_
                target.append(_problem(file, int(row), column, _show(value), message,
                                       None if severity == "error" else rule))
    return _problem_frame(errors), _problem_frame(warnings_)


def _parsed_fields(info, derived: dict, column: str) -> dict:
    """The plausibility fields of a column's dictionary row, parsed (remembered in ``derived``)."""
    parsed = derived.get(("plausibility", column))
    if parsed is None:
        parsed = {field: _parse_plausibility(info, field) for field in PLAUSIBILITY_FIELDS}
        derived[("plausibility", column)] = parsed
    return parsed


def _latest_other(cells: list, name: str, row, column: str):
    """The latest recorded date ``(value, table, row, column)`` other than the cell's own, or None."""
    for cell in cells[:2]:
        if (cell[1], cell[2], cell[3]) != (name, row, column):
            return cell
    return None


def _finding(value, where: str, info, parsed: dict, today: pd.Timestamp, other, files: dict):
    """The one finding of a value, ``(severity, message, rule)``, or None; the first of: after today, a code
    for an unknown value, outside the physiological limits, far after the latest ``other`` date."""
    return (_after_today(value, where, parsed, today) or _unknown_code(value, where, info, parsed)
            or _outside_limits(value, where, info, parsed) or _far_after_others(value, where, parsed, other, files))


def _after_today(value, where: str, parsed: dict, today: pd.Timestamp):
    """``error_after``/``warn_after`` ``today``: a date after the day of the check."""
    for field in ("error_after", "warn_after"):
        if ("today", 0) in parsed[field] and value > today:
            return ("error" if field == "error_after" else "warning",
                    f"{where} is after today ({_show(today)}): a recorded date cannot lie in the future "
                    f"({field} today in the data dictionary)", RULE_FUTURE)
    return None


def _unknown_code(value, where: str, info, parsed: dict):
    """``warn_values``: the value is a code for an unknown value (999, -1, ...)."""
    if not (parsed["warn_values"] and _is_code(info, value)):
        return None
    codes = ", ".join(_show(v) for v in parsed["warn_values"])
    return ("warning", f"{where} is a common code for an unknown value (warn_values {codes} in the data "
                       f"dictionary): if the value is not known, leave the cell empty; if it was "
                       f"measured, acknowledge this warning", RULE_CODE)


def _outside_limits(value, where: str, info, parsed: dict):
    """``warn_range``: the value lies outside the physiological limits."""
    if parsed["warn_range"] is None:
        return None
    lo, hi = parsed["warn_range"]
    if not ((lo is not None and value < lo) or (hi is not None and value > hi)):
        return None
    unit = f" {info['unit']}" if info.get("unit") else ""
    return ("warning", f"{where}{unit} is outside the physiological limits "
                       f"{_describe_range(parsed['warn_range'], info)} (warn_range in the data "
                       f"dictionary): check the value and its unit", RULE_LIMITS)


def _far_after_others(value, where: str, parsed: dict, other, files: dict):
    """``error_after``/``warn_after`` ``others+DAYS``: a date more than DAYS days after the latest other date."""
    for field in ("error_after", "warn_after"):
        for kind, days in parsed[field]:
            if kind != "others":
                continue
            if other is None or value <= other[0] + pd.Timedelta(days=days):
                continue
            gap = (value - other[0]).days
            return ("error" if field == "error_after" else "warning",
                    f"{where} is {gap} days after the latest other date of the data ({_show(other[0])}, "
                    f"{files[other[1]]} row {other[2]}, {other[3]}), more than {days} days "
                    f"({field} others+{days} in the data dictionary): is the year mistyped?", RULE_LATE)
    return None


def _latest_dates(tables: dict) -> list:
    """The first two of every recorded date ``(value, table, row, column)`` (date columns of every
    table, missing values left out) sorted latest first, equal dates in table, column, row order."""
    cells = []
    for name, frame in tables.items():
        if frame is None:
            continue
        for column in frame.columns:
            series = frame[column]
            if series.dtype.kind != "M":
                continue
            series = series.dropna()
            if series.dtype == np.dtype("datetime64[ns]"):  # only its two latest can be among the first two
                order = np.argsort(-series.to_numpy().view("int64"), kind="stable")[:2]
                series = series.iloc[order]
            cells.extend((value, name, row, column) for row, value in series.items())
    cells.sort(key=lambda c: c[0], reverse=True)
    return cells[:2]


def _plausibility_candidates(values: pd.Series, info, parsed: dict, today, cells: list):
    """A boolean mask of the cells of ``values`` (no missing value) that may get a plausibility
    finding (every cell that does, maybe a few more), or None when every cell must be looked at."""
    kind = info["type"]
    after = parsed["error_after"] or parsed["warn_after"]
    if kind == "date" and values.dtype == np.dtype("datetime64[ns]"):
        numbers = None
    elif kind in ("integer", "number") and not after and values.dtype in (np.float64, np.int64, pd.Int64Dtype()):
        numbers = values.to_numpy(dtype="float64")
    else:
        return None
    mask = np.zeros(len(values), dtype=bool)
    if parsed["warn_values"]:
        codes = [part.strip() for part in str(info.get("warn_values", "") or "").split("|") if part.strip()]
        if numbers is None:  # _is_code compares YYYY-MM-DD texts: the same day
            days = []
            for code in codes:
                try:
                    day = dt.date.fromisoformat(code) if _DATE_RE.match(code) else None
                except ValueError:
                    day = None
                if day is not None and _NS_MIN <= day <= _NS_MAX:
                    days.append((day - dt.date(1970, 1, 1)).days)
            value_days = values.to_numpy().view("int64") // (86400 * 10**9)
            mask |= np.isin(value_days, days)
        else:
            mask |= np.isin(numbers, [float(code) for code in codes if _NUMBER_RE.match(code)])
    if parsed["warn_range"] is not None:
        lo, hi = parsed["warn_range"]
        if lo is not None:
            mask |= (values < lo).to_numpy(dtype=bool)
        if hi is not None:
            mask |= (values > hi).to_numpy(dtype=bool)
    for field in ("error_after", "warn_after"):
        if ("today", 0) in parsed[field]:
            mask |= (values > today).to_numpy(dtype=bool)
        days = [d for k, d in parsed[field] if k == "others"]
        if days:
            if len(cells) < 2:
                return None
            # the latest other date of a cell is one of the two latest dates, so not before the second
            try:
                limit = cells[1][0] + pd.Timedelta(days=min(days))
            except (OverflowError, ValueError):  # a limit beyond the dates pandas handles: as before
                return None
            mask |= (values > limit).to_numpy(dtype=bool)
    return mask
