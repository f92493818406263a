"""MIN_CELL everywhere it claims: a five-patient cohort with MIN_CELL=5, every output table and sentence parsed.

With five patients every count from 1 to 4 must read "<5". The checks here are written independently of
`src/privacy.py`: they parse the published CSV tables and the text the notebooks printed (stream and Markdown
outputs of the executed copies) with their own patterns, looking for

* a count cell (a column named as a count, "a/b", "a/b | c/d", "k (p)") holding 1 to 4;
* a sentence quoting 1 to 4 patients, deaths, events, ...; "k of m"; "n = k";
* a percentage of patients or of a group that is not 0% or 100% (with at most five patients, any other share
  gives a count from 1 to 4 back), and a confidence interval printed beside a suppressed count;
* a ratio "k events per factor" beside a suppressed number of deaths.

Not covered, as documented in README: statistics computed from small counts that are the analysis itself
(a Kaplan-Meier estimate and its interval, a median), and the shapes of figures.
"""
import json
import re

import pandas as pd
import pytest

from src import runner
from src.helpers import ROOT

EXAMPLE = ROOT / "data" / "examples" / "cohort250"
MIN_CELL = 5
COUNT_NAMES = {"n", "count", "events", "deaths", "censored", "at_risk", "at risk", "patients", "total"}
COUNT_WORDS = r"(patients?|deaths?|events?|censored|progress\w*|died|alive|men|women|sessions? in|of the \d+)"
SMALL = r"(?<![\d.<])[1-4](?![\d.%])"
# the simulations of notebooks 06 and 07 do not depend on the cohort (nbval tests them on the bundled one); the
# checks read tables and printed text only, the same bytes without figures (compared once by hand): none drawn
QUICK = ["-p", "SIMULATION_REPLICATES=100", "-p", "IMMORTAL_REPLICATES=10", "-p", "FIGURES=False"]


def five_patient_cohort(folder):
    """Four patients of the example who progressed (two salvage groups) and one who did not, as CSV."""
    patients = pd.read_csv(EXAMPLE / "patients.csv", dtype=str)
    progression = pd.read_excel(EXAMPLE / "progression.xlsx", dtype=str)
    events = pd.read_csv(EXAMPLE / "adverse_events.csv", dtype=str)
    progressed = progression.groupby("salvage_treatment").head(2)["patient_id"].head(4).tolist()
    other = [p for p in patients["patient_id"] if p not in set(progression["patient_id"])][:1]
    ids = set(progressed + other)
    folder.mkdir()
    patients[patients["patient_id"].isin(ids)].to_csv(folder / "patients.csv", index=False)
    progression[progression["patient_id"].isin(ids)].to_csv(folder / "progression.csv", index=False)
    events[events["patient_id"].isin(ids)].to_csv(folder / "adverse_events.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    base = tmp_path_factory.mktemp("five")
    data = five_patient_cohort(base / "data")
    assert len(pd.read_csv(data / "patients.csv")) == 5
    out = base / "out"
    assert runner.main(["--data", str(data), "--out", str(out), "--min-cell", str(MIN_CELL), *QUICK]) == 0
    return out


def printed_text(out) -> list[tuple[str, str]]:
    """(notebook, text) of every printed or Markdown output of the executed notebooks."""
    texts = []
    for path in sorted((out / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                if output["output_type"] == "stream":
                    texts.append((path.stem, "".join(output["text"])))
                elif "text/markdown" in output.get("data", {}):
                    texts.append((path.stem, "".join(output["data"]["text/markdown"])))
    return texts


def small_counts_in_cell(column: str, cell: str) -> bool:
    cell = cell.strip()
    if re.fullmatch(r"\d+(\.0)?", cell) and column.strip().lower() in COUNT_NAMES:
        return 1 <= float(cell) <= 4
    if re.fullmatch(r"\d+( ?/ ?\d+)+( ?\| ?\d+( ?/ ?\d+)*)*", cell) or re.fullmatch(r"\d+ \([\d.]+%?\)", cell):
        return any(1 <= int(x) <= 4 for x in re.findall(r"\d+", cell.split("(")[0]))
    return False


def test_no_table_shows_a_small_count(results):
    tables = sorted((results / "tables").glob("*.csv"))
    assert len(tables) > 20
    found, suppressed = [], 0
    for path in tables:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in table.columns:
            for cell in table[column]:
                suppressed += cell == f"<{MIN_CELL}"
                if small_counts_in_cell(column, cell):
                    found.append((path.name, column, cell))
    assert found == []
    assert suppressed > 10  # the check has something to bite on


def test_no_sentence_quotes_a_small_count(results):
    patterns = [re.compile(SMALL + r"\s+" + COUNT_WORDS, re.I), re.compile(SMALL + r" of \d+"),
                re.compile(r"\bn ?= ?" + SMALL), re.compile(SMALL + r" \(\d+(\.\d+)?%\)")]
    found = [(nb, m.group(0)) for nb, text in printed_text(results) for p in patterns for m in p.finditer(text)]
    assert found == []


def test_no_share_or_interval_gives_a_small_count_back(results):
    share = re.compile(r"(\d+(\.\d+)?)% (of (the )?(patients|cohort|group|sorafenib|other)|had|were|censored)", re.I)
    beside = re.compile(r"<5[^.\n]{0,60}\b(CI|events per)\b")
    found = []
    for nb, text in printed_text(results):
        found += [(nb, m.group(0)) for m in share.finditer(text) if float(m.group(1)) not in (0.0, 100.0)]
        found += [(nb, m.group(0)) for m in beside.finditer(text)]
        found += [(nb, m.group(0)) for m in re.finditer(r"(?<!at least )\b\d+(\.\d+)? events per", text)]  # <5 deaths
    assert found == []


def test_the_patterns_catch_what_they_are_meant_to_catch():
    # the checks above can fail: each pattern finds its example
    assert small_counts_in_cell("n", "3") and small_counts_in_cell("table", "0/2 | 1/0")
    assert small_counts_in_cell("n", "2.0") and small_counts_in_cell("x", "3 (60.0)")
    assert not small_counts_in_cell("years", "3") and not small_counts_in_cell("n", "<5")
    assert re.search(SMALL + r"\s+" + COUNT_WORDS, "of whom 3 patients died", re.I)
    assert not re.search(SMALL + r"\s+" + COUNT_WORDS, "<5 patients; 0.4 deaths; 12 events", re.I)
