"""A cohort's tables, loaded and validated (`load_cohort`), and what is derived from them: times in a unit,
the overall-survival and post-progression (SPP) frames, Child-Pugh classes, two-level splits at a cut-off,
treatment eras, counts and proportions.

On the floor above `study` and `config` (tests/test_imports.py): statistics, the audit, the generators
and the notebooks (through `helpers`, which re-exports every name) read these, never the reverse.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from src.config import VALIDATED_VARIABLE, data_fingerprint
from src.study import DAYS_PER_MONTH

TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH, "years": 365.25}  # days per unit


def days_per(unit: str) -> float:
    """Days in one `unit` of `TIME_UNITS` (a clear error for any other unit)."""
    if unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit {unit!r}: use one of {', '.join(TIME_UNITS)}")
    return TIME_UNITS[unit]


def time_between(start, end, unit: str = "months") -> pd.Series:
    """Time from `start` to `end` in `unit` (days / days per unit; months are 30.4375 days)."""
    return (pd.to_datetime(end) - pd.to_datetime(start)).dt.days / days_per(unit)


def years_in(years, unit: str = "months") -> list:
    """Durations given in years, expressed in `unit` (1 year = 365.25 days = 12 months)."""
    return [y * TIME_UNITS["years"] / days_per(unit) for y in years]


RESPONSE_GROUPS = {"CR": "disease control", "PR": "disease control", "SD": "disease control",
                   "PD": "progressive disease", "NE": "not evaluated"}


def overall_survival_frame(tables: dict, unit: str = "months") -> pd.DataFrame:
    """One row per patient with `os_time` (first HAIC to death or last contact, in `unit`),
    `death` (1 = event, 0 = censored) and `response_group` (disease control =
    CR+PR+SD, progressive disease, not evaluated)."""
    df = tables["patients"].copy()
    df["os_time"] = time_between(df["first_haic_date"], df["last_followup_date"], unit)
    df["response_group"] = df["best_response"].map(RESPONSE_GROUPS)
    return df


def spp_frame(tables: dict, max_child_pugh: int = 8, unit: str = "months") -> pd.DataFrame:
    """Patients who progressed and kept a Child-Pugh score <= `max_child_pugh`.

    One row per patient with the values measured at progression, `sex`,
    `spp_time` (progression to death or last contact) and `os_time` (in `unit`),
    `death`, `sorafenib` (True for sorafenib salvage) and `salvage_group`
    ("sorafenib" / "other salvage").
    """
    prog = tables["progression"]
    base = tables["patients"][["patient_id", "sex", "first_haic_date", "last_followup_date", "death"]]
    df = prog[prog["child_pugh_score"] <= max_child_pugh].merge(base, on="patient_id", how="left")
    df["spp_time"] = time_between(df["progression_date"], df["last_followup_date"], unit)
    df["os_time"] = time_between(df["first_haic_date"], df["last_followup_date"], unit)
    df["sorafenib"] = df["salvage_treatment"].eq("sorafenib")
    df["salvage_group"] = np.where(df["sorafenib"], "sorafenib", "other salvage")
    return df.reset_index(drop=True)


def child_pugh_class(score) -> pd.Series:
    """Child-Pugh class from the score: A (5-6), B (7-9), C (10-15); NaN outside 5-15."""
    return pd.cut(pd.Series(score), bins=[4, 6, 9, 15], labels=["A", "B", "C"]).astype(object)


def split_at(x, cutoff, unit: str = "", strict: bool = False) -> pd.Series:
    """Label each value `"<cutoff"` / `">=cutoff"` (Tables 1 and 3 dichotomise so),
    or `"<=cutoff"` / `">cutoff"` with `strict=True` ("AFP > 500 ng/mL")."""
    x = pd.Series(x)
    above = x > cutoff if strict else x >= cutoff
    low, high = (f"<={cutoff}{unit}", f">{cutoff}{unit}") if strict else (f"<{cutoff}{unit}", f">={cutoff}{unit}")
    return pd.Series(np.where(above, high, low), index=x.index).where(x.notna())


def treatment_era(dates, era_start, first_year: int) -> pd.Series:
    """Ordered categorical era of each date: `"<first_year>-<year before era_start>"`
    before `era_start`, `"from <year of era_start>"` on or after it (both eras kept
    as categories even when one is empty)."""
    start = pd.Timestamp(era_start)
    first = f"{first_year}-{start.year - 1}" if first_year < start.year else f"before {start.year}"
    labels = [first, f"from {start.year}"]
    dates = pd.to_datetime(pd.Series(dates))
    era = pd.Series(np.where(dates < start, labels[0], labels[1]), index=dates.index).where(dates.notna())
    return era.astype(pd.CategoricalDtype(labels, ordered=True))


# --- loading -------------------------------------------------------------------------------------

def _validated_by_runner(data_dir, accept_warnings: bool):
    """The tables the runner validated for this run (`$HAIC_VALIDATED`, a pickle in the run's private
    stage folder), or None: when the variable is unset (a notebook run by hand or by nbval), when the
    data's bytes differ from those validated (`config.data_fingerprint`), or when the runner accepted warnings
    that this call does not (then the full validation says why)."""
    import os
    import pickle

    cached = os.environ.get(VALIDATED_VARIABLE)
    if not cached or not Path(cached).is_file():
        return None
    with open(cached, "rb") as handle:
        record = pickle.load(handle)
    if record.get("fingerprint") != data_fingerprint(data_dir):
        return None
    if record.get("warnings") and not accept_warnings:
        return None
    return record["tables"]


def load_cohort(data_dir, accept_warnings: bool = False) -> dict[str, pd.DataFrame]:
    """Load and validate `patients`, `progression` and `adverse_events`.

    Stops with `src.validate.DataValidationError` (listing every problem with
    file, row and column) before any analysis if a table breaks the data
    dictionary, or has plausibility warnings (an ALT of 999, a follow-up long
    after every other date) and `accept_warnings` is False.

    In a run of `python -m src.runner`, which validated the data once before any notebook, the
    tables it validated are used instead when the data are byte for byte those it validated
    (`_validated_by_runner`): the same tables, without validating them again in every kernel.
    """
    tables = _validated_by_runner(data_dir, accept_warnings)
    if tables is not None:
        return tables
    from src.validate import load_and_validate

    return load_and_validate(data_dir, accept_warnings=accept_warnings)


# --- counts and proportions ----------------------------------------------------------------------

def cross_counts(rows: pd.Series, columns: pd.Series, row_order, column_order) -> pd.DataFrame:
    """Counts of each (row, column) pair with every level of `row_order` x `column_order`
    listed (0 where none), also when there is no data at all."""
    counts = pd.DataFrame(0, index=pd.Index(list(row_order), name=rows.name),
                          columns=pd.Index(list(column_order), name=columns.name))
    for (r, c), n in pd.Series(list(zip(rows, columns)), dtype=object).value_counts().items():
        if r in counts.index and c in counts.columns:
            counts.loc[r, c] = int(n)
    return counts


def count_percent(values, order=None, denominator: int | None = None) -> pd.DataFrame:
    """Counts and percentages of each value, in `order` if given (absent values
    count 0); percent of `denominator` (default: the number of values)."""
    values = pd.Series(values)
    counts = values.value_counts(sort=order is None)
    if order is not None:
        counts = counts.reindex(list(order), fill_value=0)
    total = len(values) if denominator is None else denominator
    out = pd.DataFrame({"n": counts.astype(int), "percent": 100 * counts / total if total else np.nan})
    out.index.name = values.name
    return out


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval for the proportion k/n."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=alpha, method="beta")
    return float(low), float(high)


def patients_with_grade(events: pd.DataFrame, n_patients: int, min_grade: int = 3, terms=None) -> pd.DataFrame:
    """Patients with at least one event of grade >= `min_grade`, per term.

    `events` has `patient_id`, `term`, `grade`. A patient counts once per term.
    Returns a table indexed by term with `n` and `percent` (of `n_patients`);
    `terms` fixes which terms are listed (absent ones count 0), else the terms
    seen at that grade, most frequent first.
    """
    severe = events[events["grade"] >= min_grade].drop_duplicates(["patient_id", "term"])
    table = count_percent(severe["term"], order=terms, denominator=n_patients)
    table.index.name = "term"
    return table
