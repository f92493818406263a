"""Problems and their report: what the validator found, as rows a reader can act on.

A problem is one row of a DataFrame (:data:`PROBLEM_COLUMNS`: file, row, column, value, message, rule); an error
stops the analysis, a warning (a value that can be true but deserves a look, named by its ``rule``) stops it until
it is acknowledged. Here: the two exceptions (:class:`DataValidationError`, :class:`UnacknowledgedWarnings`), the
problem table (:func:`_problem_frame`, sorted by file then row), the reports printed to the reader
(:func:`format_report`, :func:`format_warnings`), and how a value or a column is written in a message
(:func:`_show`, :func:`_col_letter`).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


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

ROW_CONVENTION = (
    "Rows are numbered as in a spreadsheet: the header is row 1 and the first data row is row 2."
)


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


def _fatal(file: str, message: str, row=None, column=None, value=None):
    return DataValidationError([_problem(file, row, column, value, message)])
