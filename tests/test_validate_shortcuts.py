"""The shortcuts of src/validate/ (issue 12) find what the general path finds.

``_schema_passes`` (schema.py) lets a valid table skip pandera; ``_plausibility_candidates``
(plausibility.py) lets check_plausibility look only at the cells that may get a finding;
``_latest_dates`` keeps only the two latest dates. Each test checks the bundled
cohort, valid and with a few broken cells, both ways.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from src import validate as v
from src.validate import plausibility
from src.validate import tables as table_check
from src.validate.load import _collect

DATA = Path(__file__).resolve().parents[1] / "data"
TABLES = ("patients", "progression", "adverse_events")

# (table, spreadsheet row, column, new value)
CASES = {
    "valid": [],
    "codes and limits": [("patients", 2, "alt", "999"), ("patients", 3, "albumin", "5.8"),
                         ("progression", 4, "total_bilirubin", "17"), ("patients", 5, "ecog_ps", "9")],
    "late and future dates": [("patients", 2, "last_followup_date", "2024-06-01"),
                              ("progression", 3, "salvage_start_date", "2099-01-01"),
                              ("patients", 4, "first_haic_date", "1900-01-01")],
    "bad values": [("patients", 2, "age", "abc"), ("patients", 3, "sex", "X"), ("patients", 4, "alt", "2,5"),
                   ("progression", 2, "ecog_ps", ""), ("adverse_events", 2, "grade", "7"),
                   ("patients", 6, "patient_id", "P001"), ("patients", 7, "child_pugh_score", "15")],
    "synonyms and case": [("patients", 2, "ascites", "YES"), ("patients", 3, "death", "dead"),
                          ("patients", 4, "sex", "m")],
}


def _write_case(folder: Path, changes) -> Path:
    folder.mkdir()
    for name in TABLES:
        with open(DATA / f"{name}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        for table, row, column, value in changes:
            if table == name:
                rows[row - 1][rows[0].index(column)] = value
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
    return folder


def _assert_same(a, b):
    tables_a, errors_a, warnings_a, notes_a = a
    tables_b, errors_b, warnings_b, notes_b = b
    assert (tables_a is None) == (tables_b is None)
    for name in tables_a or {}:
        pd.testing.assert_frame_equal(tables_a[name], tables_b[name], check_exact=True)
    pd.testing.assert_frame_equal(errors_a, errors_b, check_exact=True)
    pd.testing.assert_frame_equal(warnings_a, warnings_b, check_exact=True)
    assert notes_a == notes_b


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("today", [None, "2008-01-01"])
def test_shortcuts_find_what_the_general_path_finds(tmp_path, monkeypatch, case, today):
    folder = _write_case(tmp_path / "cohort", CASES[case])
    quick = _collect(folder, today=today)
    monkeypatch.setattr(table_check, "_schema_passes", lambda columns, spec: False)  # always pandera
    monkeypatch.setattr(plausibility, "_plausibility_candidates", lambda *args: None)  # every cell
    _assert_same(quick, _collect(folder, today=today))


def test_latest_dates_are_the_first_two_of_all_dates_sorted():
    tables = {name: v.validate_table(v.read_table(DATA, name)[0], v.read_dictionary(v.DEFAULT_DICTIONARY), name)[0]
              for name in TABLES}
    tables["progression"].loc[tables["progression"].index[:3], "salvage_start_date"] = pd.Timestamp("2013-01-01")
    cells = [(value, name, row, column) for name, frame in tables.items()
             for column in frame.columns if frame[column].dtype.kind == "M"
             for row, value in frame[column].dropna().items()]
    cells.sort(key=lambda c: c[0], reverse=True)
    assert plausibility._latest_dates(tables) == cells[:2]


def test_bundled_cohort_needs_no_pandera(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("pandera was used for a valid table")

    monkeypatch.setattr(table_check, "_cached_schema", fail)
    v.load_and_validate(DATA)
