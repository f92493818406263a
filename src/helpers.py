"""Small shared helpers for the HAIC notebooks.

Every notebook calls these functions instead of repeating code: where the
files are, how the validated tables are loaded, how times are derived from
dates, how tables and figures are written, and how a number computed here is
set beside the number the paper printed.

Sections: paths and setup; loading and derived frames; writing results;
comparison with the paper. Survival-analysis helpers live in `src/survival.py`.
"""
from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DAYS_PER_MONTH = 30.4375  # 365.25 / 12: the time unit of every survival estimate
SYNTHETIC_NOTE = (
    "The bundled data are a reconstructed **synthetic** cohort, built to match the "
    "paper's published aggregates; they are not the records of real patients."
)


# --- paths and setup --------------------------------------------------------

def resolve_paths(data_dir=None, output_dir=None) -> SimpleNamespace:
    """Return the folders a notebook reads and writes, creating the output ones.

    `data_dir=None` means the bundled synthetic cohort in `data/`;
    `output_dir=None` means `$HAIC_OUTPUT_DIR` if set (the test suite uses it so
    that nbval never touches the committed results), else `outputs/`.
    Returns a namespace with `data`, `output`, `tables`, `figures` and
    `published` (the paper's numbers, or None when the folder has none).
    """
    data = Path(data_dir) if data_dir else ROOT / "data"
    output = Path(output_dir or os.environ.get("HAIC_OUTPUT_DIR") or ROOT / "outputs")
    tables, figures = output / "tables", output / "figures"
    for folder in (tables, figures):
        folder.mkdir(parents=True, exist_ok=True)
    published = data / "published_results.csv"
    return SimpleNamespace(data=data.resolve(), output=output.resolve(), tables=tables,
                           figures=figures, published=published if published.exists() else None)


def setup_plots() -> None:
    """Set one plotting style for all notebooks (explicit call, no import side effects)."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="ticks")
    mpl.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight",
                         "axes.spines.top": False, "axes.spines.right": False})
    pd.set_option("display.max_columns", 40)


# --- loading and derived frames ---------------------------------------------

def load_cohort(data_dir) -> dict[str, pd.DataFrame]:
    """Load and validate `patients`, `progression` and `adverse_events`.

    Stops with `src.validate.DataValidationError` (listing every problem with
    file, row and column) before any analysis if a table breaks the data
    dictionary.
    """
    from src.validate import load_and_validate

    return load_and_validate(data_dir)


def months_between(start, end) -> pd.Series:
    """Time from `start` to `end` in months (days / 30.4375)."""
    return (pd.to_datetime(end) - pd.to_datetime(start)).dt.days / DAYS_PER_MONTH


RESPONSE_GROUPS = {"CR": "disease control", "PR": "disease control", "SD": "disease control",
                   "PD": "progressive disease", "NE": "not evaluated"}


def overall_survival_frame(tables: dict) -> pd.DataFrame:
    """One row per patient with `os_months` (first HAIC to death or last contact),
    `death` (1 = event, 0 = censored) and `response_group` (disease control =
    CR+PR+SD, progressive disease, not evaluated)."""
    df = tables["patients"].copy()
    df["os_months"] = months_between(df["first_haic_date"], df["last_followup_date"])
    df["response_group"] = df["best_response"].map(RESPONSE_GROUPS)
    return df


def spp_frame(tables: dict, max_child_pugh: int = 8) -> pd.DataFrame:
    """Patients who progressed and kept a Child-Pugh score <= `max_child_pugh`.

    One row per patient with the values measured at progression, `sex`,
    `spp_months` (progression to death or last contact), `os_months`,
    `death`, `sorafenib` (True for sorafenib salvage) and `salvage_group`
    ("sorafenib" / "other salvage").
    """
    prog = tables["progression"]
    base = tables["patients"][["patient_id", "sex", "first_haic_date", "last_followup_date", "death"]]
    df = prog[prog["child_pugh_score"] <= max_child_pugh].merge(base, on="patient_id", how="left")
    df["spp_months"] = months_between(df["progression_date"], df["last_followup_date"])
    df["os_months"] = months_between(df["first_haic_date"], df["last_followup_date"])
    df["sorafenib"] = df["salvage_treatment"].eq("sorafenib")
    df["salvage_group"] = np.where(df["sorafenib"], "sorafenib", "other salvage")
    return df.reset_index(drop=True)


# --- writing results --------------------------------------------------------

def write_table(df: pd.DataFrame, name: str, paths: SimpleNamespace, index: bool = False) -> pd.DataFrame:
    """Write `df` to `tables/<name>.csv`, `.md` and `.html`; return it for display."""
    df.to_csv(paths.tables / f"{name}.csv", index=index, lineterminator="\n")
    (paths.tables / f"{name}.md").write_text(df.to_markdown(index=index) + "\n")
    (paths.tables / f"{name}.html").write_text(df.to_html(index=index, na_rep="") + "\n")
    return df


def savefig(fig, name: str, paths: SimpleNamespace):
    """Save a matplotlib figure as `figures/<name>.png` (no timestamp metadata)."""
    fig.savefig(paths.figures / f"{name}.png", metadata={"Software": None})
    return fig


# --- comparison with the paper ----------------------------------------------

def read_published(paths: SimpleNamespace) -> pd.DataFrame | None:
    """The paper's printed numbers (`published_results.csv`), or None for other data."""
    if paths.published is None:
        return None
    return pd.read_csv(paths.published, dtype={"value": str})


def round_half_up(x: float, decimals: int) -> Decimal:
    """Round like a printed table (0.0445 -> 0.045 at 3 decimals; decimals may be negative)."""
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP)


def format_number(x: float, decimals: int) -> str:
    """`x` as the paper would print it with `decimals` decimals."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    return f"{round_half_up(x, decimals):f}" if decimals >= 0 else f"{round_half_up(x, decimals):.0f}"


def compare_value(published: str, relation: str, decimals: int, reproduced) -> str:
    """'match' if `reproduced`, printed at `decimals`, equals `published` (or satisfies
    `relation` '<'), 'differs' otherwise, 'not computed' if it is missing."""
    if reproduced is None or (isinstance(reproduced, float) and np.isnan(reproduced)):
        return "not computed"
    if relation == "<":
        return "match" if float(reproduced) < float(published) else "differs"
    return "match" if round_half_up(reproduced, decimals) == Decimal(published) else "differs"


def paper_vs_run(reproduced: dict, notebook: str, paths: SimpleNamespace) -> pd.DataFrame | None:
    """Set each reproduced number beside the published one and save the table.

    `reproduced` maps ids of `published_results.csv` to values computed in the
    notebook. Writes `tables/paper_vs_run_<notebook>.csv` (read by the runner
    for the scorecard) and returns the table; returns None when the data folder
    has no published results (a researcher's own cohort).
    """
    published = read_published(paths)
    if published is None:
        return None
    unknown = set(reproduced) - set(published["id"])
    if unknown:
        raise KeyError(f"ids not in published_results.csv: {sorted(unknown)}")
    rows = published[published["id"].isin(reproduced)].copy()
    rows["reproduced"] = [format_number(reproduced[i], d) for i, d in zip(rows["id"], rows["decimals"])]
    rows["status"] = [compare_value(v, r, d, reproduced[i])
                      for i, v, r, d in zip(rows["id"], rows["value"], rows["relation"], rows["decimals"])]
    rows["published"] = np.where(rows["relation"].eq("<"), "<" + rows["value"], rows["value"])
    rows["note"] = ""
    table = rows[["id", "source", "published", "reproduced", "status", "note"]].reset_index(drop=True)
    write_table(table, f"paper_vs_run_{notebook}", paths)
    return table
