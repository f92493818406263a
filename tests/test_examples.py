"""The second synthetic cohort: rebuilt identically, analysed end to end, nothing patient-level in the output.

The privacy check here is independent of `src/privacy.py`: it reads the input tables with pandas/openpyxl and
searches the raw bytes of every output file for every identifier and every date, in the forms a notebook could
print them.
"""
import re
import shutil

import pandas as pd
import pyreadstat
import pytest

from src.synthetic import example_cohort
from src import runner
from src.helpers import ROOT
from src.validate import load_and_validate

EXAMPLE = ROOT / "data" / "examples" / "cohort250"
MIN_CELL = 5


def _raw_tables(folder):
    out = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".csv":
            out[path.stem] = pd.read_csv(path, dtype=str)
        elif path.suffix == ".xlsx":
            out[path.stem] = pd.read_excel(path, dtype=str)
    return out


def _dated_folder_name():
    """A data folder named as hospital exports are, after a date that is also a patient's follow-up date."""
    first = pd.read_csv(EXAMPLE / "patients.csv", dtype=str)["last_followup_date"].iloc[0]
    return f"haic_export_{first}"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    # the example copied into a folder whose name holds a patient's date: neither may reach the output
    data = tmp_path_factory.mktemp("cohort250") / _dated_folder_name()
    shutil.copytree(EXAMPLE, data)
    out = data.parent / "results"
    code = runner.main(["--data", str(data), "--out", str(out), "--min-cell", str(MIN_CELL)])
    assert code == 0
    return out


def test_the_example_is_what_make_example_writes(tmp_path):
    example_cohort.write_example(example_cohort.build_example(example_cohort.DEFAULT_SEED), tmp_path)
    for name in ("patients.csv", "adverse_events.csv", "progression.xlsx"):  # the .xlsx too: no time of writing
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes()


def test_the_example_has_the_promised_shape():
    raw = _raw_tables(EXAMPLE)
    assert len(raw["patients"]) == 250
    assert "uft" not in set(raw["progression"]["salvage_treatment"])
    assert not {"etiology", "tnm_stage", "dcp"} & set(raw["patients"].columns)
    assert (EXAMPLE / "progression.xlsx").exists() and not (EXAMPLE / "progression.csv").exists()


def test_the_whole_pipeline_runs_on_the_example(results):
    assert len(list((results / "notebooks").glob("*.ipynb"))) == len(runner.discover_notebooks())
    assert (results / "report.html").exists() and (results / "tables" / "table3_univariate.csv").exists()
    assert not (results / "scorecard.csv").exists()  # no published numbers for this cohort
    assert not list((results / "tables").glob("paper_vs_run_*"))


def _identifiers_and_dates(folder):
    """Every identifier and every date of the input, in the forms a notebook could print a date."""
    raw = _raw_tables(folder)
    found = set(raw["patients"]["patient_id"])
    for df in raw.values():
        for col in df.columns:
            if col.endswith("_date"):
                for d in pd.to_datetime(df[col].dropna()):
                    found |= {f"{d:%Y-%m-%d}", f"{d:%d %B %Y}", f"{d:%B %d, %Y}", f"{d:%Y/%m/%d}", f"{d.day} {d:%B %Y}",
                              f"{d:%d/%m/%Y}", f"{d:%m/%d/%Y}", f"{d:%d.%m.%Y}", f"{d:%Y%m%d}", f"{d:%d-%b-%Y}",
                              f"{d:%b %d, %Y}", f"{d:%d %b %Y}"}
    return found | {_dated_folder_name()}


def _search(files, strings):
    # raw bytes, and for the identifiers also the file names (a figure named after a patient); each file
    # read once, not once per string (thousands of strings: a minute of reading the same files again)
    encoded = [(s, s.encode()) for s in strings]
    found = []
    for p in files:
        data = p.read_bytes()
        found += [(p.name, s) for s, b in encoded if b in data or s in p.name]
    return found


def test_no_identifier_or_date_of_the_input_in_any_output_file(results):
    files = [p for p in results.rglob("*") if p.is_file()]
    assert len(files) > 50
    assert _search(files, _identifiers_and_dates(EXAMPLE)) == []


def test_the_search_finds_a_pasted_patient_row(results, tmp_path):
    # the search above can fail: a copy of an output table with one input row pasted in is caught
    leaked = tmp_path / "response_best.csv"
    patients = (EXAMPLE / "patients.csv").read_text().splitlines()
    leaked.write_text((results / "tables" / "response_best.csv").read_text() + patients[1] + "\n")
    found = _search([leaked], _identifiers_and_dates(EXAMPLE))
    assert ("response_best.csv", patients[1].split(",")[0]) in found


def test_small_counts_are_suppressed_in_every_table(results):
    # every count cell (integers, "a / b", "n (pct)") is 0, at least MIN_CELL, or "<MIN_CELL"
    count_cell = re.compile(r"^\d+( ?/ ?\d+)*$|^\d+ \([\d.]+\)$")
    suppressed = 0
    for path in (results / "tables").glob("*.csv"):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in table.columns:
            if col in ("year", "years", "sessions", "key", "time", "grade"):
                continue
            for cell in table[col]:
                suppressed += cell == f"<{MIN_CELL}"
                if count_cell.match(cell) and col not in ("median", "ci_low", "ci_high", "statistic", "p"):
                    numbers = [int(x) for x in re.findall(r"\d+", cell.split("(")[0])]
                    assert all(x == 0 or x >= MIN_CELL for x in numbers), (path.name, col, cell)
    assert suppressed > 0



def test_counts_in_the_running_text_follow_min_cell(tmp_path):
    # one notebook on the example with a MIN_CELL above every count: its printed counts all read "<1000"
    import papermill

    out = tmp_path / "nb.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks" / "04_overall_survival.ipynb"), str(out), cwd=str(ROOT / "notebooks"),
                               parameters={"DATA_DIR": str(EXAMPLE), "OUTPUT_DIR": str(tmp_path), "MIN_CELL": 1000},
                               kernel_name="python3", progress_bar=False)
    text = out.read_text()
    assert "<1000 patients: <1000 deaths observed, <1000 censored" in text
    assert "250 patients" not in text

@pytest.mark.parametrize("fmt", ["xlsx", "sav"])
def test_every_format_gives_the_same_tables(tmp_path, fmt):
    reference = load_and_validate(EXAMPLE)
    for name, df in _raw_tables(EXAMPLE).items():
        if fmt == "xlsx":
            df.to_excel(tmp_path / f"{name}.xlsx", index=False)
        else:
            typed = load_and_validate(EXAMPLE)[name].copy()
            for col in typed.columns:  # SPSS stores numbers and strings; dates as text here
                if pd.api.types.is_datetime64_any_dtype(typed[col]):
                    typed[col] = typed[col].dt.strftime("%Y-%m-%d")
                elif not pd.api.types.is_numeric_dtype(typed[col]):
                    typed[col] = typed[col].astype(str)
                else:
                    typed[col] = typed[col].astype(float)
            pyreadstat.write_sav(typed, str(tmp_path / f"{name}.sav"))
    converted = load_and_validate(tmp_path)
    for name in reference:
        pd.testing.assert_frame_equal(converted[name], reference[name], check_dtype=False)


def test_a_cohort_in_which_nobody_progressed_runs_to_the_end(tmp_path):
    # 40 patients, an empty progression table and no adverse events: every section adapts or says why it is skipped
    params = {**example_cohort.EXAMPLE, "n_patients": 40}
    tables = example_cohort.build_example(5, params)
    tables["progression"] = tables["progression"].iloc[:0]
    tables["adverse_events"] = tables["adverse_events"].iloc[:0]
    example_cohort.write_example(tables, tmp_path / "data", params)
    out = tmp_path / "results"
    assert runner.main(["--data", str(tmp_path / "data"), "--out", str(out)]) == 0
    univariate = pd.read_csv(out / "tables" / "table3_univariate.csv")
    assert univariate["p"].isna().all()
    assert pd.read_csv(out / "tables" / "cohort_salvage_by_era.csv")["Total"].sum() == 0


def test_the_template_has_every_column_of_the_dictionary_and_no_rows():
    dictionary = pd.read_csv(ROOT / "data" / "data_dictionary.csv", dtype=str)
    for table, spec in dictionary.groupby("table"):
        lines = (ROOT / "data" / "template" / f"{table}.csv").read_text().splitlines()
        assert lines == [",".join(spec["column"])]


def test_no_path_of_the_machine_in_any_output_file(results):
    # the notebooks saw the data and output folders only as DATA and OUT
    paths = {str(results.parent), str(results.parent.resolve()), str(ROOT)}
    files = [p for p in results.rglob("*") if p.is_file()]
    assert _search(files, paths) == []
    executed = (results / "notebooks" / "01_cohort_flow.ipynb").read_text()
    assert '"DATA_DIR": "DATA"' in executed and '"OUTPUT_DIR": "OUT"' in executed
