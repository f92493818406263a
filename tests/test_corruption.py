"""Property-based corruption suite for src/validate/__init__.py (and the runner's refusal of bad data).

Each test starts from a copy of the committed data (``data/patients.csv``,
``progression.csv``, ``adverse_events.csv`` and ``data_dictionary.csv``,
which pass validation), lets hypothesis choose WHICH row, column and value
to corrupt, and checks that :func:`src.validate.load_and_validate` raises
:class:`DataValidationError` whose problem names the file, the row
(spreadsheet numbering: header = row 1) and the column of that corruption,
with a message describing its class. Any other exception (pandas, pyarrow,
openpyxl, pyreadstat, UnicodeDecodeError, ...) escapes and fails the test.

The expected problems are derived from the corruption itself, never from a
run of the validator. Hypothesis runs derandomized (the same examples on
every run) without an example database.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.runner import outdir
from src import runner
from src import validate as v
from src.validate.problems import _col_letter

DATA = Path(__file__).resolve().parents[1] / "data"
TABLES = ("patients", "progression", "adverse_events")
DICTIONARY = v.read_dictionary(DATA / "data_dictionary.csv")
APPROVAL = dt.date.fromisoformat(v.SORAFENIB_APPROVAL)
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2030, 12, 31)  # the dictionary's date range

# The syntax the module docstring promises (ASCII digits, optional sign, point and exponent).
NUMBER_SYNTAX = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
DATE_SYNTAX = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _read_csv(name: str) -> tuple[list[str], list[list[str]]]:
    with open(DATA / f"{name}.csv", newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


VALID = {name: _read_csv(name) for name in TABLES}
PATIENT_IDS = {row[0] for row in VALID["patients"][1]}


def fast(max_examples: int):
    """Hypothesis settings of this file: few, deterministic examples, no deadline."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# ------------------------------------------------------------------ helpers


def spec(table: str, column: str) -> pd.Series:
    """The dictionary row of ``table.column``."""
    return DICTIONARY[(DICTIONARY["table"] == table) & (DICTIONARY["column"] == column)].iloc[0]


def columns(table: str | None = None, *, types=None, optional=None) -> list[tuple[str, str]]:
    """(table, column) pairs of the dictionary, filtered by table, type and optional flag."""
    rows = DICTIONARY
    if table is not None:
        rows = rows[rows["table"] == table]
    if types is not None:
        rows = rows[rows["type"].isin(types)]
    if optional is not None:
        rows = rows[rows["optional"] == ("yes" if optional else "no")]
    return list(zip(rows["table"], rows["column"]))


def tables_copy() -> dict:
    """A fresh, mutable copy of the valid tables as {name: (header, rows)}."""
    return {name: (list(header), [list(r) for r in rows]) for name, (header, rows) in VALID.items()}


def cell(tables, table, row, column) -> str:
    """The text of a cell addressed as in the messages (row 2 = first data row)."""
    header, rows = tables[table]
    return rows[row - 2][header.index(column)]


def set_cell(tables, table, row, column, value) -> None:
    header, rows = tables[table]
    rows[row - 2][header.index(column)] = value


def patient_row(tables, patient_id) -> int:
    """Spreadsheet row of a patient in patients.csv."""
    return 2 + [r[0] for r in tables["patients"][1]].index(patient_id)


def csv_text(header, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def make_folder(base: Path, tables: dict | None = None, files: dict | None = None) -> Path:
    """A new data folder below ``base``: the committed files, then ``tables``
    ({name: (header, rows)}) written as NAME.csv and ``files`` ({file name: bytes})
    written as they are (a NAME.xlsx or NAME.sav replaces NAME.csv)."""
    folder = Path(tempfile.mkdtemp(dir=base))
    for name in TABLES:
        shutil.copyfile(DATA / f"{name}.csv", folder / f"{name}.csv")
    shutil.copyfile(DATA / "data_dictionary.csv", folder / "data_dictionary.csv")
    for name, (header, rows) in (tables or {}).items():
        (folder / f"{name}.csv").write_text(csv_text(header, rows), encoding="utf-8")
    for file_name, data in (files or {}).items():
        stem = Path(file_name).stem
        (folder / f"{stem}.csv").unlink()
        (folder / file_name).write_bytes(data)
    return folder


def rejected(folder: Path) -> pd.DataFrame:
    """The problems of a folder that must fail validation.

    Only DataValidationError is caught: any other exception fails the test.
    The report lists every problem and holds no traceback, and no warning
    (of pandas, pandera, openpyxl, ...) is shown besides it.
    """
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", DeprecationWarning)  # hidden from users by Python's defaults
        try:
            v.load_and_validate(folder)
        except v.DataValidationError as error:
            problems, report = error.problems, str(error)
        else:
            pytest.fail(f"{folder} passed validation")
    assert not shown, [f"{w.category.__name__}: {w.message}" for w in shown]
    assert list(problems.columns) == v.PROBLEM_COLUMNS
    assert len(problems) >= 1
    assert report.startswith(f"Data validation failed: {len(problems)} problem")
    for message in problems["message"]:
        assert f"  - {message}" in report
    assert "Traceback" not in report
    return problems


def at(problems, file, row, column) -> pd.DataFrame:
    """Problems located at (file, row, column); None means a whole-file or whole-row problem."""
    match = problems[problems["file"] == file]
    match = match[match["row"].isna()] if row is None else match[match["row"] == row]
    return match[match["column"].isna()] if column is None else match[match["column"] == column]


def the_problem(problems, file, row, column, *fragments, alone=True) -> str:
    """The one problem at (file, row, column) whose message has every fragment.

    Its message starts with the spreadsheet-style place ("FILE row N, COLUMN"
    or "FILE"). With ``alone`` it must be the only problem of the folder.
    """
    match = at(problems, file, row, column)
    match = match[[all(f in m for f in fragments) for m in match["message"]]]
    assert len(match) == 1, f"{file} row {row}, {column}: {fragments}\n{problems.to_string()}"
    message = match["message"].iloc[0]
    prefix = file if row is None else f"{file} row {row}, {column}" if column else f"{file} row {row}"
    assert message.startswith(prefix), message
    if alone:
        assert len(problems) == 1, problems.to_string()
    return message


def data_rows(table: str):
    """Strategy: a spreadsheet row number of a data row of ``table``."""
    return st.integers(2, len(VALID[table][1]) + 1)


# Text a user might type: no surrogates, no control characters (NUL etc. make a file binary).
TYPED_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)


# --------------------------------------------------------------- the base


def test_the_committed_data_is_a_valid_starting_point(tmp_path):
    tables = v.load_and_validate(make_folder(tmp_path))
    assert [len(tables[name]) for name in TABLES] == [len(VALID[name][1]) for name in TABLES]


# -------------------------------------------------------------- wrong types


@st.composite
def wrong_type(draw, kind):
    """(table, row, column, value, expected fragment): a value that is not of type ``kind``
    ("decimal" = a number with a fraction in an integer column)."""
    table, column = draw(st.sampled_from(columns(types=("integer",) if kind == "decimal" else (kind,))))
    row = draw(data_rows(table))
    if kind == "decimal":
        value = f"{draw(st.integers(0, 99))}.{draw(st.integers(1, 99)):02d}".rstrip("0")
        return table, row, column, value, f"'{value}' is not a whole number"
    syntax = DATE_SYNTAX if kind == "date" else NUMBER_SYNTAX
    value = draw(st.one_of(
        TYPED_TEXT,
        st.sampled_from(["high", "n/a", "NA", ".", "3,6", "1 000", "<5", "nan", "inf", "12 mg", "\uff11\uff12",
                         "01/04/2006", "2010-1-5", "2010/01/05", "yesterday", "2010-01-01T00:00"]),
    ).map(str.strip).filter(lambda s: s and not syntax.fullmatch(s)))
    noun = {"integer": "an integer", "number": "a number", "date": "a date written as YYYY-MM-DD"}[kind]
    return table, row, column, value, f"'{value}' is not {noun}"


@pytest.mark.parametrize("kind", ["integer", "number", "date", "decimal"])
@fast(8)
@given(data=st.data())
def test_wrong_type_names_file_row_and_column(tmp_path, kind, data):
    table, row, column, value, expected = data.draw(wrong_type(kind), label="corruption")
    tables = tables_copy()
    set_cell(tables, table, row, column, value)
    problems = rejected(make_folder(tmp_path, {table: tables[table]}))
    the_problem(problems, f"{table}.csv", row, column, expected)
    assert at(problems, f"{table}.csv", row, column)["value"].iloc[0] == value


# ------------------------------------------------------------------ columns


def _drop_columns(tables, table, names):
    header, rows = tables[table]
    keep = [i for i, c in enumerate(header) if c not in names]
    tables[table] = ([header[i] for i in keep], [[r[i] for i in keep] for r in rows])


@fast(12)
@given(target=st.sampled_from(columns(optional=False)))
def test_missing_required_column(tmp_path, target):
    table, column = target
    tables = tables_copy()
    _drop_columns(tables, table, {column})
    problems = rejected(make_folder(tmp_path, {table: tables[table]}))
    the_problem(problems, f"{table}.csv", None, column, f"{table}.csv: column '{column}' is missing")


@fast(8)
@given(table=st.sampled_from(["patients", "progression"]), data=st.data())
def test_missing_optional_columns_are_accepted(tmp_path, table, data):
    optional = [c for _, c in columns(table, optional=True)]
    dropped = data.draw(st.lists(st.sampled_from(optional), min_size=1, unique=True), label="dropped")
    tables = tables_copy()
    _drop_columns(tables, table, set(dropped))
    result = v.load_and_validate(make_folder(tmp_path, {table: tables[table]}))
    frame = result[table]
    expected = [c for _, c in columns(table) if c not in dropped]
    assert list(frame.columns) == expected  # left out, not added back filled with NA
    assert len(frame) == len(VALID[table][1])
    assert not frame.isna().any().any()
    for column in expected:
        kind = spec(table, column)["type"]
        assert str(frame[column].dtype) == {"integer": "int64", "number": "float64", "date": "datetime64[ns]",
                                            "string": "object", "category": "object"}[kind], column


@fast(10)
@given(table=st.sampled_from(TABLES), data=st.data())
def test_extra_unknown_column(tmp_path, table, data):
    header, rows = VALID[table]
    name = data.draw(TYPED_TEXT.filter(lambda s: s.strip() and s.strip() not in header), label="name")
    position = data.draw(st.integers(0, len(header)), label="position")
    value = data.draw(st.sampled_from(["", "1", "x", "2010-01-01"]), label="value")
    tables = tables_copy()
    new_header, new_rows = tables[table]
    new_header.insert(position, name)
    for row in new_rows:
        row.insert(position, value)
    problems = rejected(make_folder(tmp_path, {table: tables[table]}))
    the_problem(problems, f"{table}.csv", None, name.strip(), f"{table}.csv: unexpected column '{name.strip()}'")


@fast(15)
@given(table=st.sampled_from(TABLES), data=st.data())
def test_row_cut_short(tmp_path, table, data):
    header, _ = VALID[table]
    row = data.draw(data_rows(table), label="row")
    kept = data.draw(st.integers(1, len(header) - 1), label="values kept")
    tables = tables_copy()
    tables[table][1][row - 2] = tables[table][1][row - 2][:kept]
    problems = rejected(make_folder(tmp_path, {table: tables[table]}))
    for column in header[kept:]:
        the_problem(problems, f"{table}.csv", row, column, f"{table}.csv row {row}, {column} is missing", alone=False)
    assert len(problems) == len(header) - kept, problems.to_string()


def test_missing_text_value_next_to_a_bad_number(tmp_path):
    # pandera's failure report once printed a pandas FutureWarning for this mix
    tables = tables_copy()
    set_cell(tables, "adverse_events", 80, "term", "")
    set_cell(tables, "adverse_events", 80, "grade", "")
    set_cell(tables, "adverse_events", 35, "grade", "130")
    problems = rejected(make_folder(tmp_path, {"adverse_events": tables["adverse_events"]}))
    the_problem(problems, "adverse_events.csv", 80, "term", "term is missing", alone=False)
    the_problem(problems, "adverse_events.csv", 35, "grade", "130 is outside the allowed range 1 to 5", alone=False)
    assert len(problems) == 3


# -------------------------------------------------------------- empty files


@fast(10)
@given(table=st.sampled_from(TABLES),
       content=st.sampled_from([b"", b"\n", b"\r\n\r\n", b"   \n\t\n", b"\xef\xbb\xbf", b",,,\n,,\n"]),
       suffix=st.sampled_from([".csv", ".csv", ".xlsx", ".sav"]))
def test_empty_file_is_an_error_for_every_table(tmp_path, table, content, suffix):
    if suffix != ".csv":
        content = b""
    problems = rejected(make_folder(tmp_path, files={f"{table}{suffix}": content}))
    the_problem(problems, f"{table}{suffix}", None, None, f"{table}{suffix} is empty (no header, no data)")


@pytest.mark.parametrize("trailer", ["", "\n", "\n\n,,\n"])
def test_header_only_patients_is_an_error(tmp_path, trailer):
    header, _ = VALID["patients"]
    folder = make_folder(tmp_path, files={"patients.csv": (",".join(header) + "\n" + trailer).encode()})
    the_problem(rejected(folder), "patients.csv", None, None, "patients.csv has a header line but no data rows")


@pytest.mark.parametrize("empty", [["progression"], ["adverse_events"], ["progression", "adverse_events"]])
def test_header_only_progression_or_adverse_events_is_accepted(tmp_path, empty):
    folder = make_folder(tmp_path, {name: (VALID[name][0], []) for name in empty})
    tables = v.load_and_validate(folder)
    for name in empty:
        frame = tables[name]
        assert len(frame) == 0 and list(frame.columns) == VALID[name][0]
        assert frame["patient_id"].dtype == object
    if "progression" in empty:
        assert tables["progression"]["progression_date"].dtype == "datetime64[ns]"
        assert tables["progression"]["age"].dtype == "int64"
        assert tables["progression"]["alt"].dtype == "float64"
    assert len(tables["patients"]) == len(VALID["patients"][1])


# ------------------------------------------------------------ duplicated ids


@fast(12)
@given(data=st.data(), append=st.booleans())
def test_duplicated_patient_id(tmp_path, data, append):
    first = data.draw(data_rows("patients"), label="row copied")
    tables = tables_copy()
    rows = tables["patients"][1]
    pid = cell(tables, "patients", first, "patient_id")
    if append:  # the same record twice
        rows.append(list(rows[first - 2]))
        second = len(rows) + 1
    else:  # another patient's id overwritten
        second = data.draw(data_rows("patients").filter(lambda r: r != first), label="row overwritten")
        set_cell(tables, "patients", second, "patient_id", pid)
    low, high = sorted((first, second))
    problems = rejected(make_folder(tmp_path, {"patients": tables["patients"]}))
    the_problem(problems, "patients.csv", low, "patient_id", f"'{pid}' appears more than once (rows {low}, {high})",
                alone=append)
    # overwriting loses a patient: only the other tables may then report it
    assert len(problems[problems["file"] == "patients.csv"]) == 1, problems.to_string()


@fast(5)
@given(row=data_rows("progression"))
def test_duplicated_progression_patient_id(tmp_path, row):
    tables = tables_copy()
    tables["progression"][1].append(list(tables["progression"][1][row - 2]))
    n = len(tables["progression"][1]) + 1
    pid = cell(tables, "progression", row, "patient_id")
    problems = rejected(make_folder(tmp_path, {"progression": tables["progression"]}))
    the_problem(problems, "progression.csv", row, "patient_id", f"'{pid}' appears more than once (rows {row}, {n})")


# ---------------------------------------------------------- impossible dates

DATE_COLUMNS = columns(types=("date",))


@st.composite
def impossible_date(draw):
    year = draw(st.integers(DATE_MIN.year, DATE_MAX.year))
    if draw(st.booleans()):
        month, day = draw(st.sampled_from([0, 13, 14, 20, 99])), draw(st.integers(1, 28))
    else:
        month = draw(st.integers(1, 12))
        last = calendar.monthrange(year, month)[1]
        day = draw(st.sampled_from([0, last + 1, 31 if last < 31 else 32, 99]))
    return f"{year:04d}-{month:02d}-{day:02d}"


@fast(15)
@given(target=st.sampled_from(DATE_COLUMNS), data=st.data(), value=impossible_date())
def test_impossible_calendar_date(tmp_path, target, data, value):
    table, column = target
    row = data.draw(data_rows(table), label="row")
    tables = tables_copy()
    set_cell(tables, table, row, column, value)
    problems = rejected(make_folder(tmp_path, {table: tables[table]}))
    the_problem(problems, f"{table}.csv", row, column, f"'{value}' is not a real calendar date")


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _progression_case(tables, row):
    """(patient_id, patients.csv row, first HAIC, last follow-up, progression date, salvage date)
    of a progression row."""
    pid = cell(tables, "progression", row, "patient_id")
    prow = patient_row(tables, pid)
    return (pid, prow, _day(cell(tables, "patients", prow, "first_haic_date")),
            _day(cell(tables, "patients", prow, "last_followup_date")),
            _day(cell(tables, "progression", row, "progression_date")),
            _day(cell(tables, "progression", row, "salvage_start_date")))


@fast(10)
@given(row=data_rows("progression"), days=st.integers(1, 3000))
def test_progression_after_last_followup(tmp_path, row, days):
    tables = tables_copy()
    pid, prow, _, last, _, _ = _progression_case(tables, row)
    new = min(last + dt.timedelta(days=days), DATE_MAX)
    set_cell(tables, "progression", row, "progression_date", new.isoformat())
    problems = rejected(make_folder(tmp_path, {"progression": tables["progression"]}))
    the_problem(problems, "progression.csv", row, "progression_date",
                f"progression_date {new} is after the last follow-up", f"last_followup_date {last}",
                f"patient {pid}, patients.csv row {prow}", alone=False)
    # anything else is about the same progression row (e.g. salvage now before progression)
    assert set(problems["file"]) == {"progression.csv"} and set(problems["row"]) == {row}, problems.to_string()


@fast(10)
@given(row=data_rows("progression"), days=st.integers(1, 3000))
def test_progression_before_first_haic(tmp_path, row, days):
    tables = tables_copy()
    pid, prow, first, _, _, _ = _progression_case(tables, row)
    new = max(first - dt.timedelta(days=days), DATE_MIN)
    set_cell(tables, "progression", row, "progression_date", new.isoformat())
    problems = rejected(make_folder(tmp_path, {"progression": tables["progression"]}))
    the_problem(problems, "progression.csv", row, "progression_date",
                f"progression_date {new} is before the first HAIC", f"first_haic_date {first}", alone=False)
    assert set(problems["file"]) == {"progression.csv"} and set(problems["row"]) == {row}, problems.to_string()


@fast(10)
@given(row=data_rows("progression"), days=st.integers(1, 3000))
def test_salvage_before_progression(tmp_path, row, days):
    tables = tables_copy()
    _, _, _, _, progressed, _ = _progression_case(tables, row)
    new = max(progressed - dt.timedelta(days=days), DATE_MIN)
    set_cell(tables, "progression", row, "salvage_start_date", new.isoformat())
    problems = rejected(make_folder(tmp_path, {"progression": tables["progression"]}))
    the_problem(problems, "progression.csv", row, "salvage_start_date",
                f"salvage_start_date {new} is before progression_date {progressed}", alone=False)
    # a sorafenib row may also start before the approval: same cell, another message
    assert set(problems["row"]) == {row} and set(problems["column"]) == {"salvage_start_date"}, problems.to_string()


EARLY_PROGRESSION = [2 + i for i, r in enumerate(VALID["progression"][1])
                     if _day(r[VALID["progression"][0].index("progression_date")]) < APPROVAL]


@fast(10)
@given(row=st.sampled_from(EARLY_PROGRESSION), data=st.data())
def test_sorafenib_before_approval(tmp_path, row, data):
    tables = tables_copy()
    _, _, _, last, progressed, _ = _progression_case(tables, row)
    latest = min(APPROVAL - dt.timedelta(days=1), last)
    start = data.draw(st.dates(progressed, latest), label="salvage start")
    set_cell(tables, "progression", row, "salvage_treatment", "sorafenib")
    set_cell(tables, "progression", row, "salvage_start_date", start.isoformat())
    folder = make_folder(tmp_path, {"progression": tables["progression"]})
    with pytest.raises(v.UnacknowledgedWarnings) as info:  # possible (a trial, another country): a warning
        v.load_and_validate(folder)
    the_problem(info.value.warnings, "progression.csv", row, "salvage_start_date",
                f"salvage_start_date {start} is before sorafenib was approved for HCC ({APPROVAL})")
    with pytest.raises(v.DataValidationError):  # and an error for the generators' strict check
        v.load_and_validate(folder, strict=True)


# --------------------------------------------------- negative or missing follow-up


@fast(20)
@given(row=data_rows("patients"), how=st.sampled_from(["negative", "last_followup_date", "death",
                                                        "first_haic_date"]),
       blank=st.sampled_from(["", " ", "  \t "]), days=st.integers(1, 2000))
def test_negative_or_missing_followup(tmp_path, row, how, blank, days):
    tables = tables_copy()
    if how == "negative":
        first = _day(cell(tables, "patients", row, "first_haic_date"))
        new = max(first - dt.timedelta(days=days), DATE_MIN)
        set_cell(tables, "patients", row, "last_followup_date", new.isoformat())
        problems = rejected(make_folder(tmp_path, {"patients": tables["patients"]}))
        the_problem(problems, "patients.csv", row, "last_followup_date",
                    f"last_followup_date {new} is before first_haic_date {first}", alone=False)
        # the patient's progression (if any) is now after the follow-up: reported in progression.csv
        pid = cell(tables, "patients", row, "patient_id")
        others = problems[problems["file"] != "patients.csv"]
        assert len(problems[problems["file"] == "patients.csv"]) == 1, problems.to_string()
        assert all(f"patient {pid}," in m for m in others["message"]), problems.to_string()
    else:
        set_cell(tables, "patients", row, how, blank)
        problems = rejected(make_folder(tmp_path, {"patients": tables["patients"]}))
        the_problem(problems, "patients.csv", row, how, f"patients.csv row {row}, {how} is missing")


# ------------------------------------------------------- unknown categories


@st.composite
def unknown_category(draw):
    table, column = draw(st.sampled_from(columns(types=("category",))))
    allowed = spec(table, column)["allowed"].split("|")
    value = draw(st.one_of(
        st.sampled_from(allowed).map(lambda a: a.swapcase() if a.swapcase() != a else a + "x"),
        st.sampled_from(["X", "chemo", "unknown", "n/a", "NA", "Male", "yes/no", "?"]),
        TYPED_TEXT,
    ).map(str.strip).filter(lambda s: s and s not in allowed))
    return table, draw(data_rows(table)), column, value, allowed


@fast(25)
@given(case=unknown_category())
def test_unknown_category(tmp_path, case):
    table, row, column, value, allowed = case
    tables = tables_copy()
    set_cell(tables, table, row, column, value)
    problems = rejected(make_folder(tmp_path, {table: tables[table]}))
    the_problem(problems, f"{table}.csv", row, column, f"'{value}' is not one of {', '.join(allowed)}")


@pytest.mark.parametrize("table,column,value",
                         [("patients", "sex", "X"), ("progression", "salvage_treatment", "chemo")])
def test_unknown_category_examples(tmp_path, table, column, value):
    tables = tables_copy()
    set_cell(tables, table, 3, column, value)
    problems = rejected(make_folder(tmp_path, {table: tables[table]}))
    the_problem(problems, f"{table}.csv", 3, column, f"'{value}' is not one of")


# -------------------------------------------------------------- non-UTF-8

# (word, encoding): each encodes to bytes that are not UTF-8
FOREIGN_WORDS = [("Müller", "latin-1"), ("Gérard", "cp1252"), ("Œdème", "cp1252"), ("naïve", "latin-1"),
                 ("5 µg", "cp1252"), ("±3", "latin-1"), ("山田", "shift_jis"), ("肝細胞癌", "shift_jis"),
                 ("Straße", "cp1252")]


@fast(15)
@given(table=st.sampled_from(TABLES), data=st.data(), word=st.sampled_from(FOREIGN_WORDS),
       prefix=st.text("ABCxyz019 ", max_size=3), bom=st.booleans())
def test_non_utf8_text_names_the_cell(tmp_path, table, data, word, prefix, bom):
    text, encoding = word
    header, _ = VALID[table]
    row = data.draw(data_rows(table), label="row")
    column = data.draw(st.sampled_from(header), label="column")
    tables = tables_copy()
    set_cell(tables, table, row, column, prefix + text)
    content = (b"\xef\xbb\xbf" if bom else b"") + csv_text(*tables[table]).encode(encoding)
    with pytest.raises(UnicodeDecodeError):  # the corruption really is not UTF-8
        content.decode("utf-8-sig")
    first_foreign = next(b for b in text.encode(encoding) if b >= 0x80)
    problems = rejected(make_folder(tmp_path, files={f"{table}.csv": content}))
    message = the_problem(problems, f"{table}.csv", row, column, "is not UTF-8 text", "save it as 'CSV UTF-8'",
                          f"byte 0x{first_foreign:02X}")
    assert prefix.strip() in message
    assert at(problems, f"{table}.csv", row, column)["value"].iloc[0].startswith(prefix.strip())


def test_non_utf8_header(tmp_path):
    header, rows = VALID["patients"]
    content = csv_text(["Größe" if c == "sex" else c for c in header], rows).encode("latin-1")
    problems = rejected(make_folder(tmp_path, files={"patients.csv": content}))
    letter = _col_letter(header.index("sex"))
    the_problem(problems, "patients.csv", 1, None, f"patients.csv row 1 (the header), column {letter}",
                "is not UTF-8 text")


# ------------------------------------------------------- not a table at all

SIGNATURES = {  # file type -> (leading bytes, what the message must call it)
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
    "zip": (b"PK\x03\x04\x14\x00\x06\x00", "an Excel workbook or another zip file"),
    "sav": (b"$FL2@(#) IBM SPSS STATISTICS", "an SPSS .sav file"),
    "sqlite": (b"SQLite format 3\x00", "an SQLite database"),
}


@fast(15)
@given(table=st.sampled_from(TABLES), kind=st.sampled_from(sorted(SIGNATURES)),
       body=st.binary(max_size=300))
def test_known_binary_file_named_csv(tmp_path, table, kind, body):
    signature, called = SIGNATURES[kind]
    problems = rejected(make_folder(tmp_path, files={f"{table}.csv": signature + body}))
    the_problem(problems, f"{table}.csv", None, None, f"{table}.csv is not a CSV text table: it is {called}")


@fast(15)
@given(table=st.sampled_from(TABLES), body=st.binary(min_size=1, max_size=400), data=st.data())
def test_random_binary_named_csv(tmp_path, table, body, data):
    position = data.draw(st.integers(0, len(body)), label="NUL position")
    content = b"\x00" + body[:position] + b"\x00" + body[position:]  # random bytes hold NULs
    problems = rejected(make_folder(tmp_path, files={f"{table}.csv": content}))
    message = the_problem(problems, f"{table}.csv", None, None)
    # binary data; or, when every other byte happens to be NUL, UTF-16 text
    assert (f"{table}.csv is not a CSV text table: it is binary data" in message
            or f"{table}.csv is saved as UTF-16" in message), message


@fast(10)
@given(table=st.sampled_from(TABLES), real=st.booleans(),
       text=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80).filter(
           lambda t: not t.startswith(("%PDF", "GIF8", "$FL"))))  # text, not a known binary format
def test_xlsx_that_is_really_text(tmp_path, table, text, real):
    content = (csv_text(*VALID[table]) if real else text + "\n").encode("utf-8")
    if not content.strip():
        content = b"x\n"
    problems = rejected(make_folder(tmp_path, files={f"{table}.xlsx": content}))
    the_problem(problems, f"{table}.xlsx", None, None,
                f"{table}.xlsx is not an Excel workbook (.xlsx): it is plain text",
                f"name it {table}.csv")


@fast(15)
@given(table=st.sampled_from(TABLES), garbage=st.binary(min_size=1, max_size=300), signed=st.booleans(),
       suffix=st.sampled_from([".sav", ".xlsx"]))
def test_garbage_sav_or_xlsx(tmp_path, table, garbage, signed, suffix):
    signatures = (b"$FL2", b"$FL3") if suffix == ".sav" else (b"PK\x03\x04",)
    if signed:  # the format's own leading bytes, then garbage
        content = signatures[0] + garbage
    else:  # garbage that does not start as the format (nor is blank, which is an empty file)
        content = garbage if garbage.strip() and not garbage.startswith(signatures) else b"\x00" + garbage
    file = f"{table}{suffix}"
    problems = rejected(make_folder(tmp_path, files={file: content}))
    if signed:  # starts like the format, then breaks
        expected = f"{file} cannot be read as an SPSS .sav file" if suffix == ".sav" else \
            f"{file} cannot be opened as an Excel workbook"
    else:
        expected = f"{file} is not an SPSS .sav file" if suffix == ".sav" else f"{file} is not an Excel workbook"
    the_problem(problems, file, None, None, expected)


@fast(10)
@given(table=st.sampled_from(TABLES),
       lines=st.lists(st.text("abcdefghij XYZ.!?-", min_size=1, max_size=30), min_size=1, max_size=5))
def test_text_that_is_not_the_table(tmp_path, table, lines):
    header, _ = VALID[table]
    if not lines[0].strip() or lines[0].strip() in header:
        lines = ["Dear colleague"] + lines
    problems = rejected(make_folder(tmp_path, files={f"{table}.csv": ("\n".join(lines) + "\n").encode()}))
    the_problem(problems, f"{table}.csv", None, None, f"{table}.csv does not look like the {table} table")


@fast(10)
@given(table=st.sampled_from(TABLES), data=st.data())
def test_quote_that_is_not_closed(tmp_path, table, data):
    header, _ = VALID[table]
    row = data.draw(data_rows(table), label="row")
    column = data.draw(st.sampled_from(header), label="column")
    text = csv_text(*VALID[table]).splitlines()
    cells = text[row - 1].split(",")  # the committed files have no quoted cells
    cells[header.index(column)] = '"' + cells[header.index(column)]
    text[row - 1] = ",".join(cells)
    problems = rejected(make_folder(tmp_path, files={f"{table}.csv": ("\n".join(text) + "\n").encode()}))
    the_problem(problems, f"{table}.csv", row, None, f"{table}.csv row {row} cannot be read as CSV",
                "quote (\") that is not closed")


# --------------------------------------------------------- unknown patients


@fast(20)
@given(table=st.sampled_from(["progression", "adverse_events"]), data=st.data())
def test_patient_id_not_in_patients(tmp_path, table, data):
    row = data.draw(data_rows(table), label="row")
    pid = data.draw(st.one_of(
        st.sampled_from(["P999", "p001", "P0001", "P 001", "001"]),
        TYPED_TEXT,
    ).map(str.strip).filter(lambda s: s and s not in PATIENT_IDS), label="patient_id")
    tables = tables_copy()
    set_cell(tables, table, row, "patient_id", pid)
    problems = rejected(make_folder(tmp_path, {table: tables[table]}))
    the_problem(problems, f"{table}.csv", row, "patient_id", f"patient_id '{pid}' is not in patients.csv")


# ------------------------------------------- the runner leaves OUT untouched


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


def _bad_folder(base: Path, how: str) -> tuple[Path, str]:
    """A data folder broken in one way, and a fragment of the problem it must report."""
    tables = tables_copy()
    if how == "binary":
        return make_folder(base, files={"patients.csv": SIGNATURES["png"][0] + b"\x00" * 20}), "is a PNG image"
    if how == "wrong type":
        set_cell(tables, "patients", 5, "age", "seventy")
        return make_folder(base, {"patients": tables["patients"]}), "patients.csv row 5, age 'seventy'"
    if how == "unknown patient":
        set_cell(tables, "adverse_events", 3, "patient_id", "P999")
        return make_folder(base, {"adverse_events": tables["adverse_events"]}), "'P999' is not in patients.csv"
    if how == "header only patients":
        return (make_folder(base, files={"patients.csv": (",".join(VALID["patients"][0]) + "\n").encode()}),
                "patients.csv has a header line but no data rows")
    if how == "missing column":
        _drop_columns(tables, "progression", {"salvage_treatment"})
        return make_folder(base, {"progression": tables["progression"]}), "column 'salvage_treatment' is missing"
    raise ValueError(how)


@pytest.mark.parametrize("how", ["binary", "wrong type", "unknown patient", "header only patients", "missing column"])
def test_runner_leaves_out_untouched_on_invalid_data(tmp_path, capsys, how):
    (tmp_path / "data").mkdir()
    data, fragment = _bad_folder(tmp_path / "data", how)
    out = tmp_path / "out"
    (out / "tables").mkdir(parents=True)
    (out / "sentinel.txt").write_bytes(b"results of an earlier run\n")
    (out / "tables" / "table1.csv").write_bytes(b"a,b\n1,2\n")
    outdir.write_stamp(out)  # an earlier run's output, which a run on valid data would replace
    before, around = _snapshot(out), sorted(p.name for p in tmp_path.iterdir())
    assert runner.main(["--data", str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "invalid data in" in err and fragment in err, err
    assert _snapshot(out) == before  # byte-identical
    assert sorted(p.name for p in tmp_path.iterdir()) == around  # no build folder left beside it
