"""Tables as a journal prints them: the room's front door, and the tables a notebook writes of any frame.

A `Table` (`src/present/journal_table.py`) holds what a reader sees (a title, a stub column of labels with
levels indented under a bold variable row, value columns whose headers carry N, footnotes naming each test
and abbreviation) and what a program reads (`data`, the machine-readable frame whose CSV keeps its columns
and keys). `write(table, name, paths)` writes

- `tables/<name>.csv`: `data`, as before (counts below MIN_CELL suppressed);
- `tables/<name>.md` and `tables/<name>.html`: the formatted table (HTML by great_tables);
- `tables/<name>.json`: the formatted table for `manuscript_docx` (`src/present/manuscript.py`), which puts
  Tables 1-3 and the appraisal table into one Word file after every notebook has run.

This module holds `plain`, any other frame as a journal prints it (headers in words from `HEADERS` and the
data dictionary, an estimate with `ci_low`/`ci_high` as one "estimate (95% CI)" cell, numbers rounded by
kind, NR and "—" for missing values, Yes/No), `write_frame` (writes it, titled from `TITLES`) and `write`.
The rest of the room, re-exported here so that notebooks keep `tables.X`:

- `src/present/wording.py`: numbers and words: `format_p` (`<0.001`), `format_hr` ("2.47 (1.11–5.50)"),
  `format_estimate` ("12.30 (3.91–NR)"), `n_percent`, `level_text`, `phrase`, `unit_text` (the platelet unit
  always "×10⁴/µL"), `reader_text` (no software or notebook named), `labels` (from
  `data/data_dictionary.csv`), `abbreviations_in`;
- `src/present/paper_tables.py`: the paper's tables `table1` (from tableone), `table2` (from
  `survival.compare_groups`), `table3` (from `survival.table3`) and `appraisal_table`;
- `src/present/manuscript.py`: `manuscript_docx`, the Word file.

On the bundled synthetic cohort every table carries the footnote `SYNTHETIC_NOTE`. Counts from 1 to
MIN_CELL - 1 read "<MIN_CELL" in every cell and header (`privacy.suppress_small_counts`, `privacy.count_text`).

Place in the import order: the top of the presentation room (above `config`, `formats`, `privacy` and the
modules above); below `paper`, the runner and the notebooks.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from src import privacy
from src.formats import format_p  # noqa: F401 (the journal's p, re-exported: tables.format_p)
from src.formats import is_missing as _missing
from src.present.journal_table import (INDENT, SYNTHETIC_NOTE, Table, footnotes_for,  # noqa: F401 (re-exported)
                                       min_cell_of, scoped_css)
from src.present.manuscript import MANUSCRIPT, manuscript_docx, numbered_title  # noqa: F401 (re-exported)
from src.present.paper_tables import (APPRAISAL_FACTORS, APPRAISAL_LABELS, appraisal_label,  # noqa: F401
                                      appraisal_table, table1, table2, table3)
from src.present.wording import (ABBREVIATIONS, DASH, EN_DASH, LEVELS, NOTEBOOK_WORDS, PLATELET_UNIT,  # noqa: F401
                                 SHORT, SOFTWARE, abbreviations_in, format_estimate, format_hr, heading, labels,
                                 level_text, n_percent, phrase, reader_text, unit_text)

# Factor and variable codes in words (cells of the columns `FACTOR_COLUMNS` of a plain table)
FACTOR_WORDS = {**SHORT, **APPRAISAL_FACTORS}

# --- any other frame ---------------------------------------------------------------------

# Headings of common column names (exact name, or the name in lower case). Notebook authors add to it
# (`tables.HEADERS["my_column"] = "My column (unit)"`) or pass `headers={column: text}` to `plain` /
# `write_frame`. Data-dictionary columns read as `labels()` gives them; any other name by `heading`.
HEADERS = {
    "n": "N", "N": "N", "count": "N", "patients": "Patients", "events": "Events", "deaths": "Deaths",
    "censored": "Censored", "at_risk": "At risk", "at risk": "At risk", "percent": "%", "pct": "%",
    "median": "Median", "mean": "Mean", "sd": "SD", "min": "Minimum", "max": "Maximum", "q1": "Q1", "q3": "Q3",
    "ci_low": "95% CI, lower", "ci_high": "95% CI, upper", "low": "95% CI, lower", "high": "95% CI, upper",
    "lower": "95% CI, lower", "upper": "95% CI, upper", "ci": "95% CI",
    "p": "p-value", "p_value": "p-value", "pvalue": "p-value", "p_printed": "Printed p", "printed p": "Printed p",
    "holm": "Holm-adjusted p", "Holm": "Holm-adjusted p", "bh": "Benjamini-Hochberg adjusted p",
    "BH": "Benjamini-Hochberg adjusted p",
    "hr": "Hazard ratio", "HR": "Hazard ratio", "chisq": "Chi-square", "chi_square": "Chi-square",
    "statistic": "Test statistic", "smd": "SMD", "r": "Correlation", "rho": "Correlation",
    "fisher": "Fisher's exact test, p", "chi2": "Chi-square test, p", "chi2_yates": "Chi-square test with Yates' correction, p",
    "fisher reproduces": "Fisher's exact test", "chi2 reproduces": "Chi-square test",
    "chi2_yates reproduces": "Chi-square test with Yates' correction",
    "estimate": "Estimate", "survival": "Survival", "time": "Time", "years": "Years", "year": "Year",
    "label": "Group", "group": "Group", "variable": "Variable", "factor": "Factor", "covariate": "Covariate",
    "levels": "Levels", "level": "Level", "model": "Model", "note": "Note", "endpoint": "End point",
    "term": "Adverse event", "sessions": "HAIC sessions", "kind": "Kind of result", "class": "Class",
    "quantity": "Result", "members": "Members", "text": "As written in the text",
"covered_pct": "Truth inside the range, %",
    "median_abs_error": "Median absolute error", "error_of_median": "Error of the median",
    "true_cohorts": "True cohorts", "not_reproducible": "Not reproducible", "id": "Number (id)",
    "ids": "Numbers (ids)", "best_response": "Best response (RECIST)", "median follow-up": "Median follow-up",
}
# Columns a reader never sees (internal keys; the CSV keeps them) when the frame has other columns to show.
HIDDEN_COLUMNS = {"key", "column"}
# Columns whose cells are factor or variable codes, read in words through an explicit map (`FACTOR_WORDS`).
FACTOR_COLUMNS = {"variable", "factor", "covariate", "key"}
# A confidence interval: the pairs of limit columns merged with the estimate before them into one cell.
CI_PAIRS = [("ci_low", "ci_high"), ("ci_lower", "ci_upper"), ("low", "high"), ("lower", "upper")]
CI_LABEL = "95% CI"
# Codes in words in one column only (`plain`): the kind of a result in the ensemble tables.
COLUMN_LEVELS = {"kind": {"hr": "Hazard ratio", "p": "p-value", "months": "Months", "weeks": "Weeks", "days": "Days",
                          "years": "Years", "percent": "Percentage", "r": "Correlation", "smd": "SMD"}}
# Levels that mean one thing in one column only ("none" is Table 1's initial treatment, not any "none").
_AMBIGUOUS_LEVELS = {"none"}

_P_COLUMN = re.compile(r"^(p|p-value|p value|pvalue|.* p|p .*|holm|bh|fisher|chi2|chi2 yates|.*adjusted p)$", re.I)
_HR_COLUMN = re.compile(r"^(hr|hazard ratio|.*\bhr\b.*|.*hazard ratio.*)$", re.I)
_TWO_DECIMALS = re.compile(r"^(smd|.*\bsmd\b.*|r|rho|corr|correlation|.*correlation.*|e-?value.*|chisq|chi-square|"
                           r"chi square|statistic|.*statistic|z|or|odds ratio|rr|share.*|proportion.*)$", re.I)
_ONE_DECIMAL = re.compile(r"(median|mean|\btime\b|months?|weeks?|days?|rmst|follow-up|follow up|delay|\bmin\b|"
                          r"\bmax\b|minimum|maximum|percent|pct|%|survival|tau)", re.I)
_NR_COLUMN = re.compile(r"(median|\bci\b|upper|lower|\blow\b|\bhigh\b)", re.I)
# a row's "kind" column decides how its summary columns (min, median, max, ...) read; p-values by `format_p`
# in the columns of values, at three decimals in the columns of errors
_ROW_KIND_COLUMNS = {"min", "median", "max", "mean", "truth", "estimate", "value", "q1", "q3"}
_ROW_KIND_ERRORS = {"median_abs_error", "error_of_median", "error", "abs_error"}
_KIND_DIGITS = {"hr": 2, "r": 2, "smd": 2, "ratio": 2, "evalue": 2, "months": 1, "weeks": 1, "days": 1, "years": 1,
                "percent": 1, "pct": 1}


def _words(name) -> str:
    return str(name).replace("_", " ").strip()


def _header_text(col, series: pd.Series | None, headers: dict, dictionary: dict) -> str:
    """The heading of a column: `headers` (the caller's), `HEADERS`, the data dictionary's label, else
    `heading` (underscores to spaces, first letter capitalised)."""
    for key in (col, str(col), str(col).lower(), _words(col).lower()):
        if key in headers:
            return headers[key]
    for key in (col, str(col), str(col).lower(), _words(col).lower()):
        if key in HEADERS:
            text = HEADERS[key]
            break
    else:
        text = dictionary.get(str(col)) or heading(_words(col))
        match = re.match(r"^share p below ([\d.]+)$", _words(col), re.I)
        if match:
            text = f"Share with p < {match.group(1)}"
    if text == "Survival" and series is not None and _numbers(series).gt(1).any():
        text = "Survival, %"
    return text


def _numbers(series: pd.Series) -> pd.Series:
    """The numeric cells of a column (booleans and text left out)."""
    values = [v for v in series if isinstance(v, (int, float, np.integer, np.floating))
              and not isinstance(v, (bool, np.bool_)) and not _missing(v)]
    return pd.Series(values, dtype=float)


def _is_numeric(series: pd.Series) -> bool:
    return len(_numbers(series)) > 0 and not pd.api.types.is_bool_dtype(series)


def _kind(col, series: pd.Series, whole: bool = True) -> tuple:
    """How a column's numbers read: ("p",), ("int",), ("fixed", decimals) or ("auto", decimals),
    chosen by the column's name and values (`whole`: a column of whole numbers reads as integers)."""
    name = _words(col)
    values = _numbers(series)
    if values.empty:
        return ("auto", 0)
    if _P_COLUMN.match(name) and values.between(0, 1).all():
        return ("p",)
    if _HR_COLUMN.match(name):
        return ("fixed", 2)
    if _TWO_DECIMALS.match(name):
        return ("fixed", 2)
    if whole and bool(np.all(np.isclose(values, np.round(values), rtol=0, atol=1e-9))):
        return ("int",)
    if _ONE_DECIMAL.search(name):
        return ("fixed", 1)
    # anything else (a column of mixed quantities): each number with the decimals it needs, at most three
    return ("auto", 3)


def _number_text(v, kind: tuple) -> str:
    if kind[0] == "p":
        return format_p(v)
    if kind[0] == "int":
        return f"{int(round(float(v)))}"
    if kind[0] == "auto":
        text = f"{float(v):.{kind[1]}f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return f"{float(v):.{kind[1]}f}"


def _cell_text(v, kind: tuple, col, levels: dict, factor: bool = False) -> str:
    """One printed cell: numbers by `kind`, "Yes"/"No" for booleans, missing as NR (a median or a confidence
    limit) or "—", codes in words only through an explicit map (`levels`, `FACTOR_WORDS`)."""
    if isinstance(v, (bool, np.bool_)):
        return "Yes" if v else "No"
    if isinstance(v, str) and v.strip() in ("True", "False"):
        return "Yes" if v.strip() == "True" else "No"
    if _missing(v) or (isinstance(v, str) and v.strip().lower() in ("nan", "none", "<na>", "nat")):
        return "NR" if _NR_COLUMN.search(_words(col)) else DASH
    if isinstance(v, (int, float, np.integer, np.floating)):
        return _number_text(v, kind)
    if isinstance(v, (dt.datetime, dt.date, np.datetime64)):  # a date as a date, without a midnight time
        stamp = pd.Timestamp(v)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")
    s = str(v)
    if s in levels:
        return levels[s]
    if factor and s in FACTOR_WORDS:
        return FACTOR_WORDS[s]
    return s.replace(">=", "≥").replace("<=", "≤")


def _ci_merges(columns: list, data: pd.DataFrame) -> dict:
    """{estimate column: (low, high)} for each pair of confidence limits with a numeric column before it
    ({None-keyed} when the limits stand alone)."""
    merges = {}
    lower = {str(c).lower(): c for c in columns}
    for low_name, high_name in CI_PAIRS:
        if low_name not in lower or high_name not in lower:
            continue
        low, high = lower[low_name], lower[high_name]
        if not (_is_numeric(data[low]) or _is_numeric(data[high])) and not (data[low].isna().all()):
            continue
        i = columns.index(low)
        before = columns[i - 1] if i > 0 else None
        taken = {c for pair in merges.values() for c in pair} | set(merges)
        if before is not None and before not in taken and before not in (high,) and _is_numeric(data[before]):
            merges[before] = (low, high)
        else:
            merges[("ci", low)] = (low, high)
    return merges


def plain(df: pd.DataFrame, title: str, paths=None, footnotes=(), index: bool = False, digits: dict | None = None,
          headers: dict | None = None, levels: dict | None = None) -> Table:
    """Any other frame as a journal prints it (`data` keeps `df` for the CSV).

    - no index column (a named index is shown as the first column: it holds labels); the first shown column
      is the stub; internal key columns (`HIDDEN_COLUMNS`) are left out;
    - headers in words: `headers` (column -> text) over `HEADERS` over the data dictionary (`labels`) over
      `heading`; an estimate followed by `ci_low`/`ci_high` (or `low`/`high`, `lower`/`upper`) reads as one
      "Estimate (95% CI)" cell (`format_estimate`);
    - numbers rounded by kind, chosen by the column's name: p-values by `format_p`; hazard ratios, SMD,
      correlations and test statistics 2 decimals; medians, times, months, RMST and percentages 1; whole
      numbers as integers; a column `kind` (hr, p, months, ...) decides its row's min/median/max;
      `digits` (column -> decimals) overrides;
    - missing cells NR in a median or confidence-limit column (never reached), else "—"; booleans Yes/No;
      codes in words only through an explicit map (`LEVELS`, `levels`; factor codes by `FACTOR_WORDS`);
    - counts from 1 to MIN_CELL - 1 read "<MIN_CELL" (`privacy.suppress_small_counts`)."""
    data = df.reset_index() if index or any(n is not None for n in df.index.names) else df
    data = data.loc[:, ~data.columns.duplicated()]
    shown = privacy.suppress_small_counts(data, min_cell_of(paths))  # "<5" cells stay text
    plan = _plan(data, dict(digits or {}), levels)
    first, rest = plan.display[0], plan.display[1:]
    keys = [f"c{i}" for i in range(len(rest))]
    rows = [_row(plan, rec, first, dict(zip(keys, rest))) for rec in shown.to_dict("records")]
    user_headers, dictionary = dict(headers or {}), labels()
    heads = {key: _column_header(plan, col, user_headers, dictionary) for key, col in zip(keys, rest)}
    stub = _column_header(plan, first, user_headers, dictionary)
    texts = [title, stub, *heads.values(), *(r["label"] for r in rows),
             *(v for r in rows for k, v in r.items() if k in heads)]
    notes = [abbreviations_in(*texts), *footnotes]
    return Table(title, heads, rows, df, footnotes_for(paths, notes), stub=stub)


@dataclass
class _Plan:
    """What `plain` decides about a frame's columns before it prints a cell."""
    data: pd.DataFrame  # the frame, its index as a column
    digits: dict  # the caller's decimals per column
    levels: dict  # codes in words (`LEVELS` and the caller's)
    merges: dict  # estimate column -> (low, high); ("ci", low) -> (low, high) for limits without an estimate
    merge_digits: dict  # decimals of each "estimate (95% CI)" cell
    kinds: dict  # column -> how its numbers read (`_kind`)
    kind_column: object  # the column `kind` (hr, p, months, ...) that decides how its row reads, or None
    display: list  # the shown columns in order: a column, an estimate with its limits, or ("ci", low)


def _plan(data: pd.DataFrame, digits: dict, levels: dict | None) -> _Plan:
    """The `_Plan` of `data`: which columns show (no internal key, no empty column), which limits join
    their estimate, how each column's numbers read."""
    words = {k: v for k, v in {**LEVELS, **(levels or {})}.items() if k not in _AMBIGUOUS_LEVELS or k in (levels or {})}
    columns = list(data.columns)
    if len(columns) > 2:
        kept = [c for c in columns if str(c).lower() not in HIDDEN_COLUMNS]
        columns = kept if len(kept) >= 2 else columns
    merges = _ci_merges(columns, data)
    limits = {c for pair in merges.values() for c in pair}
    kinds = {col: ("fixed", int(digits[col])) if col in digits else _kind(col, data[col]) for col in columns}
    merge_digits = {}  # the decimals of an "estimate (95% CI)" cell: `digits`, else by the estimate's name, else 2
    for estimate in merges:
        if estimate in digits:
            merge_digits[estimate] = int(digits[estimate])
            continue
        k = _kind(estimate, data[estimate], whole=False) if estimate in data.columns else ("auto", 2)
        merge_digits[estimate] = k[1] if k[0] == "fixed" else 2
    display = [("ci", col) if col in limits else col for col in columns
               if col not in limits or ("ci", col) in merges]
    kind_column = next((c for c in data.columns if str(c).lower() == "kind"), None)
    plan = _Plan(data, digits, words, merges, merge_digits, kinds, kind_column, display)
    plan.display = [display[0], *(c for c in display[1:] if not _empty(plan, c))]
    return plan


def _empty(plan: _Plan, col) -> bool:
    """Whether a shown column has nothing in it (it tells a reader nothing; the CSV keeps it)."""
    cols = plan.merges[col] if col in plan.merges else (col,)
    return all(_missing(v) or (isinstance(v, str) and not v.strip()) for c in cols for v in plan.data[c])


def _row(plan: _Plan, rec: dict, first, cells: dict) -> dict:
    """One printed row of `plain`: the stub's text as its label (a label in lower case capitalised:
    "Disease control"; "—" as nothing), then the text of each shown column (`cells`: key -> column)."""
    label = _text(plan, rec, first)
    word = re.split(r"[\s,;:()/-]", label, maxsplit=1)[0]
    if len(word) > 1 and word.isalpha() and word.islower() and "_" not in label:  # "Disease control"
        label = label[0].upper() + label[1:]
    row = {"label": "" if label == DASH else label, "indent": 0, "bold": False}
    for key, col in cells.items():
        row[key] = _text(plan, rec, col)
    return row


def _text(plan: _Plan, rec: dict, col) -> str:
    """The printed text of column `col` in the row `rec`: an estimate with its interval, or one cell read
    by its column's kind (or by its row's `kind`, for the summary columns of `_ROW_KIND_COLUMNS`)."""
    if col in plan.merges:
        return _interval_text(rec, col, plan.merges[col], plan.merge_digits[col])
    kind = plan.kinds[col]
    name = str(col).lower()
    if plan.kind_column is not None and name in _ROW_KIND_COLUMNS | _ROW_KIND_ERRORS and col not in plan.digits:
        row_kind = str(rec[plan.kind_column]).lower()
        if row_kind == "p":
            value = rec[col]
            is_p = isinstance(value, (float, np.floating, int, np.integer)) and 0 <= value <= 1
            kind = ("p",) if is_p and name in _ROW_KIND_COLUMNS else ("fixed", 3)
        elif row_kind in _KIND_DIGITS:
            kind = ("fixed", _KIND_DIGITS[row_kind])
    own = {**COLUMN_LEVELS.get(name, {}), **plan.levels}
    return _cell_text(rec[col], kind, col, own, factor=name in FACTOR_COLUMNS)


def _interval_text(rec: dict, col, limits: tuple, d: int) -> str:
    """"12.30 (3.91–NR)" at `d` decimals (`format_estimate`); limits without an estimate ("ci", low) read
    "3.91–NR"; a suppressed or textual estimate stays as it is."""
    low, high = limits
    if isinstance(col, tuple):  # limits without an estimate: "3.9–NR"
        lo, hi = rec[low], rec[high]
        if _missing(lo) and _missing(hi):
            return DASH
        parts = ["NR" if _missing(v) else f"{float(v):.{d}f}" for v in (lo, hi)]
        joint = " to " if any(not _missing(v) and float(v) < 0 for v in (lo, hi)) else EN_DASH
        return joint.join(parts)
    estimate = rec[col]
    if isinstance(estimate, str):  # a suppressed or textual estimate stays as it is
        return estimate
    return format_estimate(estimate, rec[low], rec[high], d) or DASH


def _column_header(plan: _Plan, col, user_headers: dict, dictionary: dict) -> str:
    """The header of a shown column (`_header_text`); an estimate with its limits "Estimate (95% CI)",
    limits alone "95% CI" (unless the caller's `headers` name them)."""
    if col in plan.merges:
        if isinstance(col, tuple):
            return user_headers.get(col[1], CI_LABEL)
        if col in user_headers:
            return user_headers[col]
        return f"{_header_text(col, plan.data[col], {}, dictionary)} ({CI_LABEL})"
    return _header_text(col, plan.data[col], user_headers, dictionary)


# --- writing ---------------------------------------------------------------------------

def write(table: Table, name: str, paths: SimpleNamespace, index: bool = False) -> Table:
    """Write `tables/<name>.csv` (the machine-readable frame, counts below MIN_CELL suppressed),
    `.md` and `.html` (the formatted table) and `.json` (for `manuscript_docx`); return the table
    (Jupyter displays it)."""
    table.anchor = name
    data = privacy.suppress_small_counts(table.data, min_cell_of(paths))
    data.to_csv(paths.tables / f"{name}.csv", index=index, lineterminator="\n")
    (paths.tables / f"{name}.md").write_text(table.markdown(), encoding="utf-8")
    (paths.tables / f"{name}.html").write_text(table.html(), encoding="utf-8")
    if name in MANUSCRIPT:
        (paths.tables / f"{name}.json").write_text(table.to_json(), encoding="utf-8")
    return table



# Titles in words of the tables the notebooks write without one (`write_frame(df, name, paths)`); a title
# given by the notebook wins, and a name not here falls back to `title_of`.
TITLES = {
    "cohort_enrolment_per_year": "Patients enrolled per calendar year",
    "cohort_salvage_by_era": "Salvage options after progression by treatment era",
    "response_sessions": "Number of HAIC sessions per patient",
    "response_best": "Best response to HAIC (RECIST)",
    "toxicity_grade3plus": "Patients with severe adverse events by term (CTCAE)",
    "toxicity_worst_grade": "Patients by the worst grade of each adverse event (CTCAE)",
    "os_landmarks": "Overall survival at landmark times",
    "os_by_response_medians": "Median overall survival by best response",
    "table2_categorical_tests": "Table 2 (categorical factors): p-values of three tests",
    "table2_which_test_printed_counts": "Table 2: which test gives the printed p-values",
    "figure2_medians": "Figure 2: median overall survival and survival post-progression by salvage treatment",
    "table3_univariate": "Table 3 (univariate): survival post-progression by prognostic factor",
    "appraisal_followup": "Follow-up after progression by salvage treatment (reverse Kaplan-Meier)",
    "appraisal_salvage_delay": "Time from progression to the start of salvage treatment",
    "appraisal_time_varying_cox": "Sorafenib as a fixed group and as a time-varying covariate: hazard ratios",
    "appraisal_multiplicity": "Prognostic factors screened one at a time: p-values adjusted for multiplicity",
    "appraisal_smd": "Balance of the salvage groups: standardised mean differences",
    "scorecard": "Scorecard: each published number beside this run's",
    "scorecard_move_granularity": "How finely the reconstruction can move the last Cox numbers",
    "audit": "Audit of the published numbers: every check",
    "audit_summary": "Audit of the published numbers: findings by check",
    "audit_table2_tests": "Audit: Table 2's p-values under three tests",
    "audit_reading": "Audit: how printed numbers that contradict others were read",
    "ensemble_members": "Ensemble of reconstructed cohorts: the members",
    "ensemble_unprinted_results": "Results the paper did not print, across the ensemble of reconstructed cohorts",
    "ensemble_classes": "Unprinted results by class: pinned, constrained or free",
    "reconstruction_coverage": "Validation: how often ensembles of reconstructions contain a known truth",
    "reconstruction_failures": "Validation: why reconstructions of known true cohorts failed",
}


def title_of(name: str) -> str:
    """The title of a table written without one: `TITLES` in words, else from its file name
    ("new_table" -> "New table")."""
    return TITLES.get(name) or heading(name.replace("_", " "))


def write_frame(df: pd.DataFrame, name: str, paths: SimpleNamespace, title: str | None = None,
                footnotes=(), index: bool = False, **plain_kwargs) -> Table:
    """`write(plain(df, title))` for a table that is not one of the paper's: `tables/<name>.csv` exactly as
    `df.to_csv` writes it (counts below MIN_CELL suppressed), Markdown and HTML as a reader gets them
    (`plain`; `plain_kwargs`: digits, headers, levels). Returns the `Table` (Jupyter displays it); its
    `data` is the frame as it may be shown to a program (counts below MIN_CELL suppressed)."""
    table = write(plain(df, title or title_of(name), paths, footnotes=footnotes, index=index, **plain_kwargs),
                  name, paths, index=index)
    table.data = privacy.suppress_small_counts(df, min_cell_of(paths))
    return table
