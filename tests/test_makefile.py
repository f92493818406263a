"""The Makefile from a shell: paths with spaces and accents, and the runner's exit codes in make's message.

GNU make itself exits with 2 whenever a recipe fails (it has no way to pass a recipe's status on); what
reaches the caller of make is the runner's message and make's "Error N" line with the runner's code N.
A script that needs the code itself calls `python -m src.runner` (tested here too).
"""
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from src.helpers import ROOT

EXAMPLE = ROOT / "data" / "examples" / "cohort250"


def make(*args):
    # -o: never rebuild the virtual environment from inside a test
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed", *args],
                          capture_output=True, text=True, timeout=600)


def bundled_copy(folder):
    folder.mkdir(parents=True)
    for name in ("patients.csv", "progression.csv", "adverse_events.csv", "published_results.csv"):
        shutil.copyfile(ROOT / "data" / name, folder / name)
    return folder


def test_make_check_takes_a_path_with_spaces_and_accents(tmp_path):
    data = tmp_path / "my exports" / "été 2021"
    shutil.copytree(EXAMPLE, data)
    result = make("check", f"DATA={data}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK (250 patients" in result.stdout


def test_make_run_takes_paths_with_spaces_and_accents(tmp_path):
    data = bundled_copy(tmp_path / "my data" / "cohorte été")
    out = tmp_path / "résultats du jour"
    result = make("run", f"DATA={data}", f"OUT={out}", "ONLY=01")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / "notebooks" / "01_cohort_flow.ipynb").is_file() and (out / ".haic-run.json").is_file()


def numeric_id_cohort(folder):
    """The example with patient identifiers 1, 2, 3, ... (numbers that any table of counts also prints)."""
    folder.mkdir()
    tables = {"patients": pd.read_csv(EXAMPLE / "patients.csv", dtype=str),
              "progression": pd.read_excel(EXAMPLE / "progression.xlsx", dtype=str),
              "adverse_events": pd.read_csv(EXAMPLE / "adverse_events.csv", dtype=str)}
    number = {pid: str(i) for i, pid in enumerate(tables["patients"]["patient_id"], start=1)}
    for name, df in tables.items():
        df.assign(patient_id=df["patient_id"].map(number)).to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_a_privacy_refusal_is_exit_3_and_make_says_error_3(tmp_path):
    data = numeric_id_cohort(tmp_path / "numeric")
    direct = subprocess.run([sys.executable, "-m", "src.runner", "--data", str(data), "--out", str(tmp_path / "a"),
                             "--only", "03"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert direct.returncode == 3, direct.stderr
    assert "pseudonyms" in direct.stderr and not (tmp_path / "a").exists()
    result = make("run", f"DATA={data}", f"OUT={tmp_path / 'b'}", "ONLY=03")
    assert result.returncode == 2  # GNU make's own status for any failed recipe
    assert "Error 3" in result.stderr and "nothing was published" in result.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("target", ["check", "run"])
def test_invalid_data_is_error_2_with_the_report(tmp_path, target):
    data = tmp_path / "bad"
    shutil.copytree(EXAMPLE, data)
    text = (data / "patients.csv").read_text().replace(",F,66,", ",F,-66,", 1)
    (data / "patients.csv").write_text(text)
    result = make(target, f"DATA={data}", f"OUT={tmp_path / 'out'}")
    assert result.returncode == 2
    assert "row 2" in result.stdout + result.stderr and "-66" in result.stdout + result.stderr
    assert "Error 2" in result.stderr and not (tmp_path / "out").exists()
