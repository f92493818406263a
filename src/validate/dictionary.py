"""The data dictionary: reading and checking ``data_dictionary.csv``, and the parsed rules of its rows.

:func:`read_dictionary` reads the dictionary (one row per column of a data table: type, unit, allowed values or
range, required, unique, optional, and the plausibility fields ``warn_range``, ``warn_values``, ``error_after``,
``warn_after``) and reports every malformed row. The ``_parse_*`` functions turn a row's fields into values of the
column's type; :func:`_spec_entry` gives a table's rows by column name. Dictionaries already read are remembered by
their bytes (:func:`_cached_read`, shared with the synonyms of ``synonyms.py``).
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from src.validate.problems import DataValidationError, _problem, _show


_DICTIONARY_COLUMNS = ["table", "column", "type", "unit", "allowed", "required", "unique"]
_YES_NO_FIELDS = ("required", "unique", "optional")
#: Plausibility fields of the dictionary (blank = no check; absent from an older dictionary = blank).
#: The severity is part of the name: a ``warn_*`` finding is a warning the user must acknowledge,
#: an ``error_*`` finding an error (like a value outside ``allowed``).
PLAUSIBILITY_FIELDS = ("warn_range", "warn_values", "error_after", "warn_after")
_AFTER_RE = re.compile(r"^(today|others\+(\d+))$")
_TYPES = ("string", "category", "integer", "number", "date")
_PANDAS_DTYPES = {
    "string": str,
    "category": str,
    "integer": "Int64",  # nullable while checking; int64 in load_and_validate's result
    "number": "float64",
    "date": "datetime64[ns]",
}
# re.ASCII: \d is 0-9 only (Decimal and fromisoformat would read other digits inconsistently)
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_NS_MIN, _NS_MAX = dt.date(1677, 9, 22), dt.date(2262, 4, 11)


#: Dictionaries and synonyms already read and checked, by file and content (a few: cleared when full).
_READ_CACHE: dict = {}
_READ_CACHE_SIZE = 32


def _cached_read(key, read, copy):
    """``copy(read())``, remembering ``read()`` for ``key`` (which must hold the bytes of the files read).
    A problem raised by ``read`` is not remembered: it is raised again each time."""
    if key in _READ_CACHE:
        return copy(_READ_CACHE[key])
    result = read()
    if len(_READ_CACHE) >= _READ_CACHE_SIZE:
        _READ_CACHE.clear()
    _READ_CACHE[key] = copy(result)
    return result


def _file_bytes(path: Path):
    """The bytes of a file, or None if it cannot be read (then nothing is remembered)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def _frame_key(frame: pd.DataFrame) -> tuple | None:
    """A hashable key of a DataFrame of texts (its columns and values), or None when it holds
    anything but texts (then nothing is remembered for it)."""
    columns = tuple(frame.columns)
    rows = tuple(map(tuple, frame.to_numpy(dtype=object)))
    if not all(type(c) is str for c in columns) or not all(type(v) is str for row in rows for v in row):
        return None
    return columns, rows


def read_dictionary(path) -> pd.DataFrame:
    """Read and check a data dictionary CSV.

    Returns one row per column of a data table, all fields as text (empty
    string when blank), columns at least ``table, column, type, unit,
    allowed, required, unique, optional``. ``optional`` may be absent from
    an older dictionary: it is then added, ``no`` for every column. Raises
    :class:`DataValidationError` if the file is missing or malformed
    (unknown type, unreadable ``allowed``, required/unique/optional not
    yes/no, a column described twice).
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise DataValidationError([_problem(name, message=f"data dictionary {path} does not exist")])
    data = _file_bytes(path)
    if data is None:
        return _read_dictionary(path)
    return _cached_read(("dictionary", str(path), data), lambda: _read_dictionary(path), pd.DataFrame.copy)


def _read_dictionary(path: Path) -> pd.DataFrame:
    """read_dictionary of a file that exists, without remembering it."""
    name = path.name
    try:
        dictionary = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataValidationError(
            [_problem(name, message=f"data dictionary {path} cannot be read as a UTF-8 CSV table ({exc})")]
        ) from None
    dictionary.columns = [str(c).strip() for c in dictionary.columns]
    missing = [c for c in _DICTIONARY_COLUMNS if c not in dictionary.columns]
    if missing:
        raise DataValidationError(
            [_problem(name, column=c, message=f"{name}: column '{c}' is missing") for c in missing]
        )
    if "optional" not in dictionary.columns:  # a dictionary from before optional columns
        dictionary.insert(dictionary.columns.get_loc("unique") + 1, "optional", "no")
    position = dictionary.columns.get_loc("optional") + 1
    for field in PLAUSIBILITY_FIELDS:  # a dictionary from before plausibility checks
        if field not in dictionary.columns:
            dictionary.insert(position, field, "")
        position = dictionary.columns.get_loc(field) + 1
    dictionary = dictionary.apply(lambda s: s.str.strip())
    dictionary.index = pd.RangeIndex(2, len(dictionary) + 2)
    problems = []
    for row, spec in dictionary.iterrows():
        where = f"{name} row {row}"
        if spec["type"] not in _TYPES:
            problems.append(
                _problem(name, row, "type", spec["type"],
                         f"{where}, type '{spec['type']}' is not one of {', '.join(_TYPES)}")
            )
            continue
        for field in _YES_NO_FIELDS:
            if spec[field] not in ("yes", "no"):
                problems.append(
                    _problem(name, row, field, spec[field], f"{where}, {field} '{spec[field]}' is not yes or no")
                )
        try:
            _parse_allowed(spec)
        except ValueError as exc:
            problems.append(_problem(name, row, "allowed", spec["allowed"], f"{where}, {exc}"))
        for field in PLAUSIBILITY_FIELDS:
            try:
                _parse_plausibility(spec, field)
            except ValueError as exc:
                problems.append(_problem(name, row, field, spec[field], f"{where}, {exc}"))
    dup = dictionary.duplicated(["table", "column"], keep=False)
    for (table, column), part in dictionary[dup].groupby(["table", "column"], sort=False):
        rows = ", ".join(str(r) for r in part.index)
        problems.append(
            _problem(name, int(part.index[0]), "column", column,
                     f"{name} row {part.index[0]}, column '{column}' of table '{table}' is described more than once (rows {rows})")
        )
    if problems:
        raise DataValidationError(problems)
    return dictionary.reset_index(drop=True)


def _parse_allowed(spec):
    """The ``allowed`` field of a dictionary row: a list of values, a (lo, hi)
    range (either end may be None), or None when unrestricted."""
    allowed, kind = spec["allowed"], spec["type"]
    if allowed == "":
        return None
    if kind in ("string", "category"):
        return allowed.split("|")
    return _parse_range(allowed, kind, "allowed")


def _parse_value(text: str, kind: str, field: str):
    """One value of a dictionary field in the column's type (number, integer or date)."""
    if kind == "date":
        if not _DATE_RE.match(text):
            raise ValueError(f"{field}: '{text}' is not a date written YYYY-MM-DD")
        try:
            return pd.Timestamp(dt.date.fromisoformat(text))
        except (ValueError, pd.errors.OutOfBoundsDatetime):
            raise ValueError(f"{field}: '{text}' is not a usable date") from None
    if not _NUMBER_RE.match(text):
        raise ValueError(f"{field}: '{text}' is not a number")
    number = float(text)
    return int(number) if kind == "integer" and number.is_integer() else number


def _parse_plausibility(spec, field):
    """A plausibility field of a dictionary row (:data:`PLAUSIBILITY_FIELDS`), parsed:

    * ``warn_range``: ``lo..hi`` (either end may be blank), or None;
    * ``warn_values``: a list of values in the column's type (``999|9999|-1``);
    * ``error_after`` / ``warn_after`` (date columns): a list of limits, each
      ``("today", 0)`` or ``("others", DAYS)``, from ``today|others+1826``.

    Raises ValueError naming the field when it does not fit the column's type.
    """
    text, kind = spec.get(field, ""), spec["type"]
    if text == "":
        return [] if field != "warn_range" else None
    if field in ("warn_range", "warn_values") and kind not in ("integer", "number", "date"):
        raise ValueError(f"{field} '{text}' is only for integer, number and date columns, not {kind}")
    if field == "warn_range":
        if ".." not in text:
            raise ValueError(f"{field} '{text}' is not a range written lo..hi")
        return _parse_range(text, kind, field)
    if field == "warn_values":
        values = []
        for part in (p.strip() for p in text.split("|")):
            if kind == "date":  # compared as text: a code may lie outside the dates pandas handles (9999-12-31)
                try:
                    values.append(dt.date.fromisoformat(part) if _DATE_RE.match(part) else None)
                except ValueError:
                    values.append(None)
                if values[-1] is None:
                    raise ValueError(f"{field} '{text}': '{part}' is not a date written YYYY-MM-DD")
            else:
                values.append(_parse_value(part, kind, f"{field} '{text}'"))
        return values
    if kind != "date":
        raise ValueError(f"{field} '{text}' is only for date columns, not {kind}")
    limits = []
    for part in text.split("|"):
        match = _AFTER_RE.match(part.strip())
        if not match:
            raise ValueError(f"{field} '{text}': '{part.strip()}' is not 'today' or 'others+DAYS' (e.g. others+1826)")
        limits.append(("today", 0) if match.group(1) == "today" else ("others", int(match.group(2))))
    return limits


def _parse_range(allowed: str, kind: str, field: str):
    """A ``lo..hi`` range (either end may be blank) in the column's type, as (lo, hi)."""
    if ".." not in allowed:
        raise ValueError(f"{field} '{allowed}' is not a range written lo..hi")
    lo_text, hi_text = (part.strip() for part in allowed.split("..", 1))
    bounds = []
    for text in (lo_text, hi_text):
        if text == "":
            bounds.append(None)
        elif kind == "date":
            if not _DATE_RE.match(text):
                raise ValueError(f"{field} '{allowed}': '{text}' is not a date written YYYY-MM-DD")
            try:
                bounds.append(pd.Timestamp(dt.date.fromisoformat(text)))
            except (ValueError, pd.errors.OutOfBoundsDatetime):
                raise ValueError(f"{field} '{allowed}': '{text}' is not a usable date") from None
        else:
            if not _NUMBER_RE.match(text):
                raise ValueError(f"{field} '{allowed}': '{text}' is not a number")
            number = float(text)
            bounds.append(int(number) if kind == "integer" and number.is_integer() else number)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise ValueError(f"{field} '{allowed}': the lower end is above the upper end")
    return tuple(bounds)


def _table_spec(dictionary: pd.DataFrame, table: str) -> pd.DataFrame:
    return _spec_entry(dictionary, table)[0]


_SPECS: dict = {}


def _spec_entry(dictionary: pd.DataFrame, table: str):
    """(the table's dictionary rows indexed by column, {column: its row}, {} for what is derived from
    them), remembered for a dictionary of texts met before (the same objects each time: not to be
    changed, except by adding to the third)."""
    key = _frame_key(dictionary)
    entry = None if key is None else _SPECS.get((key, table))
    if entry is None:
        spec = _make_table_spec(dictionary, table)
        entry = spec, {column: spec.loc[column] for column in spec.index}, {}
        if key is not None:
            if len(_SPECS) >= 64:
                _SPECS.clear()
            _SPECS[(key, table)] = entry
    return entry


def _make_table_spec(dictionary: pd.DataFrame, table: str) -> pd.DataFrame:
    spec = dictionary[dictionary["table"] == table]
    if spec.empty:
        known = ", ".join(pd.unique(dictionary["table"]))
        raise ValueError(f"table '{table}' is not in the data dictionary (it has: {known})")
    return spec.set_index("column", drop=False)


def _describe_range(allowed, spec) -> str:
    lo, hi = allowed
    unit = f" {spec['unit']}" if spec.get("unit") else ""
    if lo is not None and hi is not None:
        return f"{_show(lo)} to {_show(hi)}{unit}"
    if lo is not None:
        return f"(at least {_show(lo)}{unit})"
    return f"(at most {_show(hi)}{unit})"
