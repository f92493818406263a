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
# the simulations of notebooks 06 and 07 do not depend on the cohort (nbval tests them on the bundled one):
# runs on other cohorts take few replicates
FEW_REPLICATES = ["-p", "SIMULATION_REPLICATES=100", "-p", "IMMORTAL_REPLICATES=10"]


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
    code = runner.main(["--data", str(data), "--out", str(out), "--min-cell", str(MIN_CELL), *FEW_REPLICATES])
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


def _longest_digit_run(b: bytes) -> tuple[int, int] | None:
    spans = [m.span() for m in re.finditer(rb"[0-9]+", b)]
    return max(spans, key=lambda span: span[1] - span[0], default=None)


def _anchored(strings) -> tuple[list[bytes], dict]:
    """*strings* (bytes) prepared for `_occurring`: those without digits, and the others grouped by anchor."""
    without_digits, groups = [], {}  # (digits may precede, digits may follow, anchor length) -> {anchor: [(b, offset)]}
    for b in strings:
        span = _longest_digit_run(b)
        if span is None:
            without_digits.append(b)
            continue
        start, end = span
        key = (start == 0, end == len(b), end - start)
        groups.setdefault(key, {}).setdefault(b[start:end], []).append((b, start))
    return without_digits, groups


def _occurring(data: bytes, anchored) -> set[bytes]:
    """The strings of `_anchored(strings)` that occur in *data*: exactly `{b for b in strings if b in data}`, in
    one pass.

    Wherever a string occurs, its longest run of digits (its anchor) lies on one of data's maximal digit
    runs: the whole run when the string has a non-digit on both sides of the anchor, the run's end when
    the anchor starts the string, its start when the anchor ends the string, anywhere in it when the string
    is all digits. Each such place is a candidate, confirmed by comparing the whole string there. A string
    without digits is searched for directly."""
    without_digits, groups = anchored
    found = {b for b in without_digits if b in data}
    shortest = min((n for _, _, n in groups), default=1)
    for run in re.finditer(rb"[0-9]{%d,}" % shortest, data):
        r0, r1 = run.span()
        for (open_before, open_after, n), anchors in groups.items():
            if n > r1 - r0 or not (open_before or open_after or n == r1 - r0):
                continue
            places = range(r0, r1 - n + 1) if open_before and open_after else [r1 - n] if open_before else [r0]
            for place in places:
                for b, offset in anchors.get(data[place:place + n], ()):
                    if place >= offset and data.startswith(b, place - offset):
                        found.add(b)
    return found


def _search(files, strings):
    # raw bytes, and the file names too (a figure named after a patient); each file read once, and searched
    # for all strings in one pass (thousands of strings: `in` once per string took a minute)
    encoded = [(s, s.encode()) for s in strings]
    anchored = _anchored([b for _, b in encoded])
    found = []
    for p in files:
        hits = _occurring(p.read_bytes(), anchored) | _occurring(p.name.encode(), anchored)
        found += [(p.name, s) for s, b in encoded if b in hits]
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


def test_the_one_pass_search_finds_what_a_substring_search_finds(results):
    # every kind of anchor, inside longer digit runs or not, and strings without digits; then real outputs
    strings = ["2012-01-06", "06.01.2012", "6 January 2012", "20120106", "SITE2-0001", "haic_export_2012-04-07",
               "/work/main", "a1b22c", "12", "2012"]
    data = (b"x92012-01-06 06.01.20123 16 January 20120 1201201061 SITE2-00012 haic_export_2012-04-077 a1b22c "
            b"2012-01-07 06.01.201 SITE2-001 20120107 /work/mai")
    encoded = [s.encode() for s in strings]
    assert _occurring(data, _anchored(encoded)) == {b for b in encoded if b in data}
    dates = sorted(_identifiers_and_dates(EXAMPLE))[::20]
    near = [d[:-1] + str((int(d[-1]) + 1) % 10) if d[-1].isdigit() else d + "1" for d in dates]  # a day off, mostly
    files = [results / "tables" / "table1_baseline.csv", *sorted((results / "figures").glob("*.svg"))[:2],
             *sorted((results / "figures").glob("*.png"))[:1], *sorted((results / "notebooks").glob("*.ipynb"))[:2]]
    for path in files:
        data = path.read_bytes()
        pieces = [data[i:i + 9] for i in range(0, len(data), len(data) // 200)]  # found, wherever they are
        encoded = [s.encode() for s in dates + near + ["2012", "0", "<5"]] + pieces
        assert _occurring(data, _anchored(encoded)) == {b for b in encoded if b in data}, path.name


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
    assert runner.main(["--data", str(tmp_path / "data"), "--out", str(out), *FEW_REPLICATES]) == 0
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
