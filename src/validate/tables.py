"""One table checked against the dictionary: the text read from its file becomes typed columns and problems.

:func:`validate_table` drops an optional column left empty, reads a European file's numbers and dates, recodes
synonyms, converts every cell (``cells.py``), reports the cells of rows that end early, and checks the column
rules with pandera (``schema.py``) when the quick test says something fails.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pandera.pandas as pa

from src.validate.cells import _parse_column
from src.validate.dictionary import _spec_entry
from src.validate.european import _european_reading
from src.validate.problems import _plural, _problem, _problem_frame
from src.validate.schema import MISSING_VALUE, _cached_schema, _schema_passes, _translate_failures
from src.validate.synonyms import _recode


#: Tables that may have a header and no data rows (every other table needs a row).
MAY_BE_EMPTY = ("progression", "adverse_events")


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
    text, notes = _drop_empty_optional_columns(text, spec, infos, file)
    european_bad: dict[str, list] = {}
    if attrs.get("separator") == ";":
        text, european_problems, european_notes, european_bad = _european_reading(text, infos, file)
        problems.extend(european_problems)
        notes.extend(european_notes)
    converted, unparsed, cell_problems, cell_notes = _convert_columns(text, table, spec, infos, attrs, synonyms,
                                                                      file, european_bad)
    problems.extend(cell_problems)
    notes.extend(cell_notes)
    typed = pd.DataFrame(converted, index=text.index)
    if not _schema_passes(converted, spec):  # else pandera would find nothing: skipped, as it is slow
        typed, schema_problems = _pandera_pass(typed, dictionary, table, spec, text, file, unparsed)
        problems.extend(schema_problems)
    typed = typed[[c for c in expected if c in typed.columns]]
    if len(typed) == 0 and table not in MAY_BE_EMPTY:
        problems.append(_problem(file, message=f"{file} has a header line but no data rows "
                                               f"(the {table} table needs at least one)"))
        typed = None
    problems = _one_problem_per_empty_column(problems, text, spec, file)
    position = {c: i for i, c in enumerate(expected)}
    problems.sort(key=lambda p: position.get(p["column"], -1))  # then _problem_frame sorts by row, stably
    return typed, _problem_frame(problems), notes


def _drop_empty_optional_columns(text: pd.DataFrame, spec: pd.DataFrame, infos: dict, file: str):
    """An optional column that is present but empty in every row is read as left out: ``(text, notes)``."""
    notes = []
    if len(text):
        for column in [c for c in text.columns if c in spec.index]:
            info = infos[column]
            if info.get("optional", "no") == "yes" and info["required"] != "yes" and text[column].isna().all():
                text = text.drop(columns=column)
                notes.append(f"{file}: {column} is empty in every row; it is optional and read as left out")
    return text, notes


def _convert_columns(text: pd.DataFrame, table: str, spec: pd.DataFrame, infos: dict, attrs: dict,
                     synonyms: dict | None, file: str, european_bad: dict):
    """Every column of the dictionary read with its synonyms and converted to its type (another column is
    kept as text): ``(converted, unparsed, problems, notes)``, ``converted`` by column name, ``unparsed``
    the rows of each column whose cells could not be read."""
    labels = attrs.get("value_labels", {})
    converted, unparsed, problems, notes = {}, {}, [], []
    for column in text.columns:
        if column not in spec.index:
            converted[column] = text[column]
            continue
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
            problems.extend(_short_row_problems(column, attrs, file))
    return converted, unparsed, problems, notes


def _short_row_problems(column: str, attrs: dict, file: str) -> list:
    """A problem for each row of the file that ends before ``column`` (fewer values than the header)."""
    problems = []
    for row, n_values in attrs.get("short_rows", {}).items():
        if attrs.get("positions", {}).get(column, -1) >= n_values:
            problems.append(_problem(
                file, row, column, None,
                f"{file} row {row}, {column} is missing: the row ends after {n_values} "
                f"{'value' if n_values == 1 else 'values'} (the header has {attrs.get('width')} "
                f"columns); leave a cell empty with a comma (,,) if the value is not known"))
    return problems


def _pandera_pass(typed: pd.DataFrame, dictionary: pd.DataFrame, table: str, spec: pd.DataFrame,
                  text: pd.DataFrame, file: str, unparsed: dict):
    """The column rules checked by pandera: ``(typed, problems)``, the cells that broke a rule set to missing."""
    schema = _cached_schema(dictionary, table)
    try:
        with warnings.catch_warnings():
            # pandera's report of failures warns about pandas internals (e.g. "concatenation with
            # empty or all-NA entries" when a missing text value fails next to a bad number):
            # noise for the reader of the problem list, which this package writes itself
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        schema_problems, failed_cells = _translate_failures(exc.failure_cases, schema, spec, text, typed, file,
                                                            unparsed)
        for column, row in failed_cells:
            typed[column] = _set_missing(typed[column], row)
        return typed, schema_problems
    return typed, []


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
