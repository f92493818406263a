"""The column rules as a pandera schema, a quick test of the same rules, and pandera's failures in words.

:func:`build_schema` builds a table's schema from the dictionary (type, allowed values or range, required, unique,
optional); :func:`_schema_passes` answers whether pandera would find nothing (then the slow pass is skipped);
:func:`_translate_failures` turns pandera's failure cases into problems a clinician can act on.
"""
from __future__ import annotations

import difflib

import numpy as np
import pandas as pd
import pandera.pandas as pa

from src.config import SYNONYMS_NAME
from src.validate.cells import _code_hint
from src.validate.dictionary import _PANDAS_DTYPES, _describe_range, _frame_key, _parse_allowed, _table_spec
from src.validate.problems import _problem, _show


def build_schema(dictionary: pd.DataFrame, table: str) -> pa.DataFrameSchema:
    """Build the pandera schema of ``table`` from the dictionary rows.

    One column per dictionary row with the dictionary type (``integer`` as
    nullable ``Int64``, ``number`` float64, ``date`` datetime64[ns],
    ``string``/``category`` str) and ``coerce=True``; ``isin`` for allowed
    values, ``in_range`` (or a one-sided bound) for ``lo..hi``;
    ``nullable`` unless required; ``unique`` when unique. The schema is
    strict: a column not in the dictionary is an error, and so is a missing
    one unless ``optional`` is ``yes`` (pandera's ``required=False``).
    Nothing about particular columns is hard-coded here.
    """
    columns = {}
    for column, spec in _table_spec(dictionary, table).iterrows():
        allowed = _parse_allowed(spec)
        checks = []
        if isinstance(allowed, list):
            checks.append(pa.Check.isin(allowed))
        elif isinstance(allowed, tuple):
            lo, hi = allowed
            if lo is not None and hi is not None:
                checks.append(pa.Check.in_range(lo, hi))
            elif lo is not None:
                checks.append(pa.Check.greater_than_or_equal_to(lo))
            elif hi is not None:
                checks.append(pa.Check.less_than_or_equal_to(hi))
        columns[column] = pa.Column(
            _PANDAS_DTYPES[spec["type"]],
            checks=checks,
            nullable=spec["required"] != "yes",
            unique=spec["unique"] == "yes",
            coerce=True,
            required=spec.get("optional", "no") != "yes",
            description=spec.get("meaning", None),
        )
    return pa.DataFrameSchema(columns, strict=True, name=table)


_SCHEMAS: dict = {}


def _cached_schema(dictionary: pd.DataFrame, table: str) -> pa.DataFrameSchema:
    """build_schema, remembered for identical dictionary rows (building one takes a while)."""
    spec = dictionary[dictionary["table"] == table]
    key = (table, tuple(map(tuple, spec.astype(str).to_numpy())))
    if key not in _SCHEMAS:
        _SCHEMAS[key] = build_schema(dictionary, table)
    return _SCHEMAS[key]


def _schema_passes(columns: dict, spec: pd.DataFrame) -> bool:
    """True only if pandera's validation by :func:`build_schema` of the DataFrame of ``columns``
    ({name: Series}) would find no failure.

    A quick test of the same rules (columns, dtype, nullable, unique, allowed values or range) on the
    typed columns; any doubt (a dtype other than the one the schema coerces to, a value it would
    compare) answers False, and pandera then reports the failures as before.
    """
    for column in columns:
        if column not in spec.index:
            return False  # strict: an unexpected column
    for column, rule in _column_rules(spec).items():
        series = columns.get(column)
        if series is None:
            if not rule.optional:
                return False
            continue
        dtype = series.dtype
        kind = rule.kind
        if rule.unique and not series.is_unique:
            return False
        if kind in ("string", "category"):
            if dtype != object:
                return False
            values = [v for v in series.to_numpy() if v is not None]
            if not all(type(v) is str for v in values):
                return False  # (then no other missing value than None)
            if rule.required and len(values) < len(series):
                return False
            if rule.allowed_set is not None and not set(values) <= rule.allowed_set:
                return False
            continue
        if kind == "integer":
            if not isinstance(dtype, pd.Int64Dtype):
                return False
            isna = series.array.isna()
            values = series.array.to_numpy(dtype="int64", na_value=0)
        elif kind == "number":
            if dtype != np.float64:
                return False
            values = series.to_numpy()
            isna = np.isnan(values)
        else:  # date
            if dtype != np.dtype("datetime64[ns]"):
                return False
            values = series.to_numpy()
            isna = np.isnat(values)
        if isna.any():
            if rule.required:
                return False
            values = values[~isna]
        if rule.lo is not None and len(values) and not (values >= rule.lo).all():
            return False
        if rule.hi is not None and len(values) and not (values <= rule.hi).all():
            return False
    return True


class _ColumnRule:
    """The dictionary row of a column as :func:`_schema_passes` uses it."""

    __slots__ = ("kind", "required", "unique", "optional", "allowed_set", "lo", "hi")

    def __init__(self, info):
        self.kind = info["type"]
        self.required = info["required"] == "yes"
        self.unique = info["unique"] == "yes"
        self.optional = info.get("optional", "no") == "yes"
        allowed = _parse_allowed(info)
        self.allowed_set = set(allowed) if isinstance(allowed, list) else None
        lo, hi = allowed if isinstance(allowed, tuple) else (None, None)
        if self.kind == "date":  # numpy datetime64[ns] values compare with numpy datetimes
            lo, hi = (None if b is None else b.to_datetime64() for b in (lo, hi))
        self.lo, self.hi = lo, hi


_RULES: dict = {}


def _column_rules(spec: pd.DataFrame) -> dict:
    """{column: _ColumnRule} of a table's dictionary rows, remembered for identical rows of texts."""
    key = _frame_key(spec)
    rules = None if key is None else _RULES.get(key)
    if rules is None:
        rules = {column: _ColumnRule(info) for column, info in spec.iterrows()}
        if key is not None:
            if len(_RULES) >= 64:
                _RULES.clear()
            _RULES[key] = rules
    return rules


MISSING_VALUE = "is missing (a value is required)"  # end of the message for a missing required value


def _translate_failures(cases: pd.DataFrame, schema, spec, text, typed, file, unparsed):
    """pandera failure cases -> (problem dicts, [(column, row) of bad cells])."""
    problems, failed = [], []
    missing = set(cases.loc[cases["check"] == "column_in_dataframe", "failure_case"].astype(str))
    for _, case in cases.iterrows():
        check, column, row = case["check"], case["column"], case["index"]
        if check == "column_in_dataframe":
            name = case["failure_case"]
            problems.append(_problem(file, None, name, None, f"{file}: column '{name}' is missing"))
            continue
        if check == "column_in_schema":
            name = str(case["failure_case"])
            close = difflib.get_close_matches(name, sorted(missing), n=1, cutoff=0.6) or \
                [m for m in missing if m.lower() == name.lower()]
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(_problem(file, None, name, None, f"{file}: unexpected column '{name}'{hint}"))
            continue
        if column not in spec.index or row is None or pd.isna(row):
            problems.append(_problem(file, None, column, _show(case["failure_case"]),
                                     f"{file}: {column} fails the check {check}"))
            continue
        row = int(row)
        raw = text.at[row, column] if column in text.columns and row in text.index else _show(case["failure_case"])
        where = f"{file} row {row}, {column}"
        info = spec.loc[column]
        if check == "not_nullable":
            if row in unparsed.get(column, ()):
                continue  # already reported as unreadable
            problems.append(_problem(file, row, column, None, f"{where} {MISSING_VALUE}"))
            continue
        if check == "field_uniqueness":
            value = typed.at[row, column]
            if value is None or pd.isna(value):
                continue  # several missing values: reported as missing
            rows = list(typed.index[(typed[column] == value).to_numpy(dtype=bool, na_value=False)])
            if row != rows[0]:
                continue  # one problem per repeated value, at its first row
            listed = ", ".join(str(r) for r in rows)
            problems.append(_problem(file, row, column, raw, f"{where} '{raw}' appears more than once (rows {listed})"))
            continue
        try:
            name = schema.columns[column].checks[int(case["check_number"])].name
        except (TypeError, ValueError, IndexError, KeyError):
            name = str(check)
        allowed = _parse_allowed(info)
        if name == "isin":
            message = f"{where} '{raw}' is not one of {', '.join(allowed)}"
            same = [a for a in allowed if str(raw).casefold() == a.casefold()]
            if same:  # only without a synonyms file: with one, another case is read as the allowed value
                message += (f" (written in another case than '{same[0]}'; values are read exactly as written "
                            f"because the data dictionary in use has no {SYNONYMS_NAME} beside it)")
        elif name in ("in_range", "greater_than_or_equal_to", "less_than_or_equal_to"):
            message = f"{where} {raw} is outside the allowed range {_describe_range(allowed, info)}{_code_hint(info, raw)}"
        else:
            message = f"{where} '{raw}' fails the check {check}"
        problems.append(_problem(file, row, column, raw, message))
        failed.append((column, row))
    return problems, failed
