"""Tests of src/validate/__init__.py on a small hand-made data set (not on data/*.csv).

Row numbers in the expected messages follow the module's convention: the
header is row 1, so the first data row is row 2.
"""

from __future__ import annotations

import copy
import csv
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src import validate as v
from src.validate.dictionary import _DICTIONARY_COLUMNS, _parse_allowed

DICTIONARY = v.read_dictionary(v.DEFAULT_DICTIONARY)

PATIENT_COLUMNS = [
    "patient_id", "sex", "age", "etiology", "tnm_stage", "bclc_stage", "ecog_ps", "initial_treatment",
    "child_pugh_score", "alt", "total_bilirubin", "prothrombin_activity", "albumin", "platelets", "afp",
    "dcp", "ascites", "pvtt", "tumor_distribution", "tumor_count", "max_tumor_size_mm", "first_haic_date",
    "n_haic_sessions", "best_response", "last_followup_date", "death",
]
# Child-Pugh of each row (bilirubin, albumin, prothrombin, ascites, +1 encephalopathy):
#   P001: 0.8 -> 1, 3.8 -> 1, 90 -> 1, no -> 1, +1  => 5..7, recorded 5
#   P002: 1.5 -> 1, 3.2 -> 2, 65 -> 2, yes -> 2-3, +1 => 8..11, recorded 8
#   P003: 1.0 -> 1, 3.6 -> 1, 80 -> 1, no -> 1, +1  => 5..7, recorded 6
#   P004: 2.5 -> 2, 3.0 -> 2, 55 -> 2, no -> 1, +1  => 8..10, recorded 8
PATIENT_ROWS = [
    ["P001", "M", "65", "HCV", "III", "C", "0", "tace", "5", "40", "0.8", "90", "3.8", "12.5", "250", "1200",
     "no", "yes", "bilateral", "5", "45", "2008-01-15", "6", "PR", "2010-03-01", "1"],
    ["P002", "F", "72", "HBV", "IVA", "C", "1", "none", "8", "55", "1.5", "65", "3.2", "9.1", "15000", "300",
     "yes", "yes", "unilateral", "2", "80", "2009-06-10", "3", "SD", "2011-02-20", "1"],
    ["P003", "M", "58", "alcohol", "II", "B", "0", "resection", "6", "30", "1.0", "80", "3.6", "15.0", "8", "40",
     "no", "no", "unilateral", "3", "30", "2010-09-01", "4", "CR", "2012-05-01", "0"],
    ["P004", "F", "80", "other", "IVB", "C", "2", "rfa_pei", "8", "70", "2.5", "55", "3.0", "7.0", "900", "5000",
     "no", "yes", "bilateral", "10", "120", "2006-04-01", "2", "PD", "2006-12-01", "1"],
]
PROGRESSION_COLUMNS = [
    "patient_id", "progression_date", "age", "ecog_ps", "child_pugh_score", "alt", "ast", "total_bilirubin",
    "albumin", "prothrombin_activity", "platelets", "afp", "dcp", "ascites", "pvtt", "tumor_distribution",
    "tumor_count", "max_tumor_size_mm", "salvage_treatment", "salvage_start_date",
]
# P001 progresses 2009-02-01: 1 whole year after first HAIC 2008-01-15, so age 65..67 is plausible (66).
#   Child-Pugh 1.2 -> 1, 3.6 -> 1, 85 -> 1, no -> 1, +1 => 5..7, recorded 6.
#   Sorafenib from 2009-06-01: after approval (2009-05-01), before last follow-up (2010-03-01).
# P002 progresses 2010-01-15: 0 whole years after 2009-06-10, so age 72..73 (72).
#   Child-Pugh 1.8 -> 1, 3.0 -> 2, 60 -> 2, yes -> 2-3, +1 => 8..11, recorded 9.
PROGRESSION_ROWS = [
    ["P001", "2009-02-01", "66", "1", "6", "50", "60", "1.2", "3.6", "85", "10.0", "500", "2000", "no", "yes",
     "bilateral", "6", "50", "sorafenib", "2009-06-01"],
    ["P002", "2010-01-15", "72", "1", "9", "45", "70", "1.8", "3.0", "60", "8.0", "20000", "800", "yes", "yes",
     "unilateral", "3", "85", "haic", "2010-02-01"],
]
AE_COLUMNS = ["patient_id", "term", "grade", "led_to_discontinuation"]
AE_ROWS = [["P001", "Nausea", "2", "0"], ["P004", "Platelets", "3", "1"]]

VALID = {
    "patients": (PATIENT_COLUMNS, PATIENT_ROWS),
    "progression": (PROGRESSION_COLUMNS, PROGRESSION_ROWS),
    "adverse_events": (AE_COLUMNS, AE_ROWS),
}


@pytest.fixture
def valid_tables():
    """The valid data set as {table: (header list, list of row lists)}, a fresh copy per test."""
    return copy.deepcopy(VALID)


def write_tables(folder: Path, tables: dict) -> Path:
    """Write {table: (header, rows)} as NAME.csv files into folder; return folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in tables.items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return folder


def set_cell(tables, table, row, column, value):
    """Set a cell addressed as in the messages: row 2 is the first data row."""
    header, rows = tables[table]
    rows[row - 2][header.index(column)] = value


def problems_of(folder: Path, **kwargs) -> pd.DataFrame:
    with pytest.raises(v.DataValidationError) as info:
        v.load_and_validate(folder, **kwargs)
    error = info.value
    # the report lists every problem
    report = str(error)
    for message in error.problems["message"]:
        assert message in report
    assert f"{len(error.problems)} problem" in report
    return error.problems


def warnings_of(folder: Path, **kwargs) -> pd.DataFrame:
    """The warnings of a folder that has warnings and no error: refused until accepted, then valid."""
    with pytest.raises(v.UnacknowledgedWarnings) as info:
        v.load_and_validate(folder, **kwargs)
    report = str(info.value)
    for message in info.value.warnings["message"]:
        assert message in report
    v.load_and_validate(folder, accept_warnings=True, **kwargs)
    with pytest.raises(v.DataValidationError) as strict:  # the generators' hard constraints: errors
        v.load_and_validate(folder, strict=True, accept_warnings=True, **kwargs)
    assert not isinstance(strict.value, v.UnacknowledgedWarnings)
    assert len(strict.value.problems) == len(info.value.warnings)
    return info.value.warnings


def assert_problem(problems, file, row, column, *fragments):
    """Exactly one problem at (file, row, column), and its message has every fragment."""
    same_column = problems["column"].isna() if column is None else problems["column"] == column
    match = problems[(problems["file"] == file) & same_column]
    if row is None:
        match = match[match["row"].isna()]
    else:
        match = match[match["row"] == row]
    assert len(match) == 1, problems.to_string()
    message = match["message"].iloc[0]
    prefix = f"{file} row {row}, {column}" if row is not None else file
    assert message.startswith(prefix), message
    for fragment in fragments:
        assert fragment in message, message
    return message


# -------------------------------------------------------------- valid data


def test_valid_fixture_passes_with_typed_columns(tmp_path, valid_tables):
    tables = v.load_and_validate(write_tables(tmp_path, valid_tables))
    assert list(tables) == ["patients", "progression", "adverse_events"]
    patients = tables["patients"]
    assert list(patients.columns) == PATIENT_COLUMNS
    assert list(patients["patient_id"]) == ["P001", "P002", "P003", "P004"]  # file order
    assert isinstance(patients.index, pd.RangeIndex)
    assert patients["first_haic_date"].dtype == "datetime64[ns]"
    assert patients["age"].dtype == "int64"
    assert patients["death"].dtype == "int64"
    assert patients["albumin"].dtype == "float64"
    assert patients["sex"].dtype == object and isinstance(patients["sex"].iloc[0], str)
    assert patients.loc[1, "first_haic_date"] == pd.Timestamp("2009-06-10")
    assert tables["progression"]["salvage_start_date"].dtype == "datetime64[ns]"
    assert tables["adverse_events"]["grade"].dtype == "int64"
    assert len(tables["progression"]) == 2 and len(tables["adverse_events"]) == 2


def test_cli_ok_and_failure(tmp_path, valid_tables, capsys):
    folder = write_tables(tmp_path / "good", valid_tables)
    assert v.main([str(folder)]) == 0
    assert capsys.readouterr().out.strip() == f"{folder}: OK (4 patients, 2 progression rows, 2 adverse events)"
    set_cell(valid_tables, "patients", 3, "sex", "X")
    bad = write_tables(tmp_path / "bad", valid_tables)
    problems_csv = tmp_path / "problems.csv"
    assert v.main([str(bad), "--problems-csv", str(problems_csv)]) == 2
    out = capsys.readouterr().out
    assert "1 problem in 1 file" in out and "patients.csv row 3, sex 'X' is not one of M, F" in out
    assert pd.read_csv(problems_csv)["row"].tolist() == [3]
    with pytest.raises(SystemExit) as info:
        v.main(["--help"])
    assert info.value.code == 0
    assert "DATA_DIR" in capsys.readouterr().out


@pytest.mark.parametrize("where, says", [("missing/problems.csv", "does not exist"), (".", "is a folder")])
def test_cli_problems_csv_in_a_place_that_cannot_take_it_is_a_usage_error(tmp_path, valid_tables, capsys, where, says):
    folder = write_tables(tmp_path / "good", valid_tables)
    with pytest.raises(SystemExit) as info:
        v.main([str(folder), "--problems-csv", str(tmp_path / where)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--problems-csv" in err and says in err


def test_dictionary_in_data_dir_is_used(tmp_path, valid_tables):
    folder = write_tables(tmp_path, valid_tables)
    text = v.DEFAULT_DICTIONARY.read_text(encoding="utf-8").replace("patients,sex,category,,M|F", "patients,sex,category,,F")
    (folder / "data_dictionary.csv").write_text(text, encoding="utf-8")
    problems = problems_of(folder)
    assert_problem(problems, "patients.csv", 2, "sex", "'M' is not one of F")


# ----------------------------------------------------- one test per class


def test_unknown_category(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 3, "sex", "X")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", 3, "sex", "'X' is not one of M, F")
    assert len(problems) == 1


def test_value_out_of_range(tmp_path, valid_tables):
    import copy
    possible = copy.deepcopy(valid_tables)
    set_cell(valid_tables, "patients", 3, "age", "150")
    set_cell(valid_tables, "progression", 3, "salvage_start_date", "1931-01-01")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", 3, "age", "150 is outside the allowed range 0 to 125 years")
    assert_problem(problems, "progression.csv", 3, "salvage_start_date",
                   "1931-01-01 is outside the allowed range (at least 1950-01-01)")
    assert len(problems) == 2  # the out-of-range values are not used again by the cross-table rules
    # beyond the usual limits but possible: warnings (platelets 70, an AFP of 15,000,000 ng/mL, ALT 6000 U/L)
    set_cell(possible, "patients", 3, "platelets", "70")
    set_cell(possible, "patients", 4, "afp", "15000000")
    set_cell(possible, "patients", 5, "alt", "6000")
    found = warnings_of(write_tables(tmp_path / "possible", possible))
    assert_problem(found, "patients.csv", 3, "platelets", "70 10^4/uL is outside the physiological limits 1 to 60")
    assert_problem(found, "patients.csv", 4, "afp", "15000000 ng/mL is outside", "at most 10000000")
    assert_problem(found, "patients.csv", 5, "alt", "6000 U/L is outside the physiological limits 3 to 2000")
    assert v.count_per_rule(found) == [(v.RULE_LIMITS, 3)]


def test_missing_required_value(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 4, "albumin", "")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", 4, "albumin", "is missing")
    assert len(problems) == 1  # the Child-Pugh rule skips the incomplete row



def test_a_required_column_empty_in_every_row_is_one_problem(tmp_path, valid_tables):
    header, rows = valid_tables["patients"]
    for row in range(2, len(rows) + 2):
        set_cell(valid_tables, "patients", row, "sex", "")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", None, "sex", f"sex is empty in every row (rows 2-{len(rows) + 1})",
                   "a value is required in every row")
    assert not problems["column"].eq("sex").sum() > 1


def test_an_optional_column_empty_in_every_row_is_read_as_left_out(tmp_path, valid_tables):
    header, rows = valid_tables["patients"]
    for row in range(2, len(rows) + 2):
        set_cell(valid_tables, "patients", row, "etiology", "")
    tables = v.load_and_validate(write_tables(tmp_path, valid_tables))
    assert "etiology" not in tables["patients"].columns
    assert list(tables["patients"].columns) == [c for c in PATIENT_COLUMNS if c != "etiology"]

def test_duplicate_id(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 4, "patient_id", "P001")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", 2, "patient_id", "'P001' appears more than once (rows 2, 4)")
    assert len(problems) == 1


def test_wrong_type(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 2, "alt", "high")
    set_cell(valid_tables, "patients", 3, "age", "seventy")
    set_cell(valid_tables, "patients", 4, "albumin", "3,6")
    set_cell(valid_tables, "patients", 5, "first_haic_date", "01/04/2006")
    set_cell(valid_tables, "adverse_events", 2, "grade", "2.5")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", 2, "alt", "'high' is not a number")
    assert_problem(problems, "patients.csv", 3, "age", "'seventy' is not an integer")
    assert_problem(problems, "patients.csv", 4, "albumin", "'3,6' is not a number (use a decimal point")
    assert_problem(problems, "patients.csv", 5, "first_haic_date", "'01/04/2006' is not a date written as YYYY-MM-DD")
    assert_problem(problems, "adverse_events.csv", 2, "grade", "'2.5' is not a whole number")
    assert len(problems) == 5  # no extra "is missing" for the unreadable cells


def test_impossible_date(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 2, "last_followup_date", "2010-02-30")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", 2, "last_followup_date", "'2010-02-30' is not a real calendar date")


def test_missing_column(tmp_path, valid_tables):
    header, rows = valid_tables["patients"]
    position = header.index("ascites")
    del header[position]
    for row in rows:
        del row[position]
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", None, "ascites", "patients.csv: column 'ascites' is missing")
    assert len(problems) == 1


def test_extra_column(tmp_path, valid_tables):
    header, rows = valid_tables["patients"]
    header.append("foo")
    for row in rows:
        row.append("1")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", None, "foo", "patients.csv: unexpected column 'foo'")
    assert len(problems) == 1


def test_renamed_column_suggests_the_expected_name(tmp_path, valid_tables):
    header, _ = valid_tables["adverse_events"]
    header[header.index("grade")] = "Grade"
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "adverse_events.csv", None, "Grade", "unexpected column 'Grade' (did you mean 'grade'?)")
    assert_problem(problems, "adverse_events.csv", None, "grade", "column 'grade' is missing")


def test_progression_before_first_haic(tmp_path, valid_tables):
    set_cell(valid_tables, "progression", 2, "progression_date", "2007-12-01")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "progression.csv", 2, "progression_date",
                   "2007-12-01 is before the first HAIC", "first_haic_date 2008-01-15", "P001", "patients.csv row 2")
    assert len(problems) == 1


def test_progression_after_last_followup(tmp_path, valid_tables):
    set_cell(valid_tables, "progression", 3, "progression_date", "2011-03-01")
    set_cell(valid_tables, "progression", 3, "salvage_start_date", "2011-03-10")
    set_cell(valid_tables, "progression", 3, "age", "73")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "progression.csv", 3, "progression_date", "2011-03-01 is after the last follow-up",
                   "last_followup_date 2011-02-20")
    assert_problem(problems, "progression.csv", 3, "salvage_start_date", "2011-03-10 is after the last follow-up")
    assert len(problems) == 2


def test_followup_before_first_haic(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 5, "last_followup_date", "2006-01-01")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", 5, "last_followup_date",
                   "last_followup_date 2006-01-01 is before first_haic_date 2006-04-01")
    assert len(problems) == 1


def test_salvage_before_progression(tmp_path, valid_tables):
    set_cell(valid_tables, "progression", 3, "salvage_start_date", "2010-01-01")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "progression.csv", 3, "salvage_start_date",
                   "progression.csv row 3, salvage_start_date 2010-01-01 is before progression_date 2010-01-15")
    assert len(problems) == 1


def test_sorafenib_before_approval(tmp_path, valid_tables):
    set_cell(valid_tables, "progression", 2, "salvage_start_date", "2009-03-01")
    folder = write_tables(tmp_path, valid_tables)
    problems = warnings_of(folder)  # in a trial, or where it was approved earlier, it is possible
    assert_problem(problems, "progression.csv", 2, "salvage_start_date",
                   "2009-03-01 is before sorafenib was approved", "2009-05-01", "--sorafenib-approval")
    assert len(problems) == 1 and problems["rule"].tolist() == [v.RULE_SORAFENIB]
    # another cohort can move the approval date
    v.load_and_validate(folder, sorafenib_approval="2008-01-01")


def test_progression_patient_not_in_patients(tmp_path, valid_tables):
    set_cell(valid_tables, "progression", 3, "patient_id", "P999")
    set_cell(valid_tables, "adverse_events", 3, "patient_id", "P998")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "progression.csv", 3, "patient_id", "'P999' is not in patients.csv")
    assert_problem(problems, "adverse_events.csv", 3, "patient_id", "'P998' is not in patients.csv")
    assert len(problems) == 2  # rules needing the patient's dates are skipped for an unknown patient


def test_age_at_progression_implausible(tmp_path, valid_tables):
    set_cell(valid_tables, "progression", 2, "age", "68")  # 65 + 1 whole year + 1 = 67 at most
    set_cell(valid_tables, "progression", 3, "age", "70")  # baseline 72
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "progression.csv", 2, "age", "age 68 at progression is more than 67")
    assert_problem(problems, "progression.csv", 3, "age", "age 70 at progression is lower than the age 72")
    assert len(problems) == 2


def test_child_pugh_inconsistent(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 2, "child_pugh_score", "9")  # components allow 5..7
    set_cell(valid_tables, "progression", 3, "child_pugh_score", "7")  # components allow 8..11
    problems = warnings_of(write_tables(tmp_path, valid_tables))  # the clinician's score: a warning
    assert_problem(problems, "patients.csv", 2, "child_pugh_score", "child_pugh_score 9 does not fit",
                   "must be 5 to 7", "another day")
    assert_problem(problems, "progression.csv", 3, "child_pugh_score", "must be 8 to 11")
    assert len(problems) == 2 and v.count_per_rule(problems) == [(v.RULE_CHILD_PUGH, 2)]


def test_empty_file(tmp_path, valid_tables):
    folder = write_tables(tmp_path, valid_tables)
    (folder / "adverse_events.csv").write_text("", encoding="utf-8")
    (folder / "patients.csv").write_text(",".join(PATIENT_COLUMNS) + "\n", encoding="utf-8")
    problems = problems_of(folder)
    assert_problem(problems, "adverse_events.csv", None, None, "adverse_events.csv is empty")
    assert_problem(problems, "patients.csv", None, None, "patients.csv has a header line but no data rows")
    assert len(problems) == 2


def test_header_only_progression_and_adverse_events_are_empty_typed_tables(tmp_path, valid_tables):
    valid_tables["progression"] = (PROGRESSION_COLUMNS, [])
    valid_tables["adverse_events"] = (AE_COLUMNS, [])
    tables = v.load_and_validate(write_tables(tmp_path, valid_tables))
    assert len(tables["patients"]) == 4
    progression, events = tables["progression"], tables["adverse_events"]
    assert len(progression) == 0 and list(progression.columns) == PROGRESSION_COLUMNS
    assert progression["progression_date"].dtype == "datetime64[ns]"
    assert progression["age"].dtype == "int64" and progression["alt"].dtype == "float64"
    assert len(events) == 0 and list(events.columns) == AE_COLUMNS and events["grade"].dtype == "int64"
    assert isinstance(events.index, pd.RangeIndex)


def test_optional_columns_may_be_left_out(tmp_path, valid_tables):
    for table, dropped in (("patients", ["afp", "n_haic_sessions"]), ("progression", ["tumor_count"])):
        header, rows = valid_tables[table]
        for column in dropped:
            position = header.index(column)
            del header[position]
            for row in rows:
                del row[position]
    tables = v.load_and_validate(write_tables(tmp_path, valid_tables))
    assert list(tables["patients"].columns) == [c for c in PATIENT_COLUMNS if c not in ("afp", "n_haic_sessions")]
    assert "tumor_count" not in tables["progression"].columns
    assert tables["progression"]["afp"].dtype == "float64"


def test_optional_column_that_is_present_is_checked(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 3, "tumor_count", "many")
    problems = problems_of(write_tables(tmp_path, valid_tables))
    assert_problem(problems, "patients.csv", 3, "tumor_count", "'many' is not an integer")
    assert len(problems) == 1


def test_dictionary_optional_field(tmp_path, valid_tables):
    assert DICTIONARY.columns.tolist()[:8] == _DICTIONARY_COLUMNS + ["optional"]
    optional = DICTIONARY[DICTIONARY["optional"] == "yes"]
    assert sorted(optional.loc[optional["table"] == "progression", "column"]) == [
        "afp", "dcp", "max_tumor_size_mm", "tumor_count", "tumor_distribution"]
    assert len(optional[optional["table"] == "patients"]) == 9
    assert v.build_schema(DICTIONARY, "patients").columns["afp"].required is False
    assert v.build_schema(DICTIONARY, "patients").columns["age"].required is True
    # an older dictionary without the optional field: every column is compulsory
    rows = list(csv.reader(v.DEFAULT_DICTIONARY.read_text(encoding="utf-8").splitlines()))
    position = rows[0].index("optional")
    old = tmp_path / "old_dictionary.csv"
    with open(old, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([r[:position] + r[position + 1:] for r in rows])
    assert (v.read_dictionary(old)["optional"] == "no").all()
    header, body = valid_tables["patients"]
    position = header.index("afp")
    valid_tables["patients"] = ([c for c in header if c != "afp"], [r[:position] + r[position + 1:] for r in body])
    folder = write_tables(tmp_path / "no_afp", valid_tables)
    assert_problem(problems_of(folder, dictionary_path=old), "patients.csv", None, "afp", "column 'afp' is missing")
    v.load_and_validate(folder)  # the project's dictionary lets afp out
    # optional must be yes or no
    bad = tmp_path / "bad_dictionary.csv"
    bad.write_text(v.DEFAULT_DICTIONARY.read_text(encoding="utf-8").replace(
        "patients,afp,number,ng/mL,0..,no,no,yes", "patients,afp,number,ng/mL,0..,no,no,maybe"),
        encoding="utf-8")
    with pytest.raises(v.DataValidationError, match="optional 'maybe' is not yes or no"):
        v.read_dictionary(bad)


def test_missing_file(tmp_path, valid_tables):
    folder = write_tables(tmp_path, valid_tables)
    (folder / "progression.csv").unlink()
    problems = problems_of(folder)
    assert_problem(problems, "progression.csv", None, None, "progression.csv is missing from")
    assert len(problems) == 1


def test_non_utf8_file(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 3, "patient_id", "P00\u00e9")
    folder = write_tables(tmp_path, valid_tables)
    text = (folder / "patients.csv").read_text(encoding="utf-8")
    (folder / "patients.csv").write_bytes(text.encode("cp1252"))
    problems = problems_of(folder)
    message = assert_problem(problems, "patients.csv", 3, "patient_id", "'P00\ufffd' is not UTF-8 text",
                             "byte 0xE9", "save it as 'CSV UTF-8'")
    assert "Traceback" not in message and len(problems) == 1
    # patients could not be read, so the other tables are still checked but not linked to patients
    assert set(problems["file"]) == {"patients.csv"}


def test_file_that_is_not_a_table(tmp_path, valid_tables):
    folder = write_tables(tmp_path, valid_tables)
    (folder / "patients.csv").write_text("Dear colleague,\nplease find the data attached.\n", encoding="utf-8")
    (folder / "progression.csv").write_bytes(b"PK\x03\x04\x14\x00\x06\x00binary")
    (folder / "adverse_events.csv").write_text("patient_id\tterm\tgrade\tled_to_discontinuation\nP001\tNausea\t2\t0\n",
                                               encoding="utf-8")
    problems = problems_of(folder)
    assert_problem(problems, "patients.csv", None, None, "does not look like the patients table")
    assert_problem(problems, "progression.csv", None, None, "is an Excel workbook or another zip file")
    assert_problem(problems, "adverse_events.csv", None, None, "separates values with tabs")
    assert len(problems) == 3  # (';' is read: a European spreadsheet's CSV, tests/test_european_csv.py)


def test_row_numbers_count_blank_lines_and_layout_problems(tmp_path, valid_tables):
    folder = write_tables(tmp_path, valid_tables)
    lines = (folder / "adverse_events.csv").read_text(encoding="utf-8").splitlines()
    # header (row 1), blank (row 2), P001 (row 3), P004 with an extra value (row 4)
    (folder / "adverse_events.csv").write_text(
        "\n".join([lines[0], "", lines[1], lines[2] + ",oops", "P001,Nausea,9,0"]) + "\n", encoding="utf-8")
    problems = problems_of(folder)
    assert_problem(problems, "adverse_events.csv", 5, "grade", "9 is outside the allowed range 1 to 5")
    row4 = problems[(problems["row"] == 4)]
    assert len(row4) == 1 and "has more values (5) than the header has columns (4)" in row4["message"].iloc[0]


def test_several_problems_in_different_files_reported_at_once(tmp_path, valid_tables):
    set_cell(valid_tables, "patients", 2, "sex", "X")
    set_cell(valid_tables, "patients", 4, "age", "")
    set_cell(valid_tables, "progression", 3, "patient_id", "P999")
    set_cell(valid_tables, "adverse_events", 3, "grade", "7")
    folder = write_tables(tmp_path, valid_tables)
    with pytest.raises(v.DataValidationError) as info:
        v.load_and_validate(folder)
    problems, report = info.value.problems, str(info.value)
    assert list(problems.columns) == ["file", "row", "column", "value", "message", "rule"]
    assert len(problems) == 4
    assert report.startswith("Data validation failed: 4 problems in 3 files.")
    assert "patients.csv: 2 problems" in report and "progression.csv: 1 problem" in report
    for message in problems["message"]:
        assert f"  - {message}" in report
    # grouped by file, in table order, rows ascending
    assert list(problems["file"]) == ["patients.csv", "patients.csv", "progression.csv", "adverse_events.csv"]
    assert list(problems["row"]) == [2, 4, 3, 3]
    assert isinstance(info.value, ValueError)


# ----------------------------------------------------------- other formats


def test_xlsx_and_sav_tables(tmp_path, valid_tables):
    folder = write_tables(tmp_path, valid_tables)
    expected = v.load_and_validate(folder)
    (folder / "patients.csv").unlink()
    expected["patients"].to_excel(folder / "patients.xlsx", index=False)
    (folder / "adverse_events.csv").unlink()
    import pyreadstat

    pyreadstat.write_sav(expected["adverse_events"], str(folder / "adverse_events.sav"))
    tables = v.load_and_validate(folder)
    for name in expected:
        pd.testing.assert_frame_equal(tables[name], expected[name])
    # an xlsx cell error reports the Excel row
    frame = expected["patients"].copy()
    frame["sex"] = frame["sex"].astype(object)
    frame.loc[2, "sex"] = "mal"
    frame.to_excel(folder / "patients.xlsx", index=False)
    problems = problems_of(folder)
    assert_problem(problems, "patients.xlsx", 4, "sex", "'mal' is not one of M, F")
    # two files for one table are refused
    write_tables(folder, {"patients": valid_tables["patients"]})
    problems = problems_of(folder)
    assert_problem(problems, "patients.csv", None, None, "patients.csv and patients.xlsx are both in")


# --------------------------------------------------------------- Child-Pugh


def test_child_pugh_points_range_hand_computed():
    # bilirubin 1.0 -> 1, albumin 4.0 -> 1, prothrombin 80 -> 1, no ascites -> 1, encephalopathy 1..3
    #   min = 1+1+1+1+1 = 5, max = 5 + 0 + 2 = 7
    assert v.child_pugh_points_range(1.0, 4.0, 80, "no") == (5, 7)
    # bilirubin 2.0 -> 2 (2-3), albumin 3.5 -> 2 (2.8-3.5), prothrombin 70 -> 2 (40-70), ascites -> 2..3
    #   min = 2+2+2+2+1 = 9, max = 9 + 1 + 2 = 12
    assert v.child_pugh_points_range(2.0, 3.5, 70, "yes") == (9, 12)
    # bilirubin 3.1 -> 3, albumin 2.7 -> 3, prothrombin 39 -> 3, ascites -> 2..3
    #   min = 3+3+3+2+1 = 12, max = 12 + 1 + 2 = 15
    assert v.child_pugh_points_range(3.1, 2.7, 39, "yes") == (12, 15)
    # bilirubin 3.0 -> 2, albumin 2.8 -> 2, prothrombin 40 -> 2, no ascites -> 1
    #   min = 2+2+2+1+1 = 8, max = 8 + 0 + 2 = 10
    assert v.child_pugh_points_range(3.0, 2.8, 40, "no") == (8, 10)
    # bilirubin 1.99 -> 1, albumin 3.51 -> 1, prothrombin 70.1 -> 1, ascites -> 2..3
    #   min = 1+1+1+2+1 = 6, max = 6 + 1 + 2 = 9
    low, high = v.child_pugh_points_range(
        pd.Series([1.99, 1.0, np.nan]), pd.Series([3.51, 4.0, 4.0]), pd.Series([70.1, 80, 80]),
        pd.Series(["yes", "no", "no"]))
    assert low.tolist()[:2] == [6, 5] and high.tolist()[:2] == [9, 7]
    assert pd.isna(low.iloc[2]) and pd.isna(high.iloc[2])  # missing bilirubin -> unknown
    assert str(low.dtype) == "Int64"


def test_bad_dictionary_is_reported(tmp_path):
    text = v.DEFAULT_DICTIONARY.read_text(encoding="utf-8")
    path = tmp_path / "dict.csv"
    path.write_text(text.replace("patients,age,integer,years,0..125", "patients,age,whole,years,0..125")
                    .replace("patients,alt,number,U/L,0..", "patients,alt,number,U/L,1-5000"), encoding="utf-8")
    with pytest.raises(v.DataValidationError) as info:
        v.read_dictionary(path)
    report = str(info.value)
    assert "dict.csv row 4, type 'whole' is not one of" in report
    assert "dict.csv row 11, allowed '1-5000' is not a range" in report


def test_build_schema_comes_from_the_dictionary():
    schema = v.build_schema(DICTIONARY, "adverse_events")
    assert list(schema.columns) == AE_COLUMNS
    assert schema.strict is True
    assert schema.columns["grade"].checks[0].statistics == {
        "min_value": 1, "max_value": 5, "include_min": True, "include_max": True}
    assert schema.columns["patient_id"].unique is False
    assert v.build_schema(DICTIONARY, "patients").columns["patient_id"].unique is True
    with pytest.raises(ValueError):
        v.build_schema(DICTIONARY, "labs")


# ---------------------------------------------------------------- property


def _bad_value(spec, draw):
    """A value that breaks the dictionary row ``spec``."""
    allowed = _parse_allowed(spec)
    kind = spec["type"]
    options = [st.just("")] if spec["required"] == "yes" else []
    if kind in ("string", "category") and isinstance(allowed, list):
        options.append(st.text(alphabet="abcxyzXYZ?-", min_size=1, max_size=6).filter(lambda s: s not in allowed))
    if kind in ("integer", "number"):
        lo, hi = allowed
        options += [st.integers(-10**6, int(lo) - 1).map(str),
                    st.sampled_from(["n/a", "high", "1,5", "--", "<5", "nan", "inf"])]
        if hi is not None:
            options.append(st.integers(int(hi) + 1, 10**12).map(str))
        if kind == "integer":
            options.append(st.sampled_from(["2.5", "1.01"]))
    if kind == "date":
        options += [st.dates(max_value=pd.Timestamp("1949-12-31").date()).map(lambda d: d.isoformat()),
                    st.dates(min_value=pd.Timestamp.today().date() + pd.Timedelta(days=1)).map(lambda d: d.isoformat()),
                    st.sampled_from(["2010-02-30", "01/02/2010", "yesterday", "2010-1-5"])]
    return draw(st.one_of(options))


@st.composite
def corrupted_cell(draw):
    table = draw(st.sampled_from(sorted(VALID)))
    header, rows = VALID[table]
    row = draw(st.integers(2, len(rows) + 1))
    column = draw(st.sampled_from(header))
    spec = DICTIONARY[(DICTIONARY["table"] == table) & (DICTIONARY["column"] == column)].iloc[0]
    if spec["type"] == "string":  # patient_id: missing, unknown in patients, or repeated in patients
        value = draw(st.sampled_from(["", "P999"] if table != "patients" else ["", "P001" if row != 2 else "P002"]))
    else:
        value = _bad_value(spec, draw)
    return table, row, column, value


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(corrupted_cell())
def test_any_corrupted_cell_raises_data_validation_error(case):
    table, row, column, value = case
    tables = copy.deepcopy(VALID)
    set_cell(tables, table, row, column, value)
    with tempfile.TemporaryDirectory() as folder:
        with pytest.raises(v.DataValidationError) as info:
            v.load_and_validate(write_tables(Path(folder), tables))
    assert row in rows_reported(info.value.problems, f"{table}.csv"), info.value.problems.to_string()


def rows_reported(problems, file):
    """Rows named by the problems of a file (a repeated value names all its rows)."""
    rows = set()
    for _, problem in problems[problems["file"] == file].iterrows():
        if not pd.isna(problem["row"]):
            rows.add(int(problem["row"]))
        listed = re.search(r"\(rows ([\d, ]+)\)", problem["message"])
        if listed:
            rows.update(int(r) for r in listed.group(1).split(", "))
    return rows


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(VALID)), st.data())
def test_any_text_in_any_cell_never_crashes(table, data):
    header, rows = VALID[table]
    row = data.draw(st.integers(2, len(rows) + 1))
    column = data.draw(st.sampled_from(header))
    value = data.draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
    tables = copy.deepcopy(VALID)
    set_cell(tables, table, row, column, value)
    with tempfile.TemporaryDirectory() as folder:
        try:
            v.load_and_validate(write_tables(Path(folder), tables))
        except v.DataValidationError as error:
            assert len(error.problems) >= 1
