"""Small counts are suppressed as documented, and leaks of identifiers and dates are found."""
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from src import privacy, runner
from src.helpers import ROOT, counter, resolve_paths, write_table


def test_integer_counts_below_min_cell_are_suppressed_with_their_percent():
    df = pd.DataFrame({"year": [2005, 2006, 2007], "n": [3, 10, 0], "percent": [23.1, 76.9, 0.0]})
    out = privacy.suppress_small_counts(df, 5)
    # by hand: 3 is in 1..4 -> "<5" and its percentage blanked; 10 and 0 stay; the year is a label
    assert out["n"].tolist() == ["<5", 10, 0]
    assert out["percent"].tolist() == ["", 76.9, 0.0]
    assert out["year"].tolist() == [2005, 2006, 2007]


@pytest.mark.parametrize("cell, suppressed", [("14/5", False), ("2/17", True), ("12 / 26", False),
                                              ("8 / 3", True), ("50 (74.6)", False), ("3 (4.5)", True),
                                              ("65.0 [55.0,72.0]", False), ("<70 / >=70", False)])
def test_text_count_cells(cell, suppressed):
    out = privacy.suppress_small_counts(pd.DataFrame({"label": ["x"], "value": [cell]}), 5)
    assert (out.loc[0, "value"] == "<5") is suppressed


def test_min_cell_off_changes_nothing():
    df = pd.DataFrame({"n": [1, 2]})
    assert privacy.suppress_small_counts(df, 0).equals(df)
    assert privacy.suppress_small_counts(df, 1).equals(df)



@pytest.mark.parametrize("n, of, text", [(3, None, "<5"), (3, 67, "<5"), (12, 67, "12 (17.9%)"), (0, 67, "0 (0.0%)"),
                                         (5, None, "5")])
def test_counts_in_running_text(n, of, text):
    # by hand: 12 / 67 = 17.91%; a small count loses its percentage, 0 and counts from 5 up stay
    assert privacy.count_text(n, 5, of) == text
    assert counter(SimpleNamespace(min_cell=5))(n, of=of) == text  # what the notebooks call
    assert privacy.count_text(n, 0) == str(n)  # MIN_CELL off

def test_write_table_writes_the_suppressed_table(tmp_path):
    paths = resolve_paths(ROOT / "data", tmp_path, min_cell=3)
    shown = write_table(pd.DataFrame({"group": ["a", "b"], "n": [2, 7]}), "t", paths)
    assert shown["n"].tolist() == ["<3", 7]
    assert (tmp_path / "tables" / "t.csv").read_text() == "group,n\na,<3\nb,7\n"


def test_private_mode_is_on_for_any_folder_but_the_bundled_one(tmp_path):
    assert resolve_paths(ROOT / "data", tmp_path).private is False
    assert resolve_paths(tmp_path, tmp_path / "out").private is True
    assert resolve_paths(tmp_path, tmp_path / "out", private=False).private is False


def test_find_leaks_matches_whole_tokens_only(tmp_path):
    (tmp_path / "a.csv").write_text("id,n\nSITE-12,3\n")
    (tmp_path / "b.md").write_text("first session 06 January 2012; SITE-123 elsewhere\n")
    leaks = privacy.find_leaks(tmp_path, {"SITE-12", "06 January 2012", "2012-01-06", "SITE-1"})
    assert sorted((Path(f).name, s) for f, s in leaks) == [("a.csv", "SITE-12"), ("b.md", "06 January 2012")]


def test_sensitive_strings_skips_short_numeric_ids_but_keeps_dates():
    tables = {"patients": pd.DataFrame({"patient_id": ["12", "A7", "123456"],
                                        "first_haic_date": pd.to_datetime(["2012-01-06"] * 3)})}
    found = privacy.sensitive_strings(tables)
    assert {"A7", "123456", "2012-01-06", "06 January 2012"} <= found
    assert "12" not in found


def test_the_runner_refuses_to_publish_a_leak(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    (build / "table.csv").write_text("patient_id\nP-0001\n")
    tables = {"patients": pd.DataFrame({"patient_id": ["P-0001"]})}
    with pytest.raises(runner.PrivacyError, match="P-0001"):
        runner.check_privacy(build, tables, log=lambda msg: None)
