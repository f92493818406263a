"""Small counts are suppressed as documented, and leaks of identifiers and dates are found."""
import datetime
import hashlib
import shutil
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


def _copy_tables(source, target, names=privacy.BUNDLED_TABLES):
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(source / name, target / name)
    return target


def test_private_mode_is_decided_by_content_not_by_folder(tmp_path):
    assert resolve_paths(ROOT / "data", tmp_path).private is False
    # the bundled files copied anywhere are still the bundled cohort
    copy = _copy_tables(ROOT / "data", tmp_path / "elsewhere")
    assert privacy.is_bundled(copy) and resolve_paths(copy, tmp_path / "o").private is False
    # one byte changed: someone else's data, private
    patients = copy / "patients.csv"
    patients.write_bytes(patients.read_bytes().replace(b"\n", b"\r\n", 1))
    assert not privacy.is_bundled(copy) and resolve_paths(copy, tmp_path / "o").private is True
    assert resolve_paths(tmp_path, tmp_path / "out").private is True
    assert resolve_paths(tmp_path, tmp_path / "out", private=False).private is False


def test_a_second_format_of_a_table_is_not_the_bundled_cohort(tmp_path):
    copy = _copy_tables(ROOT / "data", tmp_path / "d")
    (copy / "patients.xlsx").write_bytes(b"x")
    assert not privacy.is_bundled(copy)


def test_own_tables_copied_into_the_projects_data_folder_run_private_without_the_paper(tmp_path, monkeypatch):
    # a stand-in for the project's data/ (the real one is not touched): the manifest and the paper's numbers
    # stay, the researcher's tables replace the bundled ones
    home = _copy_tables(ROOT / "data", tmp_path / "data", [*privacy.BUNDLED_TABLES, privacy.MANIFEST_NAME,
                                                             "published_results.csv"])
    monkeypatch.setattr(privacy, "BUNDLED_DIR", home)
    assert privacy.is_bundled(home) and privacy.published_results(home) == home / "published_results.csv"
    example = ROOT / "data" / "examples" / "cohort250"
    shutil.copyfile(example / "patients.csv", home / "patients.csv")
    assert not privacy.is_bundled(home)
    assert privacy.private_mode(None, home) is True
    assert privacy.published_results(home) is None  # the paper's numbers say nothing about these patients
    # a folder of one's own with its own published_results.csv keeps it
    own = _copy_tables(example, tmp_path / "own", ["patients.csv"])
    (own / "published_results.csv").write_text("id,value\n")
    assert privacy.published_results(own) == own / "published_results.csv"


def test_the_manifest_lists_the_committed_tables():
    # `sha256sum -c bundled_cohort.sha256` by hand: hashlib here, the manifest from `make data`
    lines = (ROOT / "data" / privacy.MANIFEST_NAME).read_text().splitlines()
    listed = dict(reversed(line.split("  ")) for line in lines)
    assert set(listed) == set(privacy.BUNDLED_TABLES)
    for name, digest in listed.items():
        assert hashlib.sha256((ROOT / "data" / name).read_bytes()).hexdigest() == digest


IDS = frozenset({"SITE-12", "P1", "12", "A-7"})
DATES = frozenset({datetime.date(2012, 1, 6)})
SENSITIVE = privacy.Sensitive(IDS, DATES, frozenset({"haic_export_2021-06-30"}))


@pytest.mark.parametrize("text, found", [
    ("id,n\nSITE-12,3\n", {"id SITE-12", "id 12"}),   # "12" is a whole token after "-"
    ("SITE-123 and P12 and A-77", set()),              # inside longer tokens: not found
    ("see P1_x and /P1/ and P1.csv", {"id P1"}),       # next to "_", "/" and "."
    ("p1 in lower case", {"id P1"}),
    ("12.5 months, 0.12 and 112", set()),              # a number inside another number is not the id 12
    ("P-7,12,3", {"id 12"}),                           # a CSV row: commas separate
    ("n = 12 patients", {"id 12"}),                     # a whole number is
    ("x a-7 y", {"id A-7"}),
])
def test_identifiers_are_matched_as_whole_tokens(text, found):
    assert privacy.find_in_text(text, privacy.Sensitive(ids=IDS)) == found


@pytest.mark.parametrize("spelling", ["2012-01-06", "2012-01-06T00:00:00", "2012/01/06", "2012.1.6", "06/01/2012",
                                      "01/06/2012", "06.01.2012", "6-1-2012", "20120106", "6 January 2012",
                                      "06 Jan 2012", "January 6, 2012", "Jan 6 2012", "06-Jan-2012", "jan 2012",
                                      "January 2012", "x_2012-01-06.png"])
def test_dates_are_found_in_every_common_spelling(spelling):
    found = privacy.find_in_text(f"follow-up {spelling}; more", privacy.Sensitive(dates=DATES))
    assert any(f.startswith("date 2012-01") for f in found), spelling


@pytest.mark.parametrize("text", ["2012-01-07", "07/01/2012", "Feb 2012", "2012", "120120106", "2012-01-060",
                                  "Dec 6, 2013"])
def test_other_dates_and_numbers_are_not_taken_for_the_date(text):
    assert privacy.find_in_text(text, privacy.Sensitive(dates=DATES)) == set()


def test_find_leaks_searches_file_names_and_skips_what_the_notebooks_say(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "km_P1.png").write_bytes(b"")
    (tmp_path / "a.csv").write_text("id,n\nSITE-12,3\n")
    (tmp_path / "b.md").write_text("era from 06/01/2012; data in haic_export_2021-06-30\n")
    leaks = {(Path(f).name, s.split(" (written")[0]) for f, s in privacy.find_leaks(tmp_path, SENSITIVE)}
    assert leaks == {("km_P1.png", "id P1"), ("a.csv", "id SITE-12"), ("a.csv", "id 12"),
                     ("b.md", "date 2012-01-06"), ("b.md", "name haic_export_2021-06-30")}
    # a date that the notebooks' own text documents (an era start, a default) is not patient data
    allowed = 'ERA_START = "2012-01-06"  # a parameter'
    leaks = {(Path(f).name, s.split(" (written")[0]) for f, s in privacy.find_leaks(tmp_path, SENSITIVE, allowed)}
    assert ("b.md", "date 2012-01-06") not in leaks and ("a.csv", "id SITE-12") in leaks


def test_embedded_images_are_not_searched_but_png_text_is(tmp_path):
    import base64
    blob = base64.b64encode(bytes(range(256)) * 4 + b"+12/").decode()  # base64 can hold "+12/" by chance
    (tmp_path / "report.html").write_text(f'<img src="data:image/png;base64,{blob}">')
    assert privacy.find_leaks(tmp_path, SENSITIVE) == []
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure()
    fig.savefig(tmp_path / "f.png", metadata={"Title": "patient SITE-12"})
    plt.close(fig)
    assert ("f.png", "id SITE-12") in {(Path(f).name, s) for f, s in privacy.find_leaks(tmp_path, SENSITIVE)}


def test_sensitive_values_keep_every_identifier_and_date():
    tables = {"patients": pd.DataFrame({"patient_id": ["12", "A7", "123456"],
                                        "first_haic_date": pd.to_datetime(["2012-01-06"] * 3)})}
    found = privacy.sensitive_values(tables, ["folder"])
    assert found.ids == {"12", "A7", "123456"}  # short numeric identifiers too
    assert found.dates == {datetime.date(2012, 1, 6)} and found.names == {"folder"}


def test_a_two_by_two_cell_with_a_small_count_is_suppressed():
    df = pd.DataFrame({"variable": ["sex", "ps"], "table": ["0/2 | 1/0", "5/6 | 7/8"]})
    assert privacy.suppress_small_counts(df, 5)["table"].tolist() == ["<5", "5/6 | 7/8"]


def test_the_runner_refuses_to_publish_a_leak(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    (build / "table.csv").write_text("patient_id\nP-0001\n")
    tables = {"patients": pd.DataFrame({"patient_id": ["P-0001"]})}
    with pytest.raises(runner.PrivacyError, match="P-0001"):
        runner.check_privacy(build, tables, log=lambda msg: None)


def test_numeric_identifiers_get_advice(tmp_path):
    (tmp_path / "t.csv").write_text("n\n7\n")
    with pytest.raises(runner.PrivacyError, match="pseudonyms"):
        runner.check_privacy(tmp_path, {"patients": pd.DataFrame({"patient_id": ["7"]})}, log=lambda msg: None)


def test_every_run_refuses_a_path_of_the_machine(tmp_path):
    (tmp_path / "nb.ipynb").write_text(f'{{"text": "{runner.ROOT}/.venv/lib/x.py:3: UserWarning"}}')
    with pytest.raises(runner.PrivacyError, match="name"):
        runner.check_privacy(tmp_path, None, runner.machine_paths(), log=lambda msg: None)


def test_a_count_column_made_float_by_a_blank_cell_is_still_suppressed():
    df = pd.DataFrame({"analysis": ["a", "b", "c"], "n": [2.0, float("nan"), 12.0], "p": [0.5, 0.2, 3.0]})
    out = privacy.suppress_small_counts(df, 5)
    assert out["n"].tolist()[0] == "<5" and out["n"].tolist()[2] == 12.0
    assert out["p"].tolist() == [0.5, 0.2, 3.0]  # not a count column
