"""Plausibility checks of src/validate/__init__.py (issue 10, point 6): dates after today or far after every other
date of the data, values outside physiological limits, codes such as 999 or -1.

Each test copies a synthetic cohort (the bundled ``data/`` or ``data/examples/cohort250``) into ``tmp_path``,
changes one or a few cells, and checks what is reported: an error (DataValidationError) or a warning that
must be acknowledged (UnacknowledgedWarnings, a DataValidationError), naming file, row, column and value.
Rows are numbered as in a spreadsheet (header = row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from src import validate as v

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
EXAMPLE = DATA / "examples" / "cohort250"
TABLES = ("patients", "progression", "adverse_events")


def copy_cohort(source: Path, target: Path) -> Path:
    """The three tables of ``source`` as CSV files in ``target`` (an .xlsx table is written as CSV text)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        if (source / f"{name}.csv").is_file():
            shutil.copyfile(source / f"{name}.csv", target / f"{name}.csv")
        else:
            text, _ = v.read_table(source, name)
            rows = [[c if c is not None else "" for c in r] for r in text.itertuples(index=False, name=None)]
            write(target, name, list(text.columns), rows)
    return target


def read(folder: Path, name: str) -> tuple[list[str], list[list[str]]]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def write(folder: Path, name: str, header, rows) -> None:
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def get(folder: Path, name: str, row: int, column: str) -> str:
    header, rows = read(folder, name)
    return rows[row - 2][header.index(column)]


def put(folder: Path, name: str, row: int, column: str, value: str) -> None:
    """Set a cell addressed as in the messages (row 2 = first data row)."""
    header, rows = read(folder, name)
    rows[row - 2][header.index(column)] = value
    write(folder, name, header, rows)


def row_where(folder: Path, name: str, column: str, test) -> int:
    header, rows = read(folder, name)
    return next(i + 2 for i, r in enumerate(rows) if test(r[header.index(column)]))


@pytest.fixture
def example(tmp_path) -> Path:
    return copy_cohort(EXAMPLE, tmp_path / "cohort")


@pytest.fixture
def bundled(tmp_path) -> Path:
    return copy_cohort(DATA, tmp_path / "bundled")


def warnings_of(folder: Path, **kwargs) -> pd.DataFrame:
    """The warnings of a folder that has warnings and no error (UnacknowledgedWarnings)."""
    with pytest.raises(v.UnacknowledgedWarnings) as info:
        v.load_and_validate(folder, **kwargs)
    error = info.value
    assert isinstance(error, v.DataValidationError)
    report = str(error)
    assert list(error.warnings.columns) == v.PROBLEM_COLUMNS
    for message in error.warnings["message"]:
        assert f"  - {message}" in report
    # how to acknowledge them
    assert "--accept-warnings" in report and "ACCEPT_WARNINGS=1" in report
    assert "python -m src.runner" in report and "python -m src.validate" in report
    return error.warnings


def errors_of(folder: Path, **kwargs) -> pd.DataFrame:
    with pytest.raises(v.DataValidationError) as info:
        v.load_and_validate(folder, **kwargs)
    assert not isinstance(info.value, v.UnacknowledgedWarnings), str(info.value)
    return info.value.problems


def one(frame: pd.DataFrame, file: str, row: int, column: str, value: str, *fragments) -> str:
    """The one finding at (file, row, column): its value as written, its message with every fragment."""
    match = frame[(frame["file"] == file) & (frame["row"] == row) & (frame["column"] == column)]
    assert len(match) == 1, frame.to_string()
    assert match["value"].iloc[0] == value
    message = match["message"].iloc[0]
    assert message.startswith(f"{file} row {row}, {column} {value}"), message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ------------------------------------------------------------------ the cohorts


@pytest.mark.parametrize("folder", [DATA, EXAMPLE], ids=["bundled", "cohort250"])
def test_the_synthetic_cohorts_have_no_warnings(folder):
    tables, found = v.check_data(folder)
    assert len(found) == 0, found.to_string()
    assert [len(tables[n]) for n in TABLES] == [len(v.load_and_validate(folder)[n]) for n in TABLES]


# --------------------------------------------------------------- codes (sentinels)


def test_alt_999_is_a_warning_until_accepted(example):
    put(example, "patients", 5, "alt", "999")
    put(example, "progression", 7, "ast", "999")
    found = warnings_of(example)
    one(found, "patients.csv", 5, "alt", "999", "common code for an unknown value", "999, 9999, -1",
        "leave the cell empty")
    one(found, "progression.csv", 7, "ast", "999", "common code for an unknown value")
    assert len(found) == 2
    # acknowledged: the tables come back as they are, the warnings through check_data
    tables = v.load_and_validate(example, accept_warnings=True)
    assert tables["patients"].loc[3, "alt"] == 999.0
    _, again = v.check_data(example)
    pd.testing.assert_frame_equal(again, found)


def test_a_code_outside_the_allowed_range_is_an_error_that_says_it_is_a_code(example):
    put(example, "patients", 4, "ecog_ps", "9")
    put(example, "patients", 6, "albumin", "-1")
    problems = errors_of(example)
    one(problems, "patients.csv", 4, "ecog_ps", "9", "outside the allowed range 0 to 4",
        "9 is a common code for an unknown value")
    one(problems, "patients.csv", 6, "albumin", "-1", "outside the allowed range (at least 0 g/dL)",
        "-1 is a common code")


def test_large_tumour_markers_are_not_codes_but_99999_is(example):
    put(example, "patients", 2, "afp", "250000")
    put(example, "patients", 3, "afp", "9999")
    put(example, "patients", 4, "afp", "1234567")
    assert len(v.check_data(example)[1]) == 0  # huge AFP values are real
    put(example, "patients", 4, "afp", "15000000")  # extreme but reported: a warning, not an error
    found = warnings_of(example)
    one(found, "patients.csv", 4, "afp", "15000000", "physiological limits (at most 10000000 ng/mL)")
    put(example, "patients", 4, "afp", "1234567")
    put(example, "patients", 5, "afp", "99999")
    found = warnings_of(example)
    one(found, "patients.csv", 5, "afp", "99999", "common code for an unknown value")
    assert len(found) == 1
    put(example, "patients", 5, "afp", "99999.5")  # exact values only
    assert len(v.check_data(example)[1]) == 0


# ------------------------------------------------------------ physiological limits


def test_lab_values_outside_physiological_limits_are_warnings_naming_the_limit(example):
    put(example, "patients", 2, "albumin", "5.8")  # allowed 1..6, plausible 1.5..5.5
    put(example, "patients", 3, "total_bilirubin", "17")  # µmol/L written as mg/dL
    low, _ = v.child_pugh_points_range(17.0, float(get(example, "patients", 3, "albumin")),
                                       float(get(example, "patients", 3, "prothrombin_activity")),
                                       get(example, "patients", 3, "ascites"))
    low = min(low, 15)
    put(example, "patients", 3, "child_pugh_score", str(low))  # keep the Child-Pugh rule satisfied
    put(example, "progression", 4, "platelets", "0.7")
    put(example, "progression", 5, "prothrombin_activity", "180")
    found = warnings_of(example)
    one(found, "patients.csv", 2, "albumin", "5.8", "outside the physiological limits 1.5 to 5.5 g/dL",
        "warn_range", "check the value and its unit")
    one(found, "patients.csv", 3, "total_bilirubin", "17", "physiological limits 0.1 to 10 mg/dL")
    one(found, "progression.csv", 4, "platelets", "0.7", "1 to 60 10^4/uL")
    one(found, "progression.csv", 5, "prothrombin_activity", "180", "20 to 150 %")
    assert len(found) == 4
    # the hard range of 'allowed' (what cannot be: a concentration below zero) stays an error, reported once
    put(example, "patients", 2, "albumin", "-0.5")
    with pytest.raises(v.DataValidationError) as info:
        v.load_and_validate(example)
    one(info.value.problems, "patients.csv", 2, "albumin", "-0.5", "outside the allowed range (at least 0 g/dL)")
    assert info.value.warnings[["row", "column"]].values.tolist() == [
        [3, "total_bilirubin"], [4, "platelets"], [5, "prothrombin_activity"]]


# ------------------------------------------------------------------------ dates


def test_a_date_after_today_is_an_error(example):
    row = row_where(example, "patients", "death", lambda d: d == "0")
    put(example, "patients", row, "last_followup_date", "2021-08-01")
    problems = errors_of(example, today="2021-07-01")
    one(problems, "patients.csv", row, "last_followup_date", "2021-08-01", "is after today (2021-07-01)",
        "cannot lie in the future")
    assert len(problems) == 1
    assert len(v.check_data(example, today="2021-08-01")[1]) == 0  # on that day it is fine


def test_a_date_after_the_real_today_is_an_error(example):
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    if tomorrow > dt.date(2030, 12, 31):
        pytest.skip("the dictionary's dates end in 2030")
    row = row_where(example, "patients", "death", lambda d: d == "0")
    put(example, "patients", row, "last_followup_date", tomorrow.isoformat())
    problems = errors_of(example)
    one(problems, "patients.csv", row, "last_followup_date", tomorrow.isoformat(),
        f"is after today ({dt.date.today().isoformat()})")


def test_a_followup_far_after_every_other_date_is_a_warning(bundled):
    # the case: a follow-up typed years after the data's own last date stretched OS to 182 months
    row = 2  # P001: first HAIC 2005-04-24; every other date ends 2013-03-31
    assert get(bundled, "patients", row, "first_haic_date") == "2005-04-24"
    put(bundled, "patients", row, "last_followup_date", "2020-06-16")
    found = warnings_of(bundled, today="2026-01-01")
    one(found, "patients.csv", row, "last_followup_date", "2020-06-16",
        "is 2634 days after the latest other date of the data (2013-03-31", "others+1826", "is the year mistyped?")
    assert len(found) == 1
    # a year after the others is a long follow-up, not a warning
    put(bundled, "patients", row, "last_followup_date", "2014-03-31")
    assert len(v.check_data(bundled, today="2026-01-01")[1]) == 0


def test_followup_before_first_haic_stays_an_error(example):
    put(example, "patients", 2, "last_followup_date", "2011-01-01")
    problems = errors_of(example)
    assert any("is before first_haic_date" in m for m in problems["message"]), problems.to_string()


def test_a_sentinel_date_is_an_error_that_says_it_is_a_code(example):
    put(example, "patients", 3, "last_followup_date", "1900-01-01")
    put(example, "patients", 4, "first_haic_date", "9999-12-31")
    problems = errors_of(example)
    one(problems, "patients.csv", 3, "last_followup_date", "1900-01-01", "outside the allowed range",
        "1900-01-01 is a common code")
    one(problems, "patients.csv", 4, "first_haic_date", "9999-12-31", "9999-12-31 is a common code")


# --------------------------------------------------------- errors and warnings at once


def test_errors_and_warnings_are_reported_together(example):
    put(example, "patients", 5, "alt", "999")
    put(example, "patients", 6, "sex", "X")
    with pytest.raises(v.DataValidationError) as info:
        v.load_and_validate(example, accept_warnings=True)  # accepting warnings does not accept errors
    error = info.value
    assert not isinstance(error, v.UnacknowledgedWarnings)
    assert error.problems["column"].tolist() == ["sex"]
    assert error.warnings["column"].tolist() == ["alt"]
    report = str(error)
    assert report.startswith("Data validation failed: 1 problem in 1 file.")
    assert "Also 1 warning in 1 file" in report and "patients.csv row 5, alt 999" in report


# ------------------------------------------------------------------ the dictionary


def test_the_severity_is_the_dictionarys(example):
    text = v.DEFAULT_DICTIONARY.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("patients,last_followup_date,"))
    assert ",today,others+1826," in line
    # this folder's dictionary makes a date after today a warning, and drops the code 999 of alt
    moved = line.replace(",today,others+1826,", ",,today|others+1826,")
    alt = next(x for x in text.splitlines() if x.startswith("patients,alt,"))
    (example / "data_dictionary.csv").write_text(
        text.replace(line, moved).replace(alt, alt.replace("999|9999|-1", "")), encoding="utf-8")
    row = row_where(example, "patients", "death", lambda d: d == "0")
    put(example, "patients", row, "last_followup_date", "2021-08-01")
    put(example, "patients", 5, "alt", "999")
    found = warnings_of(example, today="2021-07-01")
    one(found, "patients.csv", row, "last_followup_date", "2021-08-01", "is after today (2021-07-01)")
    assert len(found) == 1


@pytest.mark.parametrize("column, field, value, says", [
    ("sex", "warn_range", "1..2", "warn_range '1..2' is only for integer, number and date columns"),
    ("alt", "warn_range", "3-2000", "warn_range '3-2000' is not a range written lo..hi"),
    ("alt", "warn_values", "999|lots", "'lots' is not a number"),
    ("alt", "error_after", "today", "error_after 'today' is only for date columns"),
    ("first_haic_date", "warn_after", "tomorrow", "'tomorrow' is not 'today' or 'others+DAYS'"),
])
def test_bad_plausibility_fields_in_the_dictionary(tmp_path, column, field, value, says):
    rows = list(csv.reader(v.DEFAULT_DICTIONARY.read_text(encoding="utf-8").splitlines()))
    header = rows[0]
    target = next(i for i, r in enumerate(rows) if r[0] == "patients" and r[1] == column)
    rows[target][header.index(field)] = value
    path = tmp_path / "dictionary.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(v.DataValidationError) as info:
        v.read_dictionary(path)
    message = f"dictionary.csv row {target + 1}, {field} '{value}'"
    assert message in str(info.value) and says in str(info.value), str(info.value)


def test_an_older_dictionary_without_plausibility_fields_checks_nothing_more(example):
    rows = list(csv.reader(v.DEFAULT_DICTIONARY.read_text(encoding="utf-8").splitlines()))
    keep = [i for i, c in enumerate(rows[0]) if c not in v.PLAUSIBILITY_FIELDS]
    with open(example / "data_dictionary.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([[r[i] for i in keep] for r in rows])
    put(example, "patients", 5, "alt", "999")
    assert len(v.check_data(example)[1]) == 0


# --------------------------------------------------------------------------- CLI


def test_cli_warnings_exit_2_until_accepted(example, capsys, tmp_path):
    put(example, "patients", 5, "alt", "999")
    assert v.main([str(example)]) == 2
    out = capsys.readouterr().out
    assert "1 warning in 1 file" in out and "patients.csv row 5, alt 999" in out and "--accept-warnings" in out
    problems_csv = tmp_path / "problems.csv"
    assert v.main([str(example), "--accept-warnings", "--problems-csv", str(problems_csv)]) == 0
    out = capsys.readouterr().out
    assert f"{example}: OK (250 patients" in out
    assert "Accepted 1 warning in 1 file" in out and "patients.csv row 5, alt 999" in out
    written = pd.read_csv(problems_csv, dtype=str)
    assert written[["row", "column", "value", "severity"]].values.tolist() == [["5", "alt", "999", "warning"]]


def test_cli_today(example, capsys):
    put(example, "patients", 3, "last_followup_date", "2021-08-01")
    put(example, "patients", 3, "death", "0")
    assert v.main([str(example), "--today", "2021-07-01"]) == 2
    assert "is after today (2021-07-01)" in capsys.readouterr().out
    assert v.main([str(example), "--today", "2021-08-01"]) == 0
    with pytest.raises(SystemExit) as info:
        v.main([str(example), "--today", "01/07/2021"])
    assert info.value.code == 2
