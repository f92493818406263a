"""A run with notebooks side by side (HAIC_JOBS) writes the same bytes as one notebook after another.

Two notebooks that do not wait for each other (03 and 04) run once with HAIC_JOBS=1 and once with
HAIC_JOBS=2; every file of the two output folders (tables, figures, executed notebooks, report, Word
file, stamp) must be byte for byte the same.
"""
from pathlib import Path

from src.helpers import ROOT
from src.runner import discover_notebooks, run_pipeline


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_parallel_and_sequential_runs_write_the_same_bytes(tmp_path, monkeypatch):
    notebooks = [nb for nb in discover_notebooks() if nb.name[:2] in ("03", "04")]
    assert len(notebooks) == 2
    runs = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("HAIC_JOBS", jobs)
        out = run_pipeline(ROOT / "data", tmp_path / f"jobs{jobs}", notebooks, log=lambda *a, **k: None)
        runs[jobs] = _files(out)
    assert runs["1"].keys() == runs["2"].keys()
    differ = [name for name in runs["1"] if runs["1"][name] != runs["2"][name]]
    assert differ == [], f"files that differ between a sequential and a parallel run: {differ}"


def test_kernels_use_the_runners_validated_tables_only_for_the_same_bytes(tmp_path, monkeypatch):
    import shutil

    import pandas as pd

    from src import helpers
    from src.runner.kernels import save_validated

    data = tmp_path / "data"
    data.mkdir()
    for f in (ROOT / "data").iterdir():
        if f.is_file():
            shutil.copy(f, data / f.name)
    marker = {"patients": pd.DataFrame({"marker": [1]})}
    stage = tmp_path / "stage"
    stage.mkdir()
    path = save_validated(stage, data, marker, warnings_accepted=False)
    monkeypatch.delenv(helpers.VALIDATED_VARIABLE, raising=False)
    assert "marker" not in helpers.load_cohort(data)["patients"]  # not in a runner's kernel: validated here
    monkeypatch.setenv(helpers.VALIDATED_VARIABLE, str(path))
    assert list(helpers.load_cohort(data)["patients"].columns) == ["marker"]  # the runner's tables
    with open(data / "patients.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")  # another byte: the data are validated again, not taken from the runner
    assert "marker" not in helpers.load_cohort(data)["patients"]
    save_validated(stage, data, marker, warnings_accepted=True)  # the runner accepted warnings ...
    assert "marker" not in helpers.load_cohort(data)["patients"]  # ... which this call does not
    assert list(helpers.load_cohort(data, accept_warnings=True)["patients"].columns) == ["marker"]
