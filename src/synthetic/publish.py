"""Print a cohort's "paper": every published id, computed by the pipeline, at the paper's decimals.

`make publish DATA=folder TARGETS=file` (``python -m src.synthetic.publish --data folder --targets file``)
reads any cohort in the data contract and writes a targets file in the shape of
`data/published_results.csv`: the same ids, decimals, statistics, sources and notebooks, with
`value` replaced by what the notebooks compute on that cohort. Nothing is computed here: the
notebooks run (through `src.runner`, on a copy of the three tables beside the bundled
`published_results.csv` as template, so each notebook writes its ``paper_vs_run`` table) and
the ``reproduced`` column of those tables (the notebooks run with ``FIGURES = False``: no figure is
drawn, which no published number needs), already printed at the paper's decimals by
`paper.format_number`, is the new value. The pipeline's functions are therefore the only
implementation of every statistic.

A template id printed as a bound (``relation`` ``<``, e.g. P < 0.001) stays a bound when the
cohort's value is below it, and becomes an equality otherwise. An id that the notebooks do not
compute on this cohort (a column left out) is left out of the targets file.

The targets file is what `make data TARGETS=file OUT=folder SEED=n` reconstructs from, so that
any cohort's printed numbers can be reconstructed and the reconstruction compared with the
cohort (`src/synthetic/ensemble.py`).
"""
from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from src.config import PUBLISHED_RESULTS as TEMPLATE
from src.config import PUBLISHED_RESULTS_NAME, ROOT
from src.config import TABLE_NAMES as TABLES
#: notebooks that compute published numbers (the others only compare or audit)
PUBLISHING_NOTEBOOKS = ("01", "02", "03", "04", "05", "06")


def _copy_tables(data_dir: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        found = [p for p in Path(data_dir).glob(f"{name}.*") if p.suffix in (".csv", ".xlsx", ".sav")]
        if len(found) != 1:
            raise FileNotFoundError(f"{data_dir}: expected one {name}.csv/.xlsx/.sav, found {len(found)}")
        shutil.copyfile(found[0], target / found[0].name)


def run_notebooks(data_dir, work: Path, template=TEMPLATE, accept_warnings: bool = True) -> Path:
    """Run the publishing notebooks on a copy of `data_dir` (with `template` beside it); return the
    folder of their tables."""
    data = work / "data"
    _copy_tables(Path(data_dir), data)
    shutil.copyfile(template, data / PUBLISHED_RESULTS_NAME)
    out = work / "out"
    reports = work / "tables"
    reports.mkdir()
    only = ",".join(f"{nb}_" for nb in PUBLISHING_NOTEBOOKS)  # one run of the six notebooks
    cmd = [sys.executable, "-m", "src.runner", "--data", str(data), "--out", str(out), "--only", only,
           "--no-private", "--no-report", "-p", "FIGURES=False"] + (["--accept-warnings"] if accept_warnings else [])
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"notebooks {only} failed on {data_dir} (exit {done.returncode}):\n"
                           f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    for path in (out / "tables").glob("paper_vs_run_*.csv"):
        shutil.copyfile(path, reports / path.name)
    return reports


def targets_from_reports(reports: Path, template=TEMPLATE) -> pd.DataFrame:
    """The template's rows with `value` (and `relation`) from the notebooks' ``reproduced`` column."""
    computed = {}
    for path in sorted(reports.glob("paper_vs_run_*.csv")):
        for row in pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records"):
            if row["reproduced"] not in ("", "nan", "NA") and row["id"] not in computed:
                computed[row["id"]] = row["reproduced"]
    tpl = pd.read_csv(template, dtype=str, keep_default_na=False)
    rows = []
    for row in tpl.to_dict("records"):
        if row["id"] not in computed:
            continue
        value = computed[row["id"]]
        if row["relation"] == "<" and float(value) < float(row["value"]):
            value = row["value"]  # still below the printed bound
        else:
            row["relation"] = "="
        row["value"] = value
        rows.append(row)
    return pd.DataFrame(rows, columns=tpl.columns)


def publish(data_dir, targets_path, template=TEMPLATE) -> pd.DataFrame:
    """Write the targets file of the cohort in `data_dir` (see the module docstring); return it."""
    with tempfile.TemporaryDirectory(prefix="haic-publish-") as tmp:
        reports = run_notebooks(data_dir, Path(tmp), template)
        targets = targets_from_reports(reports, template)
    Path(targets_path).parent.mkdir(parents=True, exist_ok=True)
    targets.to_csv(targets_path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return targets


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src.synthetic.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="cohort folder (patients, progression, adverse_events)")
    parser.add_argument("--targets", required=True, help="targets file to write (shape of published_results.csv)")
    parser.add_argument("--template", default=str(TEMPLATE), help="ids, decimals and sources to print")
    args = parser.parse_args(argv)
    targets = publish(args.data, args.targets, args.template)
    n_template = len(pd.read_csv(args.template))
    print(f"wrote {len(targets)} of {n_template} published ids to {args.targets}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
