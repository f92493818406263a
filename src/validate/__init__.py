"""Check a data folder against the data dictionary before any analysis runs.

The notebooks read three tables: ``patients``, ``progression`` and
``adverse_events``. ``data/data_dictionary.csv`` describes every column of
them (type, unit, allowed values or range, whether a value is required,
whether it must be unique, whether the column may be left out of a file).
This module reads the tables, checks them against the dictionary and
against the clinical plausibility rules below, and either returns typed
pandas DataFrames or raises :class:`DataValidationError` listing **every**
problem found, in words a clinician can act on. Some findings are warnings
(a possible but suspicious value) that the user must acknowledge, see
"Plausibility fields" below. Run it from the command line with
``python -m src.validate DATA_DIR [--accept-warnings]`` (``make check``).

Reading
    Each table is looked for as ``NAME.csv``, ``NAME.xlsx`` or ``NAME.sav``
    (SPSS); exactly one must exist. CSV files must be UTF-8 (a byte-order
    mark is accepted) and use commas, or ``;`` as a European spreadsheet
    writes them: then a decimal comma and day-first dates are read when
    unambiguous (:func:`_european_reading`; a note says so, an ambiguous
    number or date is a problem naming the column and the values). Every cell is read as text and
    converted by this module, so that a bad value is reported instead of
    silently becoming missing. Leading and trailing spaces are removed; an
    empty cell is a missing value (``NA``, ``.`` and the like are *not*
    treated as missing). Completely empty lines are ignored.

    A workbook: the worksheet named after the table (``progression``, in
    any case), else the only worksheet that holds data; several worksheets
    with data and none named after the table is a problem that lists them.
    An SPSS file: the values as stored (codes); a column's value labels are
    used instead when every label met in the column is read as an allowed
    value (below), e.g. ``1 = male, 2 = female`` for ``sex``; otherwise the
    codes are kept (``0 = censored, 1 = event`` for ``death``).

    Synonyms: when the dictionary in use has a ``synonyms.csv`` beside it
    (:func:`read_synonyms`; the project's is ``data/synonyms.csv``), a
    ``category`` value written in another case is read as the allowed value
    (``yes`` for ``Yes``/``YES``, ``M`` for ``m``), and the values it
    declares are read as their meaning: ``1``/``0``, ``TRUE``/``FALSE``,
    ``Y``/``N`` for ``yes``/``no`` columns, ``male``/``female`` for
    ``M``/``F``, CTCAE v4.0/v5.0 terms ("Platelet count decreased") for the
    CTCAE v3.0 terms of ``adverse_events.term`` ("Platelets"), words for the
    0/1 flags ``death`` and ``led_to_discontinuation``. Declarations are
    matched ignoring case; anything not declared stays a problem. Without a
    ``synonyms.csv`` beside the dictionary (e.g. a data folder with its own
    ``data_dictionary.csv`` only), values are read exactly as written, as
    before synonyms existed. The command line lists how values were read.

    A file that is empty (no header) or is not a table at all (binary data,
    an image, text in another encoding, an ``.xlsx`` or ``.sav`` that is not
    one) is a problem; the file's other rules are then not checked.
    ``patients`` must have at least one data row. ``progression`` and
    ``adverse_events`` (:data:`MAY_BE_EMPTY`) may have a header and no
    rows (nobody progressed, no adverse event recorded): the result is then
    an empty, typed DataFrame.

    Hints: a number written with a thousands separator (``2,833``,
    ``12,500``: plain digits are needed), with a decimal comma (``2,8``,
    ``0,75``) or both (``1.234,5``); an Excel day number in a date column
    (``40909`` is 2012-01-01); a value outside ``allowed`` that is one of the
    column's ``warn_values`` (a code such as 9 or -1 for "unknown").

Row numbers
    Every message names the row as a spreadsheet shows it: the header is
    row 1 and the first data row is row 2. In a CSV file without line breaks
    inside quoted cells this is also the line number of the file. For an
    SPSS file, row N is case N - 1.

Column rules (built from the dictionary by :func:`build_schema`, checked by pandera)
    * the set of columns is the dictionary's: an unexpected column is a
      problem, and so is a missing column unless its ``optional`` is
      ``yes``. An optional column may be left out of the file (the returned
      DataFrame then lacks it); if it is there, its values follow every rule
      below (``required`` is about the values, ``optional`` about the
      column: the project's optional columns have ``required`` ``no``, so a
      blank cell in them is a missing value). An optional, not required
      column that is present but empty in every row is read as left out. A
      dictionary without an ``optional`` column makes every column
      compulsory. A required column that is empty in every row is one
      problem (with the advice to leave an optional column out), not one
      per row. A CSV row that ends before the last columns (fewer values
      than the header) is a problem in each column it leaves out, required
      or not;
    * the value has the dictionary type: ``integer`` (whole number),
      ``number`` (digits 0-9 with an optional sign, decimal point and
      exponent: ``-1``, ``2.5``, ``3e4``; no decimal comma, no ``nan``),
      ``date`` (written ``YYYY-MM-DD``), ``string``, ``category``;
    * a ``category`` is one of the ``allowed`` values (``A|B|C``, case
      sensitive);
    * a number, integer or date lies in the ``allowed`` range ``lo..hi``
      (both ends included);
    * a value is present when ``required`` is ``yes``;
    * no value appears twice when ``unique`` is ``yes``.

Principle
    An *error* is a value that cannot be true (wrong type, undeclared
    category, outside ``allowed``: below zero, off its scale; a date after
    today; dates out of order); a *warning* is a value that can be true but
    deserves a look (rules 5 and 7-10 below, ``warn_*`` fields). Warnings
    carry a ``rule`` and are counted per rule. ``strict=True`` (the
    generators' own check) makes every warning an error.

Cross-table and plausibility rules (:func:`check_rules`: errors 1-4 and 6;
:func:`check_rule_warnings`: warnings 5 and 7-10)
    1. every ``patient_id`` of ``progression`` and ``adverse_events`` exists
       in ``patients``;
    2. ``last_followup_date`` is not before ``first_haic_date``;
    3. ``progression_date`` is not before the patient's ``first_haic_date``
       and not after the patient's ``last_followup_date``;
    4. ``salvage_start_date`` is not before ``progression_date`` and not
       after the patient's ``last_followup_date``;
    5. a ``salvage_treatment`` of ``sorafenib`` does not start before
       :data:`SORAFENIB_APPROVAL`;
    6. the ``age`` at progression is not lower than the baseline ``age`` and
       not higher than baseline age + whole years elapsed from the first HAIC
       to progression + 1;
    7. ``child_pugh_score`` (in ``patients`` and in ``progression``) lies in
       the range that its recorded components allow
       (:func:`child_pugh_points_range`; encephalopathy is not recorded, so
       it may add 1 to 3 points, and ascites adds 2 or 3).

    8. ``n_haic_sessions`` fits the protocol's schedule: HAIC was repeated
       at intervals of 4 to 6 weeks, so n sessions need at least
       (n - 1) x :data:`MIN_SESSION_INTERVAL_DAYS` (28) days from
       ``first_haic_date`` to the patient's (first) ``progression_date``,
       or to ``last_followup_date`` if the patient has no progression row;
    9. a ``best_response`` of CR, PR, SD or PD needs an imaging assessment,
       made 4 weeks after a session: ``last_followup_date`` at least
       :data:`RESPONSE_ASSESSMENT_DAYS` (28) days after ``first_haic_date``
       (otherwise the response is NE, not evaluated).

    Rule-based warnings (:func:`check_rule_warnings`; acknowledged like the
    plausibility warnings below):

    10. a patient whose ``best_response`` is PD and who has a progression
        row has a ``max_tumor_size_mm`` at progression not smaller than at
        the first HAIC. A warning, not an error: under RECIST a new lesion
        or a growing non-target lesion is progression too, while the largest
        tumour may have shrunk; in a cohort where progression means growth
        of the largest tumour (the bundled one) it flags a swapped or
        mistyped size.

    A rule is skipped for a value that already broke a column rule (it is
    reported once), for a table missing the columns it needs (a missing
    compulsory column is reported; a missing optional column is not), and
    for a table that could not be read at all.

Plausibility fields of the dictionary (:func:`check_plausibility`)
    The severity is part of the field's name; blank means no check, and a
    dictionary without these fields checks nothing more. A value gets at
    most one finding, none if it already broke a rule above.

    * ``error_after`` / ``warn_after`` (date columns), one or more of
      ``today``: a date after the day of the check (``today=``,
      ``--today``; default the system date); ``others+DAYS``: a date more
      than DAYS days after the latest *other* date of the data, every date
      column of every table with this cell left out: the data's own last
      recorded date. The project's dictionary: ``error_after`` ``today`` on
      every date; ``warn_after`` ``others+1826`` (five years) on
      ``last_followup_date``, where a mistyped year stretches every survival
      curve (a wide margin: in a small cohort a long survivor may well
      outlive the other records by a few years).
    * ``warn_values`` (number, integer, date columns): values that exports
      use as codes for "unknown" (``999|9999|-1``, ``1900-01-01``); a
      warning when the value is one of them exactly (``999.5`` is not), and
      a hint in the error when it is also outside ``allowed`` (``ecog_ps``
      9). Tumour markers list only ``-1|99999|999999``: AFP 9999 or 250000
      ng/mL are real values.
    * ``warn_range`` (``lo..hi``, number, integer, date columns):
      physiological limits, a warning naming the limit when a value lies
      outside (albumin 5.8 g/dL; bilirubin 17, probably µmol/L, above
      10 mg/dL), while ``allowed`` is the hard range (an error).

    Errors stop the analysis like any other problem. Warnings stop it too
    until they are acknowledged: :func:`load_and_validate` raises
    :class:`UnacknowledgedWarnings` unless ``accept_warnings=True``
    (``--accept-warnings`` of ``python -m src.validate`` and
    ``python -m src.runner``, ``ACCEPT_WARNINGS=1`` of ``make``);
    :func:`check_data` returns the tables and the warnings without raising
    for warnings.

Problems
    A problem is one row of a DataFrame with columns ``file``, ``row``,
    ``column``, ``value``, ``message`` (``row``/``column``/``value`` are
    empty for a problem about a whole file or column). ``value`` is the
    text as written in the file (a typed value for the plausibility
    findings: ``999`` for ``999.0``). Warnings have the same columns. A file that cannot be read as a table is
    one problem; when the cause has a place (the first cell that is not
    UTF-8, a quote that is not closed), its row and column are given.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import difflib
import io
import math
import re
import sys
import warnings
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from src.config import DEFAULT_DICTIONARY, DICTIONARY_NAME, SYNONYMS_NAME, TABLE_SUFFIXES  # noqa: F401 (re-exported)
from src.study import (MIN_SESSION_INTERVAL_DAYS, RESPONSE_ASSESSMENT_DAYS,  # noqa: F401 (re-exported)
                       SORAFENIB_APPROVAL_MONTH)

#: Sorafenib was approved for advanced hepatocellular carcinoma in Japan in
#: May 2009; a sorafenib salvage treatment starting before that month is implausible for
#: the reproduced (Japanese) cohort (`study.SORAFENIB_APPROVAL_MONTH`: the rule's date, not the
#: generators'). Pass ``sorafenib_approval=`` to :func:`load_and_validate` or :func:`check_rules`
#: for another cohort.
SORAFENIB_APPROVAL = SORAFENIB_APPROVAL_MONTH

# The protocol's intervals (rules 8 and 9: `study.MIN_SESSION_INTERVAL_DAYS`, `study.RESPONSE_ASSESSMENT_DAYS`)
# and the project's files (`config.DEFAULT_DICTIONARY`: the data dictionary used when the data folder has none)
# are imported above.

#: The rules whose findings are warnings (values that can be true but deserve a look), as warnings name
#: them (the ``rule`` of a warning) and count them.
RULE_CHILD_PUGH = "Child-Pugh score does not fit its components (rule 7)"
RULE_SESSIONS = "HAIC sessions closer than 28 days (rule 8)"
RULE_RESPONSE = "response read within 28 days of the first HAIC (rule 9)"
RULE_PD_SHRANK = "tumour smaller at progression after PD (rule 10)"
RULE_SORAFENIB = "sorafenib before its approval (rule 5)"
RULE_CODE = "code for an unknown value (warn_values)"
RULE_LIMITS = "outside physiological limits (warn_range)"
RULE_LATE = "date far after every other date (warn_after others+DAYS)"
RULE_FUTURE = "date after today (warn_after today)"

#: Columns of a problem table. ``rule`` names the rule a warning breaks, in words (warnings are counted per
#: rule); it is empty for errors.
PROBLEM_COLUMNS = ["file", "row", "column", "value", "message", "rule"]
#: File formats :func:`read_table` accepts, in the order they are looked for: `config.TABLE_SUFFIXES`.

ROW_CONVENTION = (
    "Rows are numbered as in a spreadsheet: the header is row 1 and the first data row is row 2."
)

_DICTIONARY_COLUMNS = ["table", "column", "type", "unit", "allowed", "required", "unique"]
_YES_NO_FIELDS = ("required", "unique", "optional")
#: Plausibility fields of the dictionary (blank = no check; absent from an older dictionary = blank).
#: The severity is part of the name: a ``warn_*`` finding is a warning the user must acknowledge,
#: an ``error_*`` finding an error (like a value outside ``allowed``).
PLAUSIBILITY_FIELDS = ("warn_range", "warn_values", "error_after", "warn_after")
#: File of declared synonyms, looked for beside the data dictionary in use: `config.SYNONYMS_NAME`.
_SYNONYM_COLUMNS = ["table", "column", "value", "means"]
_AFTER_RE = re.compile(r"^(today|others\+(\d+))$")
#: Tables that may have a header and no data rows (every other table needs a row).
MAY_BE_EMPTY = ("progression", "adverse_events")
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
_DECIMAL_COMMA_RE = re.compile(r"^[+-]?\d+,\d+$", re.ASCII)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_NS_MIN, _NS_MAX = dt.date(1677, 9, 22), dt.date(2262, 4, 11)
_COUNT_WORDS = {
    "patients": "patients",
    "progression": "progression rows",
    "adverse_events": "adverse events",
}


class DataValidationError(ValueError):
    """The data do not satisfy the dictionary or the plausibility rules.

    ``.problems`` is a DataFrame with columns ``file, row, column, value,
    message`` (one row per error, grouped by file, then by row);
    ``.warnings`` the same for the warnings found besides (possibly no
    rows); ``str(error)`` is the full report listing every error, then every
    warning.
    """

    def __init__(self, problems, warnings=None):
        self.problems = _problem_frame(problems)
        self.warnings = _problem_frame(warnings if warnings is not None else [])
        super().__init__(str(self))

    def __str__(self) -> str:
        report = format_report(self.problems)
        if len(self.warnings):
            report += "\n\n" + format_warnings(self.warnings, after_errors=True)
        return report


#: How to acknowledge warnings, in every message that asks for it.
ACKNOWLEDGE = (
    "Check each value in its file. Correct the ones that are wrong; if they are all right, acknowledge them: "
    "python -m src.validate DATA_DIR --accept-warnings, python -m src.runner ... --accept-warnings, "
    "or ACCEPT_WARNINGS=1 with make (make check / make run)."
)


class UnacknowledgedWarnings(DataValidationError):
    """The data have no error but have warnings that were not acknowledged.

    ``.problems`` and ``.warnings`` are both the warnings (columns ``file,
    row, column, value, message``); ``str(error)`` lists every warning and
    says how to acknowledge them (``accept_warnings=True``,
    ``--accept-warnings``, ``ACCEPT_WARNINGS=1``).
    """

    def __init__(self, warnings):
        super().__init__(warnings, warnings)

    def __str__(self) -> str:
        return format_warnings(self.warnings)


# ---------------------------------------------------------------- problems


def _problem(file, row=None, column=None, value=None, message="", rule=None):
    return {"file": file, "row": row, "column": column, "value": value, "message": message, "rule": rule}


def _problem_frame(problems, file_order=()) -> pd.DataFrame:
    """Problems (list of dicts and/or DataFrames, or a DataFrame) as one sorted DataFrame.

    Files come in the order of ``file_order``, then in order of first appearance.
    """
    if isinstance(problems, pd.DataFrame):
        records = problems.reindex(columns=PROBLEM_COLUMNS).to_dict("records") if len(problems) else []
    else:
        records = []
        for item in problems:
            if isinstance(item, pd.DataFrame):
                if len(item):
                    records.extend(item.reindex(columns=PROBLEM_COLUMNS).to_dict("records"))
            else:
                records.append(item)
    if not records:
        return _NO_PROBLEMS.copy()
    frame = pd.DataFrame.from_records(records, columns=PROBLEM_COLUMNS)
    frame["row"] = pd.array(frame["row"], dtype="Int64")
    for col in ("file", "column", "value", "message", "rule"):
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    # group by file, then by row; problems about a whole file or column first
    file_order = {f: i for i, f in enumerate(dict.fromkeys([*file_order, *frame["file"]]))}
    keys = pd.DataFrame(
        {
            "f": frame["file"].map(file_order),
            "r": frame["row"].fillna(-1).astype("int64"),
        }
    )
    order = keys.sort_values(["f", "r"], kind="stable").index
    return frame.loc[order].drop_duplicates().reset_index(drop=True)


_NO_PROBLEMS = pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else object) for c in PROBLEM_COLUMNS})


def format_report(problems) -> str:
    """Return the human-readable report for a problem table: a count header,
    the row-numbering convention, then every problem grouped by file."""
    frame = problems if isinstance(problems, pd.DataFrame) else _problem_frame(problems)
    if frame.attrs.get("severity") == "warning":  # the warnings check_data returns, once accepted
        return format_warnings(frame, accepted=True)
    n = len(frame)
    if n == 0:
        return "No problems found."
    files = list(pd.unique(frame["file"]))
    lines = [
        f"Data validation failed: {_plural(n, 'problem')} in {_plural(len(files), 'file')}.",
        ROW_CONVENTION,
    ]
    for file in files:
        part = frame[frame["file"] == file]
        lines.append("")
        lines.append(f"{file}: {_plural(len(part), 'problem')}")
        lines.extend(f"  - {m}" for m in part["message"])
    return "\n".join(lines)


def format_warnings(warnings, *, accepted: bool = False, after_errors: bool = False) -> str:
    """The report of a warning table: a count header, every warning grouped by file, and what to do
    (acknowledge them; or, ``accepted``, that they were acknowledged)."""
    frame = warnings if isinstance(warnings, pd.DataFrame) else _problem_frame(warnings)
    n = len(frame)
    if n == 0:
        return "No warnings."
    files = list(pd.unique(frame["file"]))
    where = f"{_plural(n, 'warning')} in {_plural(len(files), 'file')}"
    if accepted:
        lines = [f"Accepted {where} (acknowledged with --accept-warnings):"]
    elif after_errors:
        lines = [f"Also {where} (values that are possible but suspicious; once the errors are corrected they "
                 f"must be checked and acknowledged):"]
    else:
        lines = [f"Data validation found {where} to acknowledge before the analysis runs: values that are "
                 f"possible but suspicious.", ROW_CONVENTION]
    lines.extend(["", "Warnings per rule:"] + [f"  - {rule}: {count}" for rule, count in count_per_rule(frame)])
    for file in files:
        part = frame[frame["file"] == file]
        lines.append("")
        lines.append(f"{file}: {_plural(len(part), 'warning')}")
        lines.extend(f"  - {m}" for m in part["message"])
    if not accepted:
        lines.append("")
        lines.append(ACKNOWLEDGE)
    return "\n".join(lines)


def count_per_rule(warnings) -> list[tuple[str, int]]:
    """``(rule, number of warnings)`` of a warning table, rules in order of first appearance."""
    frame = warnings if isinstance(warnings, pd.DataFrame) else _problem_frame(warnings)
    rules = frame["rule"] if "rule" in frame else pd.Series([None] * len(frame), dtype=object)
    counts: dict[str, int] = {}
    for rule in rules:
        key = rule if isinstance(rule, str) and rule else "other"
        counts[key] = counts.get(key, 0) + 1
    return list(counts.items())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _show(value) -> str:
    """A typed value written as in the data files (dates YYYY-MM-DD, 70.0 as 70)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (np.integer,)):
        return str(int(value))
    return str(value)


def _col_letter(i: int) -> str:
    """Spreadsheet letter of 0-based column i (0 -> A, 26 -> AA)."""
    letters = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# -------------------------------------------------------------- dictionary


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


def default_synonyms(dictionary_path) -> Path:
    """The synonyms file of a dictionary: ``synonyms.csv`` in the same folder."""
    return Path(dictionary_path).with_name(SYNONYMS_NAME)


def read_synonyms(path, dictionary: pd.DataFrame) -> dict[tuple[str, str], dict[str, str]] | None:
    """Read a synonyms CSV (``table,column,value,means[,note]``) and check it against the dictionary.

    One row declares that the ``value`` (one text, or several separated by
    ``|``) written in ``column`` of ``table`` is read as the dictionary value
    ``means``. ``table`` may be ``*`` (every table that has the column) and
    ``column`` several names separated by ``|``. Values are matched ignoring
    case and surrounding spaces. Only ``category`` columns (``means`` one of
    their allowed values) and ``integer``/``number`` columns (``means`` a
    number in their allowed range) take synonyms.

    Returns ``{(table, column): {value casefolded: means}}``; None when
    ``path`` is None or does not exist (then values are read exactly as
    written: no other case, no synonym). Raises
    :class:`DataValidationError` naming the row of a declaration that does
    not fit the dictionary (unknown table or column, ``means`` not allowed,
    one value declared with two meanings, a synonym that is itself another
    allowed value).
    """
    if path is None or not Path(path).is_file():
        return None
    path = Path(path)
    data = _file_bytes(path)
    dictionary_key = _frame_key(dictionary)
    if data is None or dictionary_key is None:
        return _read_synonyms(path, dictionary)
    key = ("synonyms", str(path), data, dictionary_key)
    return _cached_read(key,
                        lambda: _read_synonyms(path, dictionary),
                        lambda result: {target: dict(mapping) for target, mapping in result.items()})


def _read_synonyms(path: Path, dictionary: pd.DataFrame) -> dict[tuple[str, str], dict[str, str]]:
    """read_synonyms of a file that exists, without remembering it."""
    name = path.name
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _fatal(name, f"synonyms file {path} cannot be read as a UTF-8 CSV table ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in _SYNONYM_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError([_problem(name, column=c, message=f"{name}: column '{c}' is missing") for c in missing])
    frame = frame.apply(lambda col: col.str.strip())
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    specs = dictionary.set_index(["table", "column"], drop=False)
    tables = list(pd.unique(dictionary["table"]))
    result: dict[tuple[str, str], dict[str, str]] = {}
    problems = []
    for row, decl in frame.iterrows():
        where = f"{name} row {row}"

        def bad(column, text, decl=decl, row=row, where=where):
            problems.append(_problem(name, row, column, decl[column], f"{where}, {text}"))

        if decl["table"] != "*" and decl["table"] not in tables:
            bad("table", f"table '{decl['table']}' is not in the data dictionary (it has: {', '.join(tables)}, or *)")
            continue
        values = [v for v in (part.strip() for part in decl["value"].split("|")) if v]
        if not values:
            bad("value", "value is empty")
            continue
        for column in (part.strip() for part in decl["column"].split("|")):
            targets = [(t, column) for t in (tables if decl["table"] == "*" else [decl["table"]])
                       if (t, column) in specs.index]
            if not targets:
                bad("column", f"column '{column}' is not in the data dictionary"
                              + ("" if decl["table"] == "*" else f" for table '{decl['table']}'"))
                continue
            for target in targets:
                spec = specs.loc[target]
                means = decl["means"]
                allowed = _parse_allowed(spec)
                if spec["type"] == "category":
                    if allowed is not None and means not in allowed:
                        bad("means", f"'{means}' is not an allowed value of {target[0]}.{target[1]} "
                                     f"({', '.join(allowed)})")
                        continue
                    folded_allowed = {a.casefold(): a for a in (allowed or [])}
                elif spec["type"] in ("integer", "number"):
                    try:
                        number = _parse_value(means, spec["type"], "means")
                        if spec["type"] == "integer" and not float(number).is_integer():
                            raise ValueError
                    except ValueError:
                        bad("means", f"'{means}' is not {'an integer' if spec['type'] == 'integer' else 'a number'} "
                                     f"for {target[0]}.{target[1]}")
                        continue
                    lo, hi = allowed if isinstance(allowed, tuple) else (None, None)
                    if (lo is not None and number < lo) or (hi is not None and number > hi):
                        bad("means", f"'{means}' is outside the allowed range of {target[0]}.{target[1]} "
                                     f"({_describe_range(allowed, spec)})")
                        continue
                    folded_allowed = {}
                else:
                    bad("column", f"{target[0]}.{target[1]} is a {spec['type']} column; only category, integer "
                                  f"and number columns take synonyms")
                    continue
                mapping = result.setdefault(target, {})
                for value in values:
                    key = value.casefold()
                    if key in folded_allowed and folded_allowed[key] != means:
                        bad("value", f"'{value}' is itself the allowed value '{folded_allowed[key]}' of "
                                     f"{target[0]}.{target[1]}; it cannot also mean '{means}'")
                    elif mapping.get(key, means) != means:
                        bad("value", f"'{value}' of {target[0]}.{target[1]} is declared twice, as '{mapping[key]}' "
                                     f"and as '{means}'")
                    else:
                        mapping[key] = means
    if problems:
        raise DataValidationError(problems)
    return result


def _recode(text: pd.Series, spec, synonyms: dict[str, str] | None, labels: dict | None = None):
    """Read a text column as the dictionary's values: another case of an allowed category, a declared
    synonym (both only when ``synonyms`` is not None: the dictionary has a synonyms file), or (SPSS) the
    value label of a code when every label of the column is so read.

    Returns (recoded series, notes): notes are (written, read as, how, number of cells).
    """
    kind = spec["type"]
    if kind not in ("category", "integer", "number"):
        return text, []
    allowed = _parse_allowed(spec) if kind == "category" else None
    exact = set(allowed or [])
    folded: dict[str, str] = {}
    if synonyms is not None:
        for value in allowed or []:
            folded[value.casefold()] = value if value.casefold() not in folded else None  # None: ambiguous
    synonyms = synonyms or {}

    def read(value):
        """(value read, how) or (value, None) when nothing applies."""
        if value in exact:
            return value, None
        key = value.casefold()
        if folded.get(key):
            return folded[key], "other case"
        if key in synonyms:
            return synonyms[key], f"synonym in {SYNONYMS_NAME}"
        return value, None

    def fits(value):
        new, how = read(value)
        if kind == "category":
            return new in exact
        return how is not None or bool(_NUMBER_RE.match(new))

    notes: dict = {}
    values = list(text)
    if not labels and all(read(value)[1] is None for value in set(values) if value is not None):
        return pd.Series(values, index=text.index, name=text.name, dtype=object), []  # every value as written
    if labels:
        coded = [(i, labels[v]) for i, v in enumerate(values) if v is not None and v in labels]
        if coded and all(fits(label) for _, label in coded):
            for i, label in coded:
                notes[(values[i], label, "SPSS value label")] = notes.get((values[i], label, "SPSS value label"), 0) + 1
                values[i] = label
    out = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        new, how = read(value)
        if how is not None:
            notes[(value, new, how)] = notes.get((value, new, how), 0) + 1
        out.append(new)
    recoded = pd.Series(out, index=text.index, name=text.name, dtype=object)
    return recoded, [(a, b, how, n) for (a, b, how), n in notes.items()]


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


# ----------------------------------------------------------------- reading


def read_table(data_dir, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read table ``name`` from ``data_dir`` as text, whatever its format.

    Looks for ``name.csv``, ``name.xlsx`` and ``name.sav``; exactly one must
    exist. Returns ``(text, problems)``: ``text`` has one column per header
    name, every cell a stripped string or None (empty), its index is the
    spreadsheet row number (header = row 1) and ``text.attrs["source"]`` is
    the file name; ``problems`` lists non-fatal layout problems (a row with
    more values than the header, a repeated or unnamed column). ``text``
    has no rows for a file with a header and no data (whether the table may
    be empty is decided by :func:`validate_table`). Raises
    :class:`DataValidationError` when the file is missing, ambiguous, empty
    or cannot be read as a table (not UTF-8, binary, a workbook that is not
    one).
    """
    data_dir = Path(data_dir)
    found = [data_dir / f"{name}{suffix}" for suffix in TABLE_SUFFIXES if (data_dir / f"{name}{suffix}").is_file()]
    default = f"{name}.csv"
    if not found:
        others = " or ".join(f"{name}{s}" for s in TABLE_SUFFIXES[1:])
        raise DataValidationError(
            [_problem(default, message=f"{default} is missing from {data_dir} (also looked for {others})")]
        )
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        raise DataValidationError(
            [_problem(found[0].name, message=f"{names} are both in {data_dir}; keep only one of them")]
        )
    path = found[0]
    reader = {".csv": _read_csv_records, ".xlsx": _read_xlsx_records, ".sav": _read_sav_records}[path.suffix]
    try:
        records = reader(path)  # raises DataValidationError for unreadable files
    except OSError as exc:
        raise _fatal(path.name, f"{path.name} cannot be opened ({type(exc).__name__}: {exc.strerror or exc})") from None
    records, attrs = records if isinstance(records, tuple) else (records, {})
    text, problems = _frame_from_records(records, path.name)
    text.attrs.update(attrs)
    return text, problems


def _fatal(file: str, message: str, row=None, column=None, value=None):
    return DataValidationError([_problem(file, row, column, value, message)])


#: Leading bytes of file types that are sometimes saved under a table's name.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"$FL2", "an SPSS .sav file"),
    (b"$FL3", "an SPSS .sav file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PK\x03\x04", "an Excel workbook or another zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or other Office file"),
)
# bytes that do not occur in text: C0 controls except tab, line feed, vertical tab, form feed,
# carriage return and the DOS end-of-file mark (0x1A), which old text files may hold
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 26)) + b"\x7f"


def _file_kind(data: bytes) -> str | None:
    """What a file that is not a text table is ("a PNG image", ...), or None if it may be text."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    head = data[:65536]
    if b"\x00" in head:
        return "binary data (it contains NUL bytes)"
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    if controls and controls >= 0.01 * len(head):
        return "binary data (it contains control bytes that text does not have)"
    return None


def _looks_like_text(data: bytes) -> bool:
    """True if ``data`` reads as text: UTF-8, or mostly ASCII (text in another encoding)."""
    head = data[:65536]
    if _file_kind(head) is not None:
        return False
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return sum(32 <= b < 127 or b in (9, 10, 13) for b in head) >= 0.9 * len(head)
    return True


def _rename_hint(path: Path, kind: str) -> str:
    """Advice for a file of ``kind`` (from _file_kind) saved under ``path``."""
    if kind.startswith("an SPSS") and path.suffix != ".sav":
        return f"; name it {path.stem}.sav"
    if kind.startswith("an Excel workbook") and path.suffix != ".xlsx":
        return f" renamed {path.suffix} (save it as 'CSV UTF-8', or name it {path.stem}.xlsx)"
    if kind.startswith("an old Excel"):
        return "; save it as .xlsx or as 'CSV UTF-8'"
    return "; export the table as 'CSV UTF-8' (or .xlsx, .sav)"


def _read_csv_records(path: Path) -> list[tuple[int, list]]:
    """(spreadsheet row number, cell texts) for every record of a CSV file."""
    file = path.name
    data = path.read_bytes()
    if not data.strip():
        raise _fatal(file, f"{file} is empty (no header, no data)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(data):
        raise _fatal(file, f"{file} is saved as UTF-16 ('Unicode text'); save it as 'CSV UTF-8' instead")
    kind = _file_kind(data)
    if kind is not None:
        raise _fatal(file, f"{file} is not a CSV text table: it is {kind}{_rename_hint(path, kind)}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(file, data, exc) from None
    records: list = []
    # a European spreadsheet's CSV: ';' between values (its decimal mark is the comma); read as such
    # when the header holds ';' and no ','. Its decimals and dates are read by _european_reading.
    first = next((line for line in text.splitlines() if line.strip()), "")
    separator = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=separator)
    try:
        for record in reader:
            records.append(record)
    except csv.Error as exc:
        # the record that failed starts on the row after the last one read
        row = len(records) + 1
        hint = ""
        if "expected" in str(exc) or "end of data" in str(exc):
            hint = '; a value seems to open a quote (") that is not closed, or holds a quote that is not doubled'
        raise _fatal(file, f"{file} row {row} cannot be read as CSV ({exc}){hint}", row=row) from None
    # csv yields [] for a blank line, so the list position is the spreadsheet row - 1
    numbered = [(i + 1, rec) for i, rec in enumerate(records)]
    return (numbered, {"separator": ";"}) if separator == ";" else numbered


def _utf16_without_bom(data: bytes) -> bool:
    """True if every other byte of the start is NUL, as in UTF-16 text of Latin letters."""
    head = data[:4096]
    if len(head) < 4:
        return False
    return any(half.count(0) >= 0.9 * len(half) and 0 not in other
               for half, other in ((head[0::2], head[1::2]), (head[1::2], head[0::2])))


def _not_utf8(file: str, data: bytes, exc: UnicodeDecodeError) -> DataValidationError:
    """The problem for a CSV file that is not UTF-8: the first cell it cannot read, by row and column."""
    advice = ("the file was probably saved in another encoding (e.g. Windows-1252 or Shift-JIS); "
              "save it as 'CSV UTF-8'")
    byte = f"byte 0x{exc.object[exc.start]:02X}"  # exc.object: the bytes after a byte-order mark
    text = data.decode("utf-8-sig", errors="surrogateescape")  # unreadable bytes -> U+DC80..U+DCFF
    bad = re.compile("[\udc80-\udcff]")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        records = None
    cells = [] if records is None else [
        (i + 1, pos, cell) for i, rec in enumerate(records) for pos, cell in enumerate(rec) if bad.search(cell)]
    if not cells:  # the CSV layout itself is broken: name the line
        line = exc.object[: exc.start].count(b"\n") + 1
        return _fatal(file, f"{file} is not UTF-8 text: {byte} on line {line} cannot be read; {advice}")
    row, pos, cell = cells[0]
    shown = bad.sub("\ufffd", cell.strip())
    header = records[0]
    name = header[pos].strip() if row > 1 and pos < len(header) and not bad.search(header[pos]) else ""
    where = f"{file} row {row}, {name}" if name else (
        f"{file} row 1 (the header), column {_col_letter(pos)}" if row == 1 else
        f"{file} row {row}, column {_col_letter(pos)}")
    more = f" ({len(cells)} cells cannot be read, this is the first)" if len(cells) > 1 else ""
    return _fatal(
        file,
        f"{where} '{shown}' is not UTF-8 text: {byte} cannot be read{more}, so the file cannot be checked; "
        f"{advice}",
        row=row, column=name or None, value=shown,
    )


def _check_signature(path: Path, data: bytes, expected: tuple, format_name: str) -> None:
    """Raise a clear problem when a .xlsx/.sav file does not start as one."""
    file = path.name
    if data.startswith(expected):
        return
    if not data.strip():
        raise _fatal(file, f"{file} is empty (no header, no data)")
    kind = _file_kind(data)
    if kind is not None:
        raise _fatal(file, f"{file} is not {format_name}: it is {kind}{_rename_hint(path, kind)}")
    if _looks_like_text(data):
        raise _fatal(file, f"{file} is not {format_name}: it is plain text (a CSV file renamed "
                           f"{path.suffix}? then name it {path.stem}.csv)")
    raise _fatal(file, f"{file} is not {format_name}: it does not start as one (the file may be damaged, "
                       f"or be another kind of file renamed {path.suffix})")


def _read_xlsx_records(path: Path) -> list[tuple[int, list]]:
    """(row number, cell texts) for every row of the table's worksheet: the sheet named after the
    table (the file name without .xlsx, in any case), else the only sheet that is not empty."""
    file = path.name
    _check_signature(path, path.read_bytes(), (b"PK\x03\x04",), "an Excel workbook (.xlsx)")
    try:
        import openpyxl

        with warnings.catch_warnings():  # e.g. "Workbook contains no default style": not the user's concern
            warnings.simplefilter("ignore", UserWarning)
            book = openpyxl.load_workbook(path, read_only=False, data_only=True)
        sheets = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise _fatal(file, f"{file} cannot be opened as an Excel workbook; it may be damaged "
                           f"({type(exc).__name__}: {exc})") from None
    named = [title for title in sheets if title.strip().casefold() == path.stem.casefold()]
    filled = [title for title, rows in sheets.items()
              if any(v is not None and str(v).strip() for row in rows for v in row)]
    if named:
        title = named[0]
    elif len(filled) == 1 or not filled:
        title = filled[0] if filled else next(iter(sheets))
    else:
        listed = ", ".join(f"'{t}'" for t in sheets)
        empty = [t for t in sheets if t not in filled]
        raise _fatal(file, f"{file} has {len(sheets)} worksheets ({listed}), {len(filled)} of them with data "
                           + (f"({', '.join(repr(t) for t in filled)}) " if empty else "")
                           + f"and none is named '{path.stem}'; name the worksheet that holds the table "
                           f"'{path.stem}', or delete the others")
    return [(i + 1, [_cell_text(v) for v in row]) for i, row in enumerate(sheets[title])]


def _read_sav_records(path: Path):
    """(row number, cell texts) for an SPSS file: the variable names are row 1. The cells hold the
    values as stored (codes); the value labels come with them as ``{"value_labels": {variable:
    {code text: label}}}``, used by :func:`validate_table` when they name allowed values."""
    file = path.name
    _check_signature(path, path.read_bytes(), (b"$FL2", b"$FL3"), "an SPSS .sav file")
    try:
        import pyreadstat

        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises its own error types
        raise _fatal(file, f"{file} cannot be read as an SPSS .sav file; it may be damaged "
                           f"({type(exc).__name__}: {exc})") from None
    records = [(1, [str(c) for c in frame.columns])]
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        records.append((i + 2, [_cell_text(v) for v in row]))
    labels = {}
    for variable, mapping in (getattr(meta, "variable_value_labels", None) or {}).items():
        texts = {_cell_text(code): _cell_text(label) for code, label in mapping.items()}
        labels[str(variable).strip()] = {str(k).strip(): str(v).strip() for k, v in texts.items()
                                         if k is not None and v is not None and str(v).strip()}
    return records, {"value_labels": labels}


def _cell_text(value):
    """A spreadsheet/SPSS cell as the text a CSV would hold (None when empty)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _frame_from_records(records, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn (row number, cells) records into the text DataFrame of read_table
    (no rows when there is only a header)."""

    def clean(cell):
        if cell is None:
            return None
        cell = str(cell).strip()
        return cell if cell else None

    records = [(row, [clean(c) for c in cells]) for row, cells in records]
    records = [(row, cells) for row, cells in records if any(c is not None for c in cells)]
    if not records:
        raise _fatal(file, f"{file} is empty (no header, no data)")
    (_, header), body = records[0], records[1:]
    if len(header) == 1 and header[0] and (";" in header[0] or "\t" in header[0]):
        sep = "';'" if ";" in header[0] else "tabs"
        raise _fatal(file, f"{file} separates values with {sep}; save it with commas (CSV UTF-8)")
    problems = []
    width = len(header)
    keep = []  # positions of the columns kept
    seen: dict[str, int] = {}
    for pos, name in enumerate(header):
        if name is None:
            if any(pos < len(cells) and cells[pos] is not None for _, cells in body):  # has data
                problems.append(_problem(file, None, None, None,
                                         f"{file}: column {_col_letter(pos)} has values but no name in the header"))
            continue
        if name in seen:
            problems.append(_problem(file, None, name, None,
                                     f"{file}: column '{name}' appears more than once in the header "
                                     f"(columns {_col_letter(seen[name])} and {_col_letter(pos)}); "
                                     f"only column {_col_letter(seen[name])} is used"))
            continue
        seen[name] = pos
        keep.append(pos)
    rows, data = [], []
    short = {}  # row -> number of values, for rows that end before the last column of the header
    for row, cells in body:
        if len(cells) < width and any(pos >= len(cells) for pos in keep):
            short[row] = len(cells)
        extra = [c for c in cells[width:] if c is not None]
        if extra:
            n_values = width + len(cells[width:])
            problems.append(_problem(file, row, None, None,
                                     f"{file} row {row} has more values ({n_values}) than the header has "
                                     f"columns ({width}); is there a comma inside a value?"))
        cells = cells[:width] + [None] * (width - len(cells))
        rows.append(row)
        data.append([cells[pos] for pos in keep])
    frame = pd.DataFrame(data, index=pd.Index(rows, name="row", dtype="int64"), columns=[header[p] for p in keep],
                         dtype=object)
    frame.attrs["source"] = file
    frame.attrs["short_rows"] = short
    frame.attrs["positions"] = {header[p]: p for p in keep}
    frame.attrs["width"] = width
    return frame, _problem_frame(problems)


# -------------------------------------------------------- column checking


def _parse_column(text: pd.Series, spec, file: str):
    """Convert a text column to its dictionary type.

    Returns (typed series, problems, rows that could not be converted).
    """
    kind, column = spec["type"], spec["column"]
    allowed = _parse_allowed(spec)
    problems, bad = [], []
    if kind in ("string", "category"):
        return text.astype(object), problems, bad

    def fail(row, value, message):
        problems.append(_problem(file, row, column, value, f"{file} row {row}, {column} {message}"))
        bad.append(row)
        return None

    def out_of_range(row, value):
        return fail(row, value, f"{value} is outside the allowed range {_describe_range(allowed, spec)}"
                                f"{_code_hint(spec, value)}")

    values = []
    for row, value in text.items():
        if value is None:
            values.append(None)
            continue
        # the usual cells first: the same values as the general case below, sooner
        if kind == "integer" and _PLAIN_INTEGER_RE.match(value):
            values.append(int(value))
            continue
        if kind == "number" and _NUMBER_RE.match(value):
            number = float(value)  # float(Decimal(value)): both are the nearest float to the decimal value
            if math.isfinite(number) and _SHORT_EXPONENT_RE.match(value):
                values.append(number)
                continue
        if kind in ("integer", "number"):
            if not _NUMBER_RE.match(value):
                hint = _number_hint(value)
                noun = "an integer" if kind == "integer" else "a number"
                values.append(fail(row, value, f"'{value}' is not {noun}{hint}"))
                continue
            try:
                number = Decimal(value)
            except (InvalidOperation, ArithmeticError):  # e.g. an exponent too large for Decimal
                values.append(fail(row, value, f"{value} is too large"))
                continue
            if kind == "integer":
                # adjusted() is the power of ten of the leading digit; checking it first avoids Decimal overflow
                huge = not number.is_zero() and number.adjusted() >= 18
                if huge:
                    values.append(out_of_range(row, value) if allowed else fail(row, value, f"{value} is too large"))
                elif not number.is_zero() and (number.adjusted() < 0 or number != number.to_integral_value()):
                    values.append(fail(row, value, f"'{value}' is not a whole number"))
                else:
                    values.append(int(number))
            else:
                number = float(number)  # 1e999 -> inf, 1e-999 -> 0.0
                if not math.isfinite(number):
                    values.append(out_of_range(row, value) if allowed else fail(row, value, f"{value} is too large"))
                else:
                    values.append(number)
        else:  # date
            if not _DATE_RE.match(value):
                hint = _excel_day_hint(value) or _digit_hint(value)
                values.append(fail(row, value, f"'{value}' is not a date written as YYYY-MM-DD{hint}"))
                continue
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                values.append(fail(row, value, f"'{value}' is not a real calendar date"))
                continue
            if not (_NS_MIN <= day <= _NS_MAX):
                if allowed:
                    values.append(out_of_range(row, value))
                else:
                    values.append(fail(row, value, f"{value} is outside the dates this tool handles (1678 to 2261)"))
                continue
            values.append(day)
    dtype = _PANDAS_DTYPES[kind]
    if kind == "integer":
        typed = pd.Series(pd.array(values, dtype="Int64"), index=text.index, name=column)
    elif kind == "number":
        typed = pd.Series([np.nan if v is None else v for v in values], index=text.index, name=column, dtype=dtype)
    else:  # days since 1970-01-01 (NaT for missing) as datetime64[ns]
        days = np.array([_NAT if v is None else v.toordinal() - _EPOCH_ORDINAL for v in values], dtype="int64")
        typed = pd.Series(days.view("datetime64[D]").astype(dtype), index=text.index, name=column)
    return typed, problems, bad


_PLAIN_INTEGER_RE = re.compile(r"^[+-]?\d{1,18}$", re.ASCII)  # below 10**18: never "too large"
_SHORT_EXPONENT_RE = re.compile(r"^[^eE]*([eE][+-]?\d{1,4})?$")  # an exponent Decimal always reads
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NAT = np.iinfo(np.int64).min  # NaT as an integer


_THOUSANDS_RE = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$", re.ASCII)  # 2,833  12,500  1,234,567.5
_EUROPEAN_RE = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+,\d+$", re.ASCII)  # 1.234,5
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel day 1 is 1900-01-01 (day 60 is its phantom 1900-02-29)
_EXCEL_DAY_RE = re.compile(r"^\d{4,5}(\.0+)?$", re.ASCII)


_COMMA_DECIMAL_RE = re.compile(r"^[+-]?(\d+),(\d+)$", re.ASCII)  # 3,8  1,234
_POINT_DECIMAL_RE = re.compile(r"^[+-]?(\d+)\.(\d+)$", re.ASCII)  # 3.8  1.234
_POINT_GROUPS_RE = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3}){2,}$", re.ASCII)  # 15.488.402
_COMMA_GROUPS_RE = re.compile(r"^[+-]?[1-9]\d{0,2}((,\d{3}){2,}|(,\d{3})+\.\d+)$", re.ASCII)  # 1,234,567  1,234.5
_DAY_FIRST_RE = re.compile(r"^(\d{1,2})([./])(\d{1,2})\2(\d{4})$", re.ASCII)  # 19.04.2005  19/04/2005


def _decimal_evidence(value: str) -> str | None:
    """What a number written in a ';'-separated file says of its decimal mark: "comma" (3,8; 1.234,5;
    15.488.402), "point" (3.8; 1,234.5), "ambiguous" (1,234 or 1.234: a decimal mark followed by three
    digits after one to three digits that do not start with 0, which a thousands separator could be
    too), or None (no mark: 12, 1e5, or not a number)."""
    match = _COMMA_DECIMAL_RE.match(value) or _POINT_DECIMAL_RE.match(value)
    if match:
        whole, decimals = match.groups()
        mark = "comma" if "," in value else "point"
        if len(decimals) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0"):
            return "ambiguous"
        return mark
    if _EUROPEAN_RE.match(value) or _POINT_GROUPS_RE.match(value):
        return "comma"
    if _COMMA_GROUPS_RE.match(value):
        return "point"
    return None


def _european_reading(text: pd.DataFrame, infos: dict, file: str):
    """Read the numbers and dates of a ';'-separated CSV file (a European spreadsheet's export) as the
    dictionary's: a decimal comma (``3,8``, ``1.234,5``) as a decimal point, a day-first date
    (``19.04.2005``, ``19/04/2005``) as ISO, where that reading is unambiguous.

    The decimal mark is the file's: the comma when some number can only be read with a decimal comma
    (``3,8``, ``0,125``, ``1.234,5``) and none only with a decimal point; then a point is a thousands
    separator (``1.234`` is 1234). Numbers that fit both readings (``1,234``: 1.234 or 1234) in a file
    that does not tell, and a file that has both marks, are problems naming the column and the values.
    Dates written with dots are day-first; with slashes, day-first when some date of the file has a
    first number above 12 and none a second number above 12 (month-first is not read: a problem), and a
    problem naming the column and values when no date tells. Returns ``(text, problems, notes, bad)``:
    ``bad`` maps a column to the rows of its values set to missing because they are ambiguous.
    """
    text = text.copy()
    problems, notes, bad = [], [], {}
    numeric = [c for c in text.columns if c in infos and infos[c]["type"] in ("integer", "number")]
    dates = [c for c in text.columns if c in infos and infos[c]["type"] == "date"]

    def listed(cells):
        shown = ", ".join(f"'{value}' (row {row})" for row, value in cells[:5])
        return shown + (f" and {len(cells) - 5} more" if len(cells) > 5 else "")

    # numbers: the file's decimal mark
    evidence: dict[str, dict[str, list]] = {"comma": {}, "point": {}, "ambiguous": {}}
    for column in numeric:
        for row, value in text[column].items():
            kind = None if value is None else _decimal_evidence(value)
            if kind is not None:
                evidence[kind].setdefault(column, []).append((row, value))
    first_of = {kind: next(((c, cells[0]) for c, cells in found.items()), None) for kind, found in evidence.items()}
    if evidence["comma"] and evidence["point"]:
        (c1, (r1, v1)), (c2, (r2, v2)) = first_of["comma"], first_of["point"]
        problems.append(_problem(file, None, c1, v1, f"{file} separates values with ';' and has decimal commas "
                                 f"({c1} '{v1}', row {r1}) and decimal points ({c2} '{v2}', row {r2}): write every "
                                 f"decimal with the same mark"))
    elif evidence["comma"]:
        examples = []
        for column in numeric:
            values = text[column]
            for row, value in values.items():
                if value is None or _decimal_evidence(value) is None:
                    continue
                plain = value.replace(".", "").replace(",", ".")
                if _NUMBER_RE.match(plain):
                    values.at[row] = plain
                    if len(examples) < 2 and "," in value and all(c != column for c, _, _ in examples):
                        examples.append((column, value, plain))
            text[column] = values
        shown = ", ".join(f"{c} '{v}' read as {p}" for c, v, p in examples)
        notes.append(f"decimal comma, a point separating thousands{' (' + shown + ')' if shown else ''}")
    elif evidence["ambiguous"]:
        for column, cells in evidence["ambiguous"].items():
            row, value = cells[0]
            problems.append(_problem(file, None, column, value, (
                f"{file}: {column} {listed(cells)}: the mark could be a decimal mark or a thousands separator "
                f"(e.g. '{value}' is {value.replace(',', '.') if ',' in value else value} or "
                f"{value.replace(',', '').replace('.', '')}), and no other number of the file tells which; write "
                f"such numbers without a thousands separator (e.g. {value.replace(',', '').replace('.', '')}) or "
                f"with a decimal comma in a file that shows it (e.g. another value such as 3,8)")))
            for row, _ in cells:
                text.at[row, column] = None
            bad.setdefault(column, []).extend(row for row, _ in cells)

    # dates: day-first when unambiguous
    found = {c: [(row, value, _DAY_FIRST_RE.match(value)) for row, value in text[c].items()
                 if value is not None and _DAY_FIRST_RE.match(value)] for c in dates}
    found = {c: cells for c, cells in found.items() if cells}
    slashed = [(c, row, value, m) for c, cells in found.items() for row, value, m in cells if m.group(2) == "/"]
    day_first = [(c, row, value) for c, row, value, m in slashed if int(m.group(1)) > 12]
    month_first = [(c, row, value) for c, row, value, m in slashed if int(m.group(3)) > 12]
    refused: set = set()
    if month_first:
        for column in dict.fromkeys(c for c, _, _ in month_first):
            cells = [(row, value) for c, row, value in month_first if c == column]
            problems.append(_problem(file, None, column, cells[0][1], (
                f"{file}: {column} {listed(cells)} are month-first dates"
                + (" while others of the file are day-first" if day_first else "")
                + ": write dates as YYYY-MM-DD (or DD.MM.YYYY)")))
        refused = {c for c, _, _, _ in slashed}
    elif slashed and not day_first:
        for column in dict.fromkeys(c for c, _, _, _ in slashed):
            cells = [(row, value) for c, row, value, m in slashed if c == column and m.group(1) != m.group(3)]
            if not cells:
                continue
            problems.append(_problem(file, None, column, cells[0][1], (
                f"{file}: {column} {listed(cells)} could be day-first or month-first dates (no date of the file "
                f"has a day above 12 to tell which): write dates as YYYY-MM-DD (or DD.MM.YYYY)")))
            refused.add(column)
    example = None
    for column, cells in found.items():
        values = text[column]
        for row, value, m in cells:
            if m.group(2) == "/" and column in refused:  # the problem names the column: not read
                values.at[row] = None
                bad.setdefault(column, []).append(row)
                continue
            iso = f"{m.group(4)}-{int(m.group(3)):02d}-{int(m.group(1)):02d}"
            values.at[row] = iso
            example = example or (column, value, iso)
        text[column] = values
    if example:
        notes.append(f"dates day-first ({example[0]} '{example[1]}' read as {example[2]})")
    note = f"{file}: read as a European spreadsheet's CSV: values separated by ';'" + "".join(f"; {n}" for n in notes)
    return text, problems, [note], bad


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


def _describe_range(allowed, spec) -> str:
    lo, hi = allowed
    unit = f" {spec['unit']}" if spec.get("unit") else ""
    if lo is not None and hi is not None:
        return f"{_show(lo)} to {_show(hi)}{unit}"
    if lo is not None:
        return f"(at least {_show(lo)}{unit})"
    return f"(at most {_show(hi)}{unit})"


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


def validate_table(text: pd.DataFrame, dictionary: pd.DataFrame, table: str, file: str | None = None,
                   synonyms: dict | None = None):
    """Check one text table (as :func:`read_table` returns it) against the dictionary.

    Returns ``(typed, problems)``. ``typed`` has the dictionary's columns
    that are present, converted to their types, indexed by spreadsheet row;
    cells that broke a rule are set to missing so that later rules skip
    them. ``typed`` is None when the file does not look like this table at
    all (none of its column names match), which is then the only problem,
    and when it has a header but no data rows while ``table`` is not in
    :data:`MAY_BE_EMPTY` (problems of the header are reported too).
    ``synonyms`` is :func:`read_synonyms`'s result (default None: values are
    read exactly as written).
    """
    typed, problems, _notes = _validate_table(text, dictionary, table, file, synonyms)
    return typed, problems


def _validate_table(text: pd.DataFrame, dictionary: pd.DataFrame, table: str, file: str | None,
                    synonyms: dict | None):
    """validate_table, also returning the notes on how cells were read (list of strings)."""
    file = file or text.attrs.get("source") or f"{table}.csv"
    # the attrs read here once: pandas deep-copies a frame's attrs into every column taken from it
    attrs = text.attrs
    text = text.copy(deep=False)
    text.attrs = {}
    spec, infos, _derived = _spec_entry(dictionary, table)
    expected = list(spec.index)
    if not set(text.columns) & set(expected):
        shown = ", ".join(expected[:6]) + (", ..." if len(expected) > 6 else "")
        return None, _problem_frame([_problem(
            file, message=f"{file} does not look like the {table} table: its header has none of the "
                          f"expected column names ({shown})")]), []
    problems: list = []
    notes: list[str] = []
    # an optional column that is present but empty in every row is read as left out
    if len(text):
        for column in [c for c in text.columns if c in spec.index]:
            info = infos[column]
            if info.get("optional", "no") == "yes" and info["required"] != "yes" and text[column].isna().all():
                text = text.drop(columns=column)
                notes.append(f"{file}: {column} is empty in every row; it is optional and read as left out")
    short = attrs.get("short_rows", {})
    labels = attrs.get("value_labels", {})
    converted = {}
    unparsed: dict[str, list] = {}
    european_bad: dict[str, list] = {}
    if attrs.get("separator") == ";":
        text, european_problems, european_notes, european_bad = _european_reading(text, infos, file)
        problems.extend(european_problems)
        notes.extend(european_notes)
    for column in text.columns:
        if column in spec.index:
            info = infos[column]
            recoded, recodings = _recode(text[column], info,
                                         None if synonyms is None else synonyms.get((table, column), {}),
                                         labels.get(column))
            for written, read_as, how, n in recodings:
                notes.append(f"{file}: {column} '{written}' read as '{read_as}' ({how}; {_plural(n, 'cell')})")
            converted[column], parse_problems, bad = _parse_column(recoded, info, file)
            problems.extend(parse_problems)
            unparsed[column] = bad + european_bad.get(column, [])
            if info["required"] != "yes":  # a row that ends before a column: missing, but not by choice
                for row, n_values in short.items():
                    if attrs.get("positions", {}).get(column, -1) >= n_values:
                        problems.append(_problem(
                            file, row, column, None,
                            f"{file} row {row}, {column} is missing: the row ends after {n_values} "
                            f"{'value' if n_values == 1 else 'values'} (the header has {attrs.get('width')} "
                            f"columns); leave a cell empty with a comma (,,) if the value is not known"))
                        bad.append(row)
        else:
            converted[column] = text[column]
    typed = pd.DataFrame(converted, index=text.index)
    if not _schema_passes(converted, spec):  # else pandera would find nothing: skipped, as it is slow
        schema = _cached_schema(dictionary, table)
        try:
            with warnings.catch_warnings():
                # pandera's report of failures warns about pandas internals (e.g. "concatenation with
                # empty or all-NA entries" when a missing text value fails next to a bad number):
                # noise for the reader of the problem list, which this module writes itself
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                schema.validate(typed, lazy=True)
        except pa.errors.SchemaErrors as exc:
            schema_problems, failed_cells = _translate_failures(exc.failure_cases, schema, spec, text, typed, file,
                                                                unparsed)
            problems.extend(schema_problems)
            for column, row in failed_cells:
                typed[column] = _set_missing(typed[column], row)
    typed = typed[[c for c in expected if c in typed.columns]]
    if len(typed) == 0 and table not in MAY_BE_EMPTY:
        problems.append(_problem(file, message=f"{file} has a header line but no data rows "
                                               f"(the {table} table needs at least one)"))
        typed = None
    problems = _one_problem_per_empty_column(problems, text, spec, file)
    position = {c: i for i, c in enumerate(expected)}
    problems.sort(key=lambda p: position.get(p["column"], -1))  # then _problem_frame sorts by row, stably
    return typed, _problem_frame(problems), notes


MISSING_VALUE = "is missing (a value is required)"  # end of the message for a missing required value


def _one_problem_per_empty_column(problems: list, text: pd.DataFrame, spec: pd.DataFrame, file: str) -> list:
    """Replace the per-row "missing" problems of a required column that is empty in every row (of two
    or more) by one problem that says so, with what to do (leave an optional column out, or fill it)."""
    if len(text) < 2:
        return problems
    for column in [c for c in text.columns if c in spec.index]:
        rows = {p["row"] for p in problems if p["column"] == column and str(p["message"]).endswith(MISSING_VALUE)}
        if not set(text.index) <= rows:
            continue
        hint = ("it is optional: leave the column out of the file, or fill it in"
                if spec.loc[column].get("optional", "no") == "yes" else "a value is required in every row")
        problems = [p for p in problems if not (p["column"] == column and str(p["message"]).endswith(MISSING_VALUE))]
        problems.append(_problem(file, None, column, None, f"{file}: {column} is empty in every row "
                                                           f"(rows {min(text.index)}-{max(text.index)}); {hint}"))
    return problems


def _set_missing(series: pd.Series, row) -> pd.Series:
    """A copy of ``series`` with the cell at ``row`` missing, keeping the dtype."""
    series = series.copy()
    if series.dtype == object:
        series[row] = None
    elif series.dtype.kind == "M":
        series[row] = pd.NaT
    elif series.dtype.kind == "f":
        series[row] = np.nan
    else:
        series[row] = pd.NA
    return series


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


# ------------------------------------------------------------- Child-Pugh


def _child_pugh_parts(total_bilirubin, albumin, prothrombin_activity, ascites):
    """Points of each component (float Series, NaN when unknown) and ascites flag."""
    index = next((x.index for x in (total_bilirubin, albumin, prothrombin_activity, ascites)
                  if isinstance(x, pd.Series)), None)

    def series(x):
        values = x.to_numpy() if isinstance(x, pd.Series) else np.atleast_1d(np.asarray(x, dtype=object))
        return pd.Series(values, index=index if index is not None else None)

    bil = pd.to_numeric(series(total_bilirubin), errors="coerce").astype(float)
    alb = pd.to_numeric(series(albumin), errors="coerce").astype(float)
    pt = pd.to_numeric(series(prothrombin_activity), errors="coerce").astype(float)
    index = bil.index
    bil_pts = pd.Series(np.select([bil < 2, bil <= 3, bil > 3], [1.0, 2.0, 3.0], np.nan), index=index)
    alb_pts = pd.Series(np.select([alb > 3.5, alb >= 2.8, alb < 2.8], [1.0, 2.0, 3.0], np.nan), index=index)
    pt_pts = pd.Series(np.select([pt > 70, pt >= 40, pt < 40], [1.0, 2.0, 3.0], np.nan), index=index)
    asc_raw = series(ascites)
    asc_raw.index = index
    mapping = {"yes": 1.0, "no": 0.0, "1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0}
    asc = asc_raw.map(lambda v: np.nan if v is None or (not isinstance(v, str) and pd.isna(v))
                      else mapping.get(str(v).strip().lower(), np.nan)).astype(float)
    return bil_pts, alb_pts, pt_pts, asc


def child_pugh_points_range(total_bilirubin, albumin, prothrombin_activity, ascites):
    """Lowest and highest Child-Pugh score the recorded components allow.

    Points: total bilirubin (mg/dL) <2 -> 1, 2-3 -> 2, >3 -> 3; albumin
    (g/dL) >3.5 -> 1, 2.8-3.5 -> 2, <2.8 -> 3; prothrombin activity (%)
    >70 -> 1, 40-70 -> 2, <40 -> 3; ascites "no" -> 1, "yes" -> 2 (mild) or
    3 (moderate/severe); encephalopathy is not recorded -> 1 to 3. So
    ``min = bil + alb + pt + (2 if ascites else 1) + 1`` and
    ``max = min + (1 if ascites else 0) + 2``.

    Vectorised: pass pandas Series (or array-likes) and get two ``Int64``
    Series (missing where a component is missing or ascites is not
    yes/no/True/False/1/0); pass scalars and get two ints (or None).
    """
    scalar = all(np.ndim(x) == 0 for x in (total_bilirubin, albumin, prothrombin_activity, ascites))
    low, high = _points_range(*_child_pugh_parts(total_bilirubin, albumin, prothrombin_activity, ascites))
    if scalar:
        return tuple(None if pd.isna(s.iloc[0]) else int(s.iloc[0]) for s in (low, high))
    return low, high


def _points_range(bil, alb, pt, asc):
    """child_pugh_points_range (two Int64 Series) from the points of _child_pugh_parts."""
    low = bil + alb + pt + (1 + asc) + 1
    high = low + asc + 2
    return low.astype("Int64"), high.astype("Int64")


# ------------------------------------------------------------ cross rules


def _mask(condition: pd.Series) -> np.ndarray:
    """A comparison result as a plain boolean array (missing = False)."""
    return condition.to_numpy(dtype=bool, na_value=False)


def _has(frame, *columns) -> bool:
    return frame is not None and all(c in frame.columns for c in columns)


def check_rules(tables: dict, *, files: dict | None = None,
                sorafenib_approval: str = SORAFENIB_APPROVAL) -> pd.DataFrame:
    """Apply the cross-table rules that find errors (1-4 and 6 of the module docstring: values that cannot
    be true); the rules that find values that can be true are :func:`check_rule_warnings`.

    ``tables`` maps table names to typed DataFrames indexed by spreadsheet
    row number, as :func:`validate_table` returns them; a table that is
    absent (could not be read) or lacks a column skips the rules that need
    it. ``files`` maps table names to file names for the messages (default
    ``NAME.csv``). ``sorafenib_approval`` is accepted for compatibility and
    not used here (rule 5 is a warning). Returns a problem DataFrame.
    """
    files = {name: f"{name}.csv" for name in tables} | (files or {})
    problems: list = []

    def add(table, row, column, value, text):
        problems.append(_problem(files[table], int(row), column, _show(value), f"{files[table]} row {row}, {text}"))

    patients = tables.get("patients")
    pfile = files.get("patients", "patients.csv")

    # 1. patient_id of other tables must exist in patients
    if _has(patients, "patient_id"):
        known = set(patients["patient_id"].dropna())
        for name, frame in tables.items():
            if name == "patients" or not _has(frame, "patient_id"):
                continue
            for row, pid in frame["patient_id"].items():
                if pid is not None and not pd.isna(pid) and pid not in known:
                    add(name, row, "patient_id", pid, f"patient_id '{pid}' is not in {pfile}")

    # 2. follow-up ends after it starts
    if _has(patients, "first_haic_date", "last_followup_date"):
        bad = patients["last_followup_date"] < patients["first_haic_date"]
        for row in patients.index[_mask(bad)]:
            add("patients", row, "last_followup_date", patients.at[row, "last_followup_date"],
                f"last_followup_date {_show(patients.at[row, 'last_followup_date'])} is before "
                f"first_haic_date {_show(patients.at[row, 'first_haic_date'])}")

    progression = tables.get("progression")
    if progression is None:
        return _problem_frame(problems)

    # look-up of each progression row's patient (first row of a repeated patient_id)
    if _has(patients, "patient_id") and _has(progression, "patient_id"):
        used = [c for c in patients.columns if c in ("patient_id", "first_haic_date", "last_followup_date", "age")]
        base = patients[used].assign(_prow=patients.index).dropna(subset=["patient_id"])
        base = base.drop_duplicates("patient_id").set_index("patient_id")
        base = base.reindex(progression["patient_id"].to_numpy())
        base.index = progression.index
    else:
        base = pd.DataFrame(index=progression.index)

    def of_patient(row):
        return f"of patient {progression.at[row, 'patient_id']}, {pfile} row {_show(base.at[row, '_prow'])}"

    # 3. progression within follow-up
    if _has(progression, "progression_date") and "first_haic_date" in base:
        bad = progression["progression_date"] < base["first_haic_date"]
        for row in progression.index[_mask(bad)]:
            add("progression", row, "progression_date", progression.at[row, "progression_date"],
                f"progression_date {_show(progression.at[row, 'progression_date'])} is before the first HAIC "
                f"(first_haic_date {_show(base.at[row, 'first_haic_date'])} {of_patient(row)})")
    if _has(progression, "progression_date") and "last_followup_date" in base:
        bad = progression["progression_date"] > base["last_followup_date"]
        for row in progression.index[_mask(bad)]:
            add("progression", row, "progression_date", progression.at[row, "progression_date"],
                f"progression_date {_show(progression.at[row, 'progression_date'])} is after the last follow-up "
                f"(last_followup_date {_show(base.at[row, 'last_followup_date'])} {of_patient(row)})")

    # 4. salvage starts after progression and within follow-up
    if _has(progression, "salvage_start_date", "progression_date"):
        bad = progression["salvage_start_date"] < progression["progression_date"]
        for row in progression.index[_mask(bad)]:
            add("progression", row, "salvage_start_date", progression.at[row, "salvage_start_date"],
                f"salvage_start_date {_show(progression.at[row, 'salvage_start_date'])} is before "
                f"progression_date {_show(progression.at[row, 'progression_date'])}")
    if _has(progression, "salvage_start_date") and "last_followup_date" in base:
        bad = progression["salvage_start_date"] > base["last_followup_date"]
        for row in progression.index[_mask(bad)]:
            add("progression", row, "salvage_start_date", progression.at[row, "salvage_start_date"],
                f"salvage_start_date {_show(progression.at[row, 'salvage_start_date'])} is after the last follow-up "
                f"(last_followup_date {_show(base.at[row, 'last_followup_date'])} {of_patient(row)})")

    # 6. age at progression consistent with age at first HAIC
    if _has(progression, "age") and "age" in base:
        base_age = base["age"].astype("Float64")
        prog_age = progression["age"].astype("Float64")
        bad = prog_age < base_age
        for row in progression.index[_mask(bad)]:
            add("progression", row, "age", progression.at[row, "age"],
                f"age {_show(progression.at[row, 'age'])} at progression is lower than the age "
                f"{_show(base.at[row, 'age'])} at the first HAIC ({of_patient(row)})")
        if _has(progression, "progression_date") and "first_haic_date" in base:
            start, end = base["first_haic_date"], progression["progression_date"]
            years = end.dt.year - start.dt.year - (
                (end.dt.month < start.dt.month) | ((end.dt.month == start.dt.month) & (end.dt.day < start.dt.day))
            ).astype(int)
            years = years.clip(lower=0).astype("Float64")
            limit = base_age + years + 1
            bad = prog_age > limit
            for row in progression.index[_mask(bad)]:
                add("progression", row, "age", progression.at[row, "age"],
                    f"age {_show(progression.at[row, 'age'])} at progression is more than {_show(limit[row])} "
                    f"(age {_show(base.at[row, 'age'])} at the first HAIC + {_show(years[row])} whole years "
                    f"until progression + 1; {of_patient(row)})")
    return _problem_frame(problems)


def check_rule_warnings(tables: dict, *, files: dict | None = None,
                        sorafenib_approval: str = SORAFENIB_APPROVAL) -> pd.DataFrame:
    """Rule-based warnings (rules 5 and 7-10 of the module docstring): values that can be true but deserve
    a look (a Child-Pugh score that does not fit its components, a protocol deviation in session spacing or
    response timing, a PD patient's largest tumour smaller at progression, sorafenib before its approval).
    Same arguments and result shape as :func:`check_rules`; the rows are warnings, each with its ``rule``."""
    files = {name: f"{name}.csv" for name in tables} | (files or {})
    approval = pd.Timestamp(sorafenib_approval)
    found: list = []
    rule = None  # set before each rule below

    def add(table, row, column, value, text):
        found.append(_problem(files[table], int(row), column, _show(value), f"{files[table]} row {row}, {text}",
                              rule))

    patients, progression = tables.get("patients"), tables.get("progression")

    rule = RULE_CHILD_PUGH
    # 7. Child-Pugh score consistent with its components, in every table that has them
    for name, frame in tables.items():
        if _has(frame, "child_pugh_score", "total_bilirubin", "albumin", "prothrombin_activity", "ascites"):
            _check_child_pugh(frame, lambda row, value, text, name=name: add(name, row, "child_pugh_score", value, text))

    rule = RULE_RESPONSE
    # 9. a RECIST response needs an assessment 4 weeks after a session
    if _has(patients, "best_response", "first_haic_date", "last_followup_date"):
        days = (patients["last_followup_date"] - patients["first_haic_date"]).dt.days
        # (a negative follow-up is rule 2's error, not this one's)
        bad = patients["best_response"].isin(["CR", "PR", "SD", "PD"]) & (days < RESPONSE_ASSESSMENT_DAYS) & (days >= 0)
        for row in patients.index[_mask(bad)]:
            add("patients", row, "best_response", patients.at[row, "best_response"],
                f"best_response {patients.at[row, 'best_response']} needs a response assessment at least "
                f"{RESPONSE_ASSESSMENT_DAYS} days after the first HAIC, but follow-up lasted {int(days[row])} days "
                f"(first_haic_date {_show(patients.at[row, 'first_haic_date'])}, last_followup_date "
                f"{_show(patients.at[row, 'last_followup_date'])}); a patient never assessed is NE (the protocol of this study: "
                f"acknowledge if the response was read earlier)")

    rule = RULE_SESSIONS
    # 8. sessions at least 4 weeks apart, before progression (or the end of follow-up)
    if _has(patients, "n_haic_sessions", "first_haic_date", "last_followup_date"):
        end, source = patients["last_followup_date"], pd.Series("last_followup_date", index=patients.index)
        progression_ = tables.get("progression")
        if _has(patients, "patient_id") and _has(progression_, "patient_id", "progression_date"):
            first_prog = progression_.dropna(subset=["patient_id"]).groupby("patient_id")["progression_date"].min()
            prog = patients["patient_id"].map(first_prog)
            end = prog.where(prog.notna(), end)
            source = source.where(prog.isna(), "progression_date")
        days = (end - patients["first_haic_date"]).dt.days
        sessions = patients["n_haic_sessions"].astype("Float64")
        bad = ((sessions - 1) * MIN_SESSION_INTERVAL_DAYS > days.astype("Float64")) & (days >= 0)  # < 0: rules 2, 3
        if "patient_id" in patients:  # a repeated patient_id (reported) has no known progression: skipped
            bad &= ~patients["patient_id"].duplicated(keep=False)
        for row in patients.index[_mask(bad)]:
            n = int(sessions[row])
            add("patients", row, "n_haic_sessions", patients.at[row, "n_haic_sessions"],
                f"n_haic_sessions {n}: {n} HAIC sessions need at least ({n} - 1) x {MIN_SESSION_INTERVAL_DAYS} = "
                f"{(n - 1) * MIN_SESSION_INTERVAL_DAYS} days (sessions every 4 to 6 weeks) from the first HAIC to "
                f"{'progression' if source[row] == 'progression_date' else 'the last follow-up'}, but there are "
                f"{int(days[row])} (first_haic_date {_show(patients.at[row, 'first_haic_date'])}, "
                f"{source[row]} {_show(end[row])}); the protocol of this study, another HAIC regimen (e.g. weekly) "
                f"may differ: acknowledge if so")

    rule = RULE_SORAFENIB
    # 5. sorafenib only after its approval
    if _has(progression, "salvage_treatment", "salvage_start_date"):
        bad = (progression["salvage_treatment"] == "sorafenib") & (progression["salvage_start_date"] < approval)
        for row in progression.index[_mask(bad)]:
            add("progression", row, "salvage_start_date", progression.at[row, "salvage_start_date"],
                f"salvage_start_date {_show(progression.at[row, 'salvage_start_date'])} is before sorafenib was "
                f"approved for HCC ({_show(approval)}), but salvage_treatment is sorafenib (in a trial, or where it was "
                f"approved earlier, it is possible: acknowledge, or give the approval date with --sorafenib-approval)")

    # 10. progressive disease did not shrink
    rule = RULE_PD_SHRANK
    if not (_has(patients, "patient_id", "best_response", "max_tumor_size_mm")
            and _has(progression, "patient_id", "max_tumor_size_mm")):
        return _problem_frame(found)
    used = [c for c in patients.columns if c in ("patient_id", "best_response", "max_tumor_size_mm")]
    base = patients[used].assign(_prow=patients.index).dropna(subset=["patient_id"]).drop_duplicates("patient_id")
    base = base.set_index("patient_id").reindex(progression["patient_id"].to_numpy())
    base.index = progression.index
    pfile, file = files.get("patients", "patients.csv"), files["progression"]
    bad = (base["best_response"] == "PD") & (
        progression["max_tumor_size_mm"].astype("Float64") < base["max_tumor_size_mm"].astype("Float64"))
    for row in progression.index[_mask(bad)]:
        value = progression.at[row, "max_tumor_size_mm"]
        found.append(_problem(file, int(row), "max_tumor_size_mm", _show(value),
                              f"{file} row {row}, max_tumor_size_mm {_show(value)} mm at progression is smaller than "
                              f"{_show(base.at[row, 'max_tumor_size_mm'])} mm at the first HAIC, but the best response "
                              f"of patient {progression.at[row, 'patient_id']} ({pfile} row {_show(base.at[row, '_prow'])}) "
                              f"is PD (progression by a new lesion is possible: acknowledge if so)", rule))
    return _problem_frame(found)


def _check_child_pugh(frame: pd.DataFrame, report) -> None:
    bil, alb, pt, asc = _child_pugh_parts(
        frame["total_bilirubin"], frame["albumin"], frame["prothrombin_activity"], frame["ascites"]
    )
    if frame["child_pugh_score"].dtype in (np.int64, np.float64, pd.Int64Dtype()):
        # the test below on plain floats (missing: no finding); nothing more when no row fails it
        low = (bil + alb + pt + (1 + asc) + 1).to_numpy()
        high = low + asc.to_numpy() + 2
        score = frame["child_pugh_score"].to_numpy(dtype="float64", na_value=np.nan)
        if not ((score < low) | (score > high)).any():
            return
    low, high = _points_range(bil, alb, pt, asc)
    score = frame["child_pugh_score"].astype("Float64")
    bad = (score < low.astype("Float64")) | (score > high.astype("Float64"))
    for row in frame.index[_mask(bad)]:
        ascites_pts = "2-3" if asc[row] == 1 else "1"
        report(
            row,
            frame.at[row, "child_pugh_score"],
            f"child_pugh_score {_show(frame.at[row, 'child_pugh_score'])} does not fit its components: "
            f"total_bilirubin {_show(frame.at[row, 'total_bilirubin'])} mg/dL = {_show(bil[row])} "
            f"{'point' if bil[row] == 1 else 'points'}, "
            f"albumin {_show(frame.at[row, 'albumin'])} g/dL = {_show(alb[row])}, "
            f"prothrombin_activity {_show(frame.at[row, 'prothrombin_activity'])}% = {_show(pt[row])}, "
            f"ascites {frame.at[row, 'ascites']} = {ascites_pts}, encephalopathy (not recorded) = 1-3, "
            f"so the score must be {low[row]} to {high[row]} (the recorded score is the clinician's and may "
            f"have been assessed on another day than the laboratory values: acknowledge if it is right)",
        )


# ----------------------------------------------------------- plausibility


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

    def latest_other(name, row, column):
        for cell in cells[:2]:
            if (cell[1], cell[2], cell[3]) != (name, row, column):
                return cell
        return None

    for name, frame in tables.items():
        if frame is None or name not in set(dictionary["table"]):
            continue
        spec, infos, derived = _spec_entry(dictionary, name)
        file = files[name]
        for column in [c for c in frame.columns if c in spec.index]:
            info = infos[column]
            parsed = derived.get(("plausibility", column))
            if parsed is None:
                parsed = {field: _parse_plausibility(info, field) for field in PLAUSIBILITY_FIELDS}
                derived[("plausibility", column)] = parsed
            if not any(parsed[f] for f in PLAUSIBILITY_FIELDS):
                continue
            unit = f" {info['unit']}" if info.get("unit") else ""
            values = frame[column].dropna()
            candidates = _plausibility_candidates(values, info, parsed, today, cells)
            for row, value in (values if candidates is None else values[candidates]).items():
                where = f"{file} row {row}, {column} {_show(value)}"

                def add(severity, message, rule=None, row=row, value=value, column=column):
                    target = errors if severity == "error" else warnings_
                    target.append(_problem(file, int(row), column, _show(value), message,
                                           None if severity == "error" else rule))

                found = False
                for field in ("error_after", "warn_after"):
                    if ("today", 0) in parsed[field] and value > today and not found:
                        add("error" if field == "error_after" else "warning",
                            f"{where} is after today ({_show(today)}): a recorded date cannot lie in the future "
                            f"({field} today in the data dictionary)", RULE_FUTURE)
                        found = True
                if found:
                    continue
                if parsed["warn_values"] and _is_code(info, value):
                    codes = ", ".join(_show(v) for v in parsed["warn_values"])
                    add("warning", f"{where} is a common code for an unknown value (warn_values {codes} in the data "
                                   f"dictionary): if the value is not known, leave the cell empty; if it was "
                                   f"measured, acknowledge this warning", RULE_CODE)
                    continue
                if parsed["warn_range"] is not None:
                    lo, hi = parsed["warn_range"]
                    if (lo is not None and value < lo) or (hi is not None and value > hi):
                        add("warning", f"{where}{unit} is outside the physiological limits "
                                       f"{_describe_range(parsed['warn_range'], info)} (warn_range in the data "
                                       f"dictionary): check the value and its unit", RULE_LIMITS)
                        continue
                for field in ("error_after", "warn_after"):
                    for kind, days in parsed[field]:
                        if kind != "others":
                            continue
                        other = latest_other(name, row, column)
                        if other is None or value <= other[0] + pd.Timedelta(days=days):
                            continue
                        gap = (value - other[0]).days
                        add("error" if field == "error_after" else "warning",
                            f"{where} is {gap} days after the latest other date of the data ({_show(other[0])}, "
                            f"{files[other[1]]} row {other[2]}, {other[3]}), more than {days} days "
                            f"({field} others+{days} in the data dictionary): is the year mistyped?", RULE_LATE)
                        found = True
                        break
                    if found:
                        break
    return _problem_frame(errors), _problem_frame(warnings_)


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


# ------------------------------------------------------------------ entry


def _default_dictionary(data_dir: Path) -> Path:
    local = data_dir / DICTIONARY_NAME
    return local if local.is_file() else DEFAULT_DICTIONARY


def _collect(data_dir, dictionary_path=None, *, sorafenib_approval: str = SORAFENIB_APPROVAL, today=None,
             strict: bool = False):
    """Read and check everything: (tables or None, errors, warnings, notes). ``strict``: every warning is
    an error (no warnings are returned)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataValidationError([_problem(str(data_dir), message=f"data folder {data_dir} does not exist")])
    dictionary_path = Path(dictionary_path) if dictionary_path is not None else _default_dictionary(data_dir)
    dictionary = read_dictionary(dictionary_path)
    synonyms = read_synonyms(default_synonyms(dictionary_path), dictionary)
    names = list(pd.unique(dictionary["table"]))
    problems: list = []
    notes: list[str] = []
    typed: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    for name in names:
        try:
            text, layout_problems = read_table(data_dir, name)
        except DataValidationError as exc:
            problems.append(exc.problems)
            continue
        problems.append(layout_problems)
        frame, table_problems, table_notes = _validate_table(text, dictionary, name, text.attrs["source"], synonyms)
        problems.append(table_problems)
        notes.extend(table_notes)
        if frame is not None:
            typed[name] = frame
            files[name] = text.attrs["source"]
    problems.append(check_rules(typed, files=files, sorafenib_approval=sorafenib_approval))
    plausibility_errors, warnings_ = check_plausibility(typed, dictionary, files=files, today=today)
    problems.append(plausibility_errors)
    warnings_ = [warnings_, check_rule_warnings(typed, files=files, sorafenib_approval=sorafenib_approval)]
    order = [files.get(n, f"{n}.csv") for n in names]
    errors = _problem_frame(problems, file_order=order)
    warnings_ = _problem_frame(warnings_, file_order=order)
    # a cell with an error gets no warning
    if len(errors) and len(warnings_):
        flagged = set(zip(errors["file"], errors["row"].astype(object), errors["column"]))
        keep = [(f, r, c) not in flagged for f, r, c in zip(warnings_["file"], warnings_["row"].astype(object),
                                                             warnings_["column"])]
        warnings_ = warnings_[keep].reset_index(drop=True)
    if strict and len(warnings_):  # the generators' hard constraints: what is a warning for a user is an error
        strict_errors = warnings_.assign(message="strict: " + warnings_["message"], rule=None)
        errors = _problem_frame([errors, strict_errors], file_order=order)
        warnings_ = _problem_frame([])
    warnings_.attrs["severity"] = "warning"
    if len(errors):
        return None, errors, warnings_, notes
    result = {}
    for name in names:
        frame = typed[name].reset_index(drop=True)
        for column in frame.columns:
            if frame[column].dtype == "Int64" and not frame[column].isna().any():
                frame[column] = frame[column].astype("int64")
        result[name] = frame
    return result, errors, warnings_, notes


def check_data(data_dir, dictionary_path=None, *, sorafenib_approval: str = SORAFENIB_APPROVAL,
               today=None, strict: bool = False) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Read and check every table of ``data_dir``; return ``(tables, warnings)``.

    Raises :class:`DataValidationError` if there is any error (its
    ``.warnings`` holds the warnings found as well). Otherwise ``tables`` is
    what :func:`load_and_validate` returns and ``warnings`` a problem
    DataFrame (columns ``file, row, column, value, message``; no rows when
    there is nothing to acknowledge). Nothing is raised for warnings: the
    caller decides (:func:`load_and_validate` raises
    :class:`UnacknowledgedWarnings` unless they are accepted). ``today``
    (default: the system date) is the day no recorded date may pass.
    ``strict=True`` makes every warning an error: the hard constraints of
    the project's own generators (``make data``, ``make example``, the true
    cohorts of ``src/synthetic/truth.py``), which must produce protocol-faithful,
    Child-Pugh-consistent records whatever a user's data may hold.
    """
    tables, errors, warnings_, _notes = _collect(data_dir, dictionary_path, sorafenib_approval=sorafenib_approval,
                                                 today=today, strict=strict)
    if len(errors):
        raise DataValidationError(errors, warnings_)
    return tables, warnings_


def load_and_validate(data_dir, dictionary_path=None, *, sorafenib_approval: str = SORAFENIB_APPROVAL,
                      accept_warnings: bool = False, today=None, strict: bool = False) -> dict[str, pd.DataFrame]:
    """Read every table of ``data_dir``, check everything, return typed tables.

    ``dictionary_path`` defaults to ``data_dir/data_dictionary.csv`` if it
    exists, else the project's ``data/data_dictionary.csv``; the declared
    synonyms are ``synonyms.csv`` beside that dictionary (if it exists). All
    problems from all files are collected first; if there is any error,
    :class:`DataValidationError` is raised listing them all (and the
    warnings). If there are warnings only and ``accept_warnings`` is False,
    :class:`UnacknowledgedWarnings` (a DataValidationError) is raised listing
    every warning and how to acknowledge it; with ``accept_warnings=True`` the
    tables are returned (get the warnings themselves from :func:`check_data`).
    Returns ``{"patients": ..., "progression": ..., "adverse_events": ...}``
    (the dictionary's tables). ``strict`` as for :func:`check_data`. Rows in file order with a 0-based
    RangeIndex (no rows for a header-only table of :data:`MAY_BE_EMPTY`),
    the dictionary's columns in dictionary order except an optional column
    that the file leaves out or leaves empty in every row (it is absent, not
    added), dates datetime64[ns], integers int64 (Int64 if an integer is
    missing somewhere), numbers float64 (NaN when missing), strings and
    categories str (object; None when missing).
    """
    tables, warnings_ = check_data(data_dir, dictionary_path, sorafenib_approval=sorafenib_approval, today=today,
                                   strict=strict)
    if len(warnings_) and not accept_warnings:
        raise UnacknowledgedWarnings(warnings_)
    return tables


def main(argv=None) -> int:
    """Command line: validate DATA_DIR; print OK with counts, notes and accepted warnings (exit 0),
    or the report (exit 2: errors, or warnings not acknowledged with --accept-warnings)."""
    parser = argparse.ArgumentParser(
        prog="python -m src.validate",
        description="Check the tables of a data folder (patients, progression, adverse_events as .csv, "
                    ".xlsx or .sav) against the data dictionary and the clinical plausibility rules, "
                    "and list every problem with its file, row and column.",
        epilog="Columns whose 'optional' is yes in the dictionary may be left out of a file; "
               f"{' and '.join(MAY_BE_EMPTY)} may have a header and no rows, the other tables need at least one. "
               "Rows are numbered as in a spreadsheet (header = row 1). Errors must be corrected in the files; "
               "warnings (a value outside physiological limits, a code such as 999, a date far after every "
               "other date: the warn_* fields of the dictionary) must be checked and then acknowledged with "
               "--accept-warnings (ACCEPT_WARNINGS=1 with make). Exit status: 0 if the data are valid, "
               "2 if there is any error or an unacknowledged warning (or the command line is wrong). The "
               "rules are listed in the docstring of src/validate/__init__.py.",
    )
    parser.add_argument("data_dir", metavar="DATA_DIR", help="folder holding the tables, e.g. data")
    parser.add_argument("--dictionary", metavar="CSV",
                        help="data dictionary to check against (default: DATA_DIR/data_dictionary.csv "
                             "if present, else the project's data/data_dictionary.csv); the synonyms are "
                             f"{SYNONYMS_NAME} beside it")
    parser.add_argument("--sorafenib-approval", metavar="YYYY-MM-DD", default=SORAFENIB_APPROVAL,
                        help=f"date before which a sorafenib salvage start is implausible "
                             f"(default {SORAFENIB_APPROVAL}, approval in Japan)")
    parser.add_argument("--accept-warnings", action="store_true",
                        help="accept the warnings after checking them: the data are then valid (exit 0) and the "
                             "warnings are printed")
    parser.add_argument("--strict", action="store_true",
                        help="treat every warning as an error: the hard constraints of the project's generators "
                             "(make data, make example), not for real data")
    parser.add_argument("--today", metavar="YYYY-MM-DD",
                        help="the day no recorded date may pass (default: the system date)")
    parser.add_argument("--problems-csv", metavar="CSV",
                        help="also write the problems (file,row,column,value,message,severity) to this CSV file")
    args = parser.parse_args(argv)
    for option, value in (("--sorafenib-approval", args.sorafenib_approval), ("--today", args.today)):
        if value is None:
            continue
        try:
            pd.Timestamp(dt.date.fromisoformat(value))
        except ValueError:
            parser.error(f"{option} {value!r} is not a date written YYYY-MM-DD")
    if args.problems_csv:
        target = Path(args.problems_csv)
        if target.is_dir() or not target.parent.is_dir():
            parser.error(f"--problems-csv {args.problems_csv!r}: " + ("is a folder; give a file name" if target.is_dir()
                         else f"the folder {str(target.parent)!r} does not exist"))

    def write_csv(errors, warnings_):
        if args.problems_csv:
            both = pd.concat([errors.assign(severity="error"), warnings_.assign(severity="warning")],
                             ignore_index=True)
            both.reindex(columns=[*PROBLEM_COLUMNS, "severity"]).to_csv(args.problems_csv, index=False)

    try:
        tables, errors, warnings_, notes = _collect(args.data_dir, args.dictionary,
                                                    sorafenib_approval=args.sorafenib_approval, today=args.today,
                                                    strict=args.strict)
    except DataValidationError as exc:  # the folder, the dictionary or the synonyms cannot be used
        print(f"{args.data_dir}: {exc}")
        write_csv(exc.problems, exc.warnings)
        return 2
    write_csv(errors, warnings_)
    read_as = "\nHow values were read:\n" + "\n".join(f"  - {n}" for n in notes) if notes else ""
    if len(errors):
        print(f"{args.data_dir}: {DataValidationError(errors, warnings_)}{read_as}")
        return 2
    if len(warnings_) and not args.accept_warnings:
        print(f"{args.data_dir}: {UnacknowledgedWarnings(warnings_)}{read_as}")
        return 2
    counts = ", ".join(f"{len(frame)} {_COUNT_WORDS.get(name, name + ' rows')}" for name, frame in tables.items())
    print(f"{args.data_dir}: OK ({counts}){read_as}")
    if len(warnings_):
        print(format_warnings(warnings_, accepted=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
