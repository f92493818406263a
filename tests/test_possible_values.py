"""Errors for the impossible, warnings for the possible (issue 19, points 1, 2 and 4).

A cohort built from data/examples/cohort250 whose Child-Pugh scores do not fit their labs, one with HAIC
sessions 14 days apart, one with an AFP of 15,000,000 ng/mL: each refused by `python -m src.validate`
without --accept-warnings (exit 2, the warnings listed and counted per rule) and valid with it (exit 0); one
runner run of a cohort with all three, accepted, exits 0 (the runner refuses it without, exit 2, before any
notebook). The generators stay bound: the bundled, example and true cohorts pass the strict check
(every warning an error). The runner passes a notebook only the parameters it declares (no papermill
"Passed unknown parameter").
"""
from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from src import runner
from src import validate as v
from src.validate import cli as validate_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "examples" / "cohort250"
TABLES = ("patients", "progression", "adverse_events")


def cohort(folder: Path, change) -> Path:
    """The example cohort as CSV files with `change(name, text)` applied to each table's text."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        text, _ = v.read_table(EXAMPLE, name)
        text = text.copy()
        change(name, text)
        text.to_csv(folder / f"{name}.csv", index=False)
    return folder


def child_pugh_off(name, text):
    if name == "patients":  # 5 points for a patient whose labs give more, and 15 for one whose give less
        for row in text.index[:6]:
            text.at[row, "child_pugh_score"] = "15" if text.at[row, "child_pugh_score"] in ("5", "6") else "5"


def sessions_14_days_apart(name, text):
    if name == "patients":  # a weekly-like regimen: as many sessions as fit 14 days apart
        days = (pd_dates(text["last_followup_date"]) - pd_dates(text["first_haic_date"])).dt.days
        rows = [row for row in text.index if 28 <= days[row] <= 600][:5]  # 2 to 43 sessions, under 50
        for row in rows:
            text.at[row, "n_haic_sessions"] = str(int(days[row]) // 14 + 1)


def afp_15_million(name, text):
    if name == "patients":
        text.at[text.index[0], "afp"] = "15000000"


def pd_dates(series):
    import pandas as pd
    return pd.to_datetime(series)


def check(folder: Path, *options) -> subprocess.CompletedProcess:
    """`python -m src.validate`, in this process (its `__main__` only hands main's code to sys.exit; the
    command itself runs in test_makefile's `make check`): the exit code and what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = validate_cli.main([str(folder), *options])
    return subprocess.CompletedProcess(["python", "-m", "src.validate", str(folder), *options], code, printed.getvalue(), "")


@pytest.mark.parametrize("change, rule, column", [
    (child_pugh_off, v.RULE_CHILD_PUGH, "child_pugh_score"),
    (sessions_14_days_apart, v.RULE_SESSIONS, "n_haic_sessions"),
    (afp_15_million, v.RULE_LIMITS, "afp"),
])
def test_a_possible_value_is_a_warning_refused_until_accepted(tmp_path, change, rule, column):
    folder = cohort(tmp_path / "c", change)
    refused = check(folder)
    assert refused.returncode == 2, refused.stdout
    assert "to acknowledge before the analysis runs" in refused.stdout and "Data validation failed" not in refused.stdout
    _, found = v.check_data(folder)
    assert set(found["rule"]) == {rule} and set(found["column"]) == {column}
    assert f"Warnings per rule:\n  - {rule}: {len(found)}" in refused.stdout
    for message in found["message"]:
        assert message in refused.stdout  # file, row, column and value
    accepted = check(folder, "--accept-warnings")
    assert accepted.returncode == 0, accepted.stdout
    assert f"Accepted {len(found)} warning" in accepted.stdout
    strict = check(folder, "--strict", "--accept-warnings")  # the generators' hard constraints
    assert strict.returncode == 2 and "Data validation failed" in strict.stdout


def test_a_run_refuses_warnings_and_goes_on_when_they_are_accepted(tmp_path):
    def everything(name, text):
        for change in (child_pugh_off, sessions_14_days_apart, afp_15_million):
            change(name, text)
    folder = cohort(tmp_path / "c", everything)

    def run(out, *options):
        return subprocess.run([sys.executable, "-m", "src.runner", "--data", str(folder), "--out", str(out),
                               "--only", "01_,02_", *options], cwd=ROOT, capture_output=True, text=True, timeout=300)

    refused = run(tmp_path / "refused")
    assert refused.returncode == 2 and "child_pugh_score" in refused.stderr and not (tmp_path / "refused").exists()
    done = run(tmp_path / "out", "--accept-warnings")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Passed unknown parameter" not in output
    assert v.RULE_CHILD_PUGH in output and v.RULE_SESSIONS in output and v.RULE_LIMITS in output


@pytest.mark.parametrize("folder", [ROOT / "data", EXAMPLE])
def test_the_synthetic_cohorts_pass_the_strict_check(folder):
    tables, found = v.check_data(folder, strict=True)
    assert len(found) == 0 and len(tables["patients"]) > 0


def test_the_true_cohorts_of_the_validation_pass_the_strict_check():
    from src.synthetic import ensemble, truth

    for j in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            ensemble.write_tables(truth.true_cohort(truth.TRUTH_SEED0 + j), tmp)
            _, found = v.check_data(tmp, strict=True)
            assert len(found) == 0


def test_strict_turns_every_warning_into_an_error(tmp_path):
    folder = cohort(tmp_path / "c", child_pugh_off)
    with pytest.raises(v.UnacknowledgedWarnings):
        v.load_and_validate(folder)
    with pytest.raises(v.DataValidationError) as info:
        v.load_and_validate(folder, strict=True, accept_warnings=True)
    assert not isinstance(info.value, v.UnacknowledgedWarnings)
    assert all(m.startswith("strict: ") for m in info.value.problems["message"])


def test_a_notebook_gets_only_the_parameters_it_declares():
    audit = next((ROOT / "notebooks").glob("09_*.ipynb"))
    declared = runner.declared_parameters(audit)
    assert "ACCEPT_WARNINGS" not in declared and "DATA_DIR" in declared  # notebook 09 does not validate data
    given = {"DATA_DIR": "DATA", "OUTPUT_DIR": "OUT", "ACCEPT_WARNINGS": True, "PRIVATE": True}
    assert runner.notebook_parameters(audit, given) == {"DATA_DIR": "DATA", "OUTPUT_DIR": "OUT", "PRIVATE": True}
    cohort_flow = next((ROOT / "notebooks").glob("01_*.ipynb"))
    assert runner.notebook_parameters(cohort_flow, given) == given


def test_a_parameter_no_notebook_declares_is_reported_once(tmp_path, monkeypatch):
    lines = []
    monkeypatch.setattr(runner.pipeline, "validate_data", lambda *a, **k: (_ for _ in ()).throw(runner.InvalidDataError("stop")))
    with pytest.raises(runner.InvalidDataError):
        runner.run_pipeline(ROOT / "data", tmp_path / "out", parameters={"TIME_UNT": "weeks"}, log=lines.append)
    # validation comes first: nothing reported yet; the check itself is a pure function of the notebooks
    unknown = [n for n in ("TIME_UNT", "TIME_UNIT") if not any(
        n in (runner.declared_parameters(nb) or {n}) for nb in runner.discover_notebooks())]
    assert unknown == ["TIME_UNT"]
