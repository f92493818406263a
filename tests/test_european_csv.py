"""A European spreadsheet's CSV (issue 19, point 3): ';' between values, decimal commas, day-first dates.

Read when the reading is unambiguous, with a line in `make check`'s output saying how; an ambiguous file
(a ',' that could be a decimal mark or a thousands separator, dates that could be day- or month-first) is an
error naming the column and the values. A ';'/decimal-comma/dd.mm.yyyy copy of data/examples/cohort250 gives
the very frames of the original (so the same tables/: checked by hand with two runs into /tmp, 26 identical
CSV files; here one run of the copy, which also shows no papermill plumbing in the output).
"""
from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from src import validate as v
from src.validate import cli as validate_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "examples" / "cohort250"
TABLES = ("patients", "progression", "adverse_events")


def european_copy(folder: Path, dates: str = "{d}.{m}.{y}", source: Path = EXAMPLE, change=None) -> Path:
    """The tables of `source` as ';'-separated CSV files with decimal commas and dates written `dates`."""
    folder.mkdir(parents=True, exist_ok=True)
    dictionary = v.read_dictionary(v.DEFAULT_DICTIONARY).set_index(["table", "column"])
    for name in TABLES:
        text, _ = v.read_table(source, name)
        text = text.copy()
        for column in text.columns:
            kind = dictionary.loc[(name, column), "type"]
            if kind == "number":
                text[column] = text[column].map(lambda x: None if x is None else x.replace(".", ","))
            elif kind == "date":
                text[column] = text[column].map(
                    lambda x: None if x is None else dates.format(d=x[8:10], m=x[5:7], y=x[:4]))
        if change:
            change(name, text)
        text.to_csv(folder / f"{name}.csv", sep=";", index=False)
    return folder


def check(folder: Path) -> subprocess.CompletedProcess:
    """`python -m src.validate`, in this process (its `__main__` only hands main's code to sys.exit; the
    command itself runs in test_makefile's `make check`): the exit code and what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = validate_cli.main([str(folder)])
    return subprocess.CompletedProcess(["python", "-m", "src.validate", str(folder)], code, printed.getvalue(), "")


@pytest.mark.parametrize("dates", ["{d}.{m}.{y}", "{d}/{m}/{y}"])
def test_a_european_copy_gives_the_same_frames_and_says_how_it_was_read(tmp_path, dates):
    folder = european_copy(tmp_path / "eu", dates)
    assert "3,8" in (folder / "patients.csv").read_text() or ",5;" in (folder / "patients.csv").read_text()
    original, copy = v.load_and_validate(EXAMPLE), v.load_and_validate(folder)
    for name in TABLES:
        pd.testing.assert_frame_equal(original[name], copy[name], check_exact=True)
    result = check(folder)
    assert result.returncode == 0, result.stdout
    assert "patients.csv: read as a European spreadsheet's CSV: values separated by ';'; decimal comma" in result.stdout
    assert "dates day-first (first_haic_date '06" in result.stdout


def test_thousands_points_and_decimal_commas_together(tmp_path):
    def change(name, text):
        if name == "patients":
            text.loc[text.index[0], "afp"] = "15.488.402"  # several groups: thousands separators
            text.loc[text.index[1], "afp"] = "1.234,5"
    folder = european_copy(tmp_path / "eu", change=change)
    tables, found = v.check_data(folder)
    assert tables["patients"]["afp"].iloc[:2].tolist() == [15488402.0, 1234.5]
    assert found["column"].tolist() == ["afp"] and found["rule"].tolist() == [v.RULE_LIMITS]  # 15 million: a look


def test_a_comma_that_could_be_a_thousands_separator_names_the_column(tmp_path):
    # decimals written with points but a ';' file, and an AFP of '2,833': 2.833 or 2833? Nothing tells
    folder = tmp_path / "ambiguous"
    folder.mkdir()
    for name in TABLES:
        text, _ = v.read_table(EXAMPLE, name)
        text = text.copy()
        if name == "patients":
            for column in ("total_bilirubin", "albumin", "platelets", "max_tumor_size_mm", "alt",
                           "prothrombin_activity"):
                text[column] = text[column].map(lambda x: x if x is None else str(round(float(x))))
            text["afp"] = ["2,833" if i < 3 else value for i, value in enumerate(text["afp"])]
            text["child_pugh_score"] = text["child_pugh_score"]
        text.to_csv(folder / f"{name}.csv", sep=";", index=False)
    result = check(folder)
    assert result.returncode == 2
    assert "patients.csv: afp '2,833' (row 2), '2,833' (row 3), '2,833' (row 4): the mark could be a decimal mark " \
           "or a thousands separator" in result.stdout


def test_mixed_decimal_marks_are_an_error(tmp_path):
    def change(name, text):
        if name == "patients":
            text.loc[text.index[0], "albumin"] = "3.85"
    result = check(european_copy(tmp_path / "eu", change=change))
    assert result.returncode == 2 and "has decimal commas" in result.stdout and "albumin '3.85'" in result.stdout


def test_dates_that_could_be_day_or_month_first_name_the_column(tmp_path):
    # every date with a day of 12 or less: 05/03/2012 is 5 March or May 3
    def change(name, text):
        for column in text.columns:
            if column.endswith("_date"):
                text[column] = [None if x is None else f"{(i % 12) + 1:02d}/{(i % 11) + 1:02d}/2013"
                                for i, x in enumerate(text[column])]
    result = check(european_copy(tmp_path / "eu", change=change))
    assert result.returncode == 2
    assert "patients.csv: first_haic_date '01/01/2013' (row 2)" not in result.stdout  # 01/01: the same both ways
    assert "patients.csv: first_haic_date '02/02/2013' (row 3)" not in result.stdout
    assert "could be day-first or month-first dates" in result.stdout
    assert "patients.csv: first_haic_date '" in result.stdout


def test_month_first_dates_are_not_read(tmp_path):
    result = check(european_copy(tmp_path / "eu", "{m}/{d}/{y}"))
    assert result.returncode == 2 and "are month-first dates" in result.stdout


def test_one_run_of_the_european_copy_with_accepted_warnings_prints_no_plumbing(tmp_path):
    folder = european_copy(tmp_path / "eu")
    result = subprocess.run([sys.executable, "-m", "src.runner", "--data", str(folder), "--out", str(tmp_path / "out"),
                             "--accept-warnings", "--only", "01_,02_,03_", "-p", "FIGURES=False"],  # tables and text
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Passed unknown parameter" not in output and "papermill" not in output.lower(), output
    assert (tmp_path / "out" / "tables" / "table1_baseline.csv").is_file()
