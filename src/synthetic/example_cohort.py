"""A second synthetic cohort, of another size and shape, to try the pipeline on "your own" data.

The bundled cohort in `data/` is calibrated to one paper (`src/synthetic/reconstruct.py`). A researcher's
cohort will look different: more patients, other salvage options, columns their hospital does not
record, a table exported from a spreadsheet. This module writes such a cohort, deterministically
from a seed, with its own parameters (`EXAMPLE`), and nothing calibrated to the paper:

    python -m src.synthetic.example_cohort --seed 2026 --out data/examples/cohort250

It is **synthetic**: no real patient. Survival times are drawn from exponential models whose hazard
ratios are the parameters below, so the notebooks find effects of a known direction. The written
tables obey every rule of `src/validate/` (date order, sorafenib after approval and after
progression, Child-Pugh score compatible with its components, age at progression).
"""
from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from src.config import DEFAULT_DICTIONARY
from src.study import DAYS_PER_MONTH, MIN_SESSION_INTERVAL_DAYS, RESPONSE_ASSESSMENT_DAYS
from src.validate import child_pugh_points_range, read_dictionary

DEFAULT_SEED = 2026

# Parameters of the example cohort (design choices, not results of any study)
EXAMPLE = {
    "n_patients": 250,
    "id_prefix": "SITE2-",                      # identifiers with a hyphen: easy to search for in outputs
    "enrol": ("2012-01-01", "2019-12-31"),      # first HAIC session
    "cutoff": "2021-06-30",                     # end of follow-up
    "response": {"CR": 0.04, "PR": 0.18, "SD": 0.28, "PD": 0.42, "NE": 0.08},
    "later_progression": 0.5,                   # share of disease-control patients who progress later
    "salvage": {"sorafenib": 0.5, "haic": 0.2, "bsc": 0.3},   # no tegafur-uracil (uft) arm
    "median_os_months": {"CR": 40.0, "PR": 22.0, "SD": 15.0, "PD": 7.0, "NE": 4.0},
    "median_spp_months": 4.0,                   # reference: other salvage, bilirubin < 1, no ascites
    "spp_hazard_ratio": {"no_sorafenib": 1.8, "ascites": 2.2, "bilirubin_ge_1": 1.5},
    "loss_to_followup": 0.15,                   # share censored early (moved away)
    "dropped_columns": {"patients": ["etiology", "tnm_stage", "dcp"], "progression": ["dcp", "tumor_count"]},
    "xlsx_tables": ["progression"],             # one site's export arrives as a spreadsheet
}


def _labs(rng, n, worse=0.0) -> dict:
    """Laboratory values at one time point (`worse` shifts them towards liver failure)."""
    return {
        "alt": np.round(np.exp(rng.normal(3.7 + 0.2 * worse, 0.6, n))).clip(5, 900),
        "ast": np.round(np.exp(rng.normal(4.1 + 0.3 * worse, 0.6, n))).clip(8, 1500),
        "total_bilirubin": np.round(np.exp(rng.normal(-0.15 + 0.25 * worse, 0.4, n)), 1).clip(0.2, 4.5),
        "albumin": np.round(rng.normal(3.6 - 0.3 * worse, 0.45, n), 1).clip(2.2, 5.0),
        "prothrombin_activity": np.round(rng.normal(85 - 6 * worse, 14, n)).clip(35, 130),
        "platelets": np.round(np.exp(rng.normal(2.4, 0.45, n)), 1).clip(2.0, 60.0),
        "afp": np.round(np.exp(rng.normal(5.5 + 0.5 * worse, 2.5, n))).clip(1, 2_000_000),
        "dcp": np.round(np.exp(rng.normal(6.0 + 0.5 * worse, 2.5, n))).clip(5, 2_000_000),
        "ascites": np.where(rng.random(n) < 0.2 + 0.15 * worse, "yes", "no"),
        "pvtt": np.where(rng.random(n) < 0.45 + 0.1 * worse, "yes", "no"),
        "tumor_distribution": np.where(rng.random(n) < 0.6, "bilateral", "unilateral"),
        "tumor_count": rng.integers(1, 15, n),
        "max_tumor_size_mm": np.round(np.exp(rng.normal(3.9 + 0.1 * worse, 0.5, n))).clip(10, 250),
    }


def _child_pugh(rng, labs: dict) -> np.ndarray:
    """A Child-Pugh score inside the range its components allow (encephalopathy mostly absent)."""
    low, high = child_pugh_points_range(*(pd.Series(labs[c]) for c in
                                          ("total_bilirubin", "albumin", "prothrombin_activity", "ascites")))
    extra = rng.choice([0, 0, 0, 1], len(low))
    return np.minimum(low.to_numpy(int) + extra, high.to_numpy(int))


def _days(ts: pd.Series | pd.Timestamp, days) -> pd.Series:
    return ts + pd.to_timedelta(np.asarray(days, dtype=float).round(), unit="D")


def build_example(seed: int = DEFAULT_SEED, params: dict = EXAMPLE) -> dict[str, pd.DataFrame]:
    """The three tables of the example cohort (deterministic for a seed), all columns present."""
    rng = np.random.default_rng(seed)
    n = params["n_patients"]
    start, end = (pd.Timestamp(d) for d in params["enrol"])
    cutoff = pd.Timestamp(params["cutoff"])
    ids = [f"{params['id_prefix']}{k:04d}" for k in range(1, n + 1)]
    first = pd.Series(np.sort(start + pd.to_timedelta(rng.integers(0, (end - start).days + 1, n), unit="D")))
    labs = _labs(rng, n)
    patients = pd.DataFrame({
        "patient_id": ids,
        "sex": np.where(rng.random(n) < 0.78, "M", "F"),
        "age": np.round(rng.normal(70, 9, n)).clip(35, 92).astype(int),
        "etiology": rng.choice(["HBV", "HCV", "alcohol", "other"], n, p=[0.15, 0.45, 0.2, 0.2]),
        "tnm_stage": rng.choice(["II", "III", "IVA", "IVB"], n, p=[0.1, 0.35, 0.4, 0.15]),
        "bclc_stage": rng.choice(["B", "C"], n, p=[0.3, 0.7]),
        "ecog_ps": rng.choice([0, 1, 2], n, p=[0.6, 0.3, 0.1]),
        "initial_treatment": rng.choice(["resection", "rfa_pei", "tace", "tace_rfa", "none"], n,
                                        p=[0.15, 0.15, 0.35, 0.1, 0.25]),
        **{c: labs[c] for c in ("alt", "total_bilirubin", "prothrombin_activity", "albumin", "platelets", "afp",
                                "dcp", "ascites", "pvtt", "tumor_distribution", "tumor_count", "max_tumor_size_mm")},
    })
    patients.insert(8, "child_pugh_score", _child_pugh(rng, labs))
    patients["first_haic_date"] = first
    response = rng.choice(list(params["response"]), n, p=list(params["response"].values()))
    patients["n_haic_sessions"] = np.where(np.isin(response, ["CR", "PR", "SD"]), rng.integers(2, 9, n),
                                           rng.integers(1, 4, n))
    patients["best_response"] = response
    # overall survival and progression
    med_os = np.array([params["median_os_months"][r] for r in response])
    os_days = rng.exponential(med_os * DAYS_PER_MONTH / np.log(2)) + 14
    progresses = (response == "PD") | (np.isin(response, ["CR", "PR", "SD"]) & (rng.random(n) < params["later_progression"]))
    ttp_days = np.where(response == "PD", rng.uniform(30, 75, n), rng.uniform(90, 400, n))
    prog_idx = np.nonzero(progresses)[0]
    m = len(prog_idx)
    prog_labs = _labs(rng, m, worse=1.0)
    salvage = rng.choice(list(params["salvage"]), m, p=list(params["salvage"].values()))
    hr = params["spp_hazard_ratio"]
    lin = (np.log(hr["no_sorafenib"]) * (salvage != "sorafenib") + np.log(hr["ascites"]) * (prog_labs["ascites"] == "yes")
           + np.log(hr["bilirubin_ge_1"]) * (prog_labs["total_bilirubin"] >= 1.0))
    spp_days = rng.exponential(params["median_spp_months"] * DAYS_PER_MONTH / np.log(2) / np.exp(lin)) + 10
    os_days[prog_idx] = ttp_days[prog_idx] + spp_days
    # censoring: administrative at the cut-off, and a few lost to follow-up
    end_days = (cutoff - first).dt.days.to_numpy().astype(float)
    lost = rng.random(n) < params["loss_to_followup"]
    end_days = np.where(lost, np.minimum(end_days, rng.uniform(60, 900, n)), end_days)
    end_days[prog_idx] = np.maximum(end_days[prog_idx], ttp_days[prog_idx] + 30)  # progression seen before censoring
    death = os_days <= end_days
    follow = np.round(np.where(death, os_days, end_days))
    patients["last_followup_date"] = _days(first, follow)
    patients["death"] = death.astype(int)
    # the protocol's schedule (validate rules 8 and 9): sessions 4 weeks apart before progression or the
    # end of follow-up; no response assessed without 4 weeks of follow-up
    span = np.where(progresses, ttp_days, follow)
    patients["n_haic_sessions"] = np.minimum(patients["n_haic_sessions"], 1 + span // MIN_SESSION_INTERVAL_DAYS)
    patients["best_response"] = np.where(follow < RESPONSE_ASSESSMENT_DAYS, "NE", response)
    # progression table
    prog_date = _days(first.iloc[prog_idx].reset_index(drop=True), ttp_days[prog_idx])
    last = patients["last_followup_date"].iloc[prog_idx].reset_index(drop=True)
    gap = np.minimum(rng.uniform(5, 30, m), (last - prog_date).dt.days.to_numpy())
    years = ((prog_date - first.iloc[prog_idx].reset_index(drop=True)).dt.days // 365).to_numpy()
    progression = pd.DataFrame({
        "patient_id": np.array(ids)[prog_idx], "progression_date": prog_date,
        "age": patients["age"].to_numpy()[prog_idx] + years,
        "ecog_ps": np.minimum(patients["ecog_ps"].to_numpy()[prog_idx] + rng.choice([0, 0, 1], m), 3),
        "child_pugh_score": _child_pugh(rng, prog_labs),
        **{c: prog_labs[c] for c in ("alt", "ast", "total_bilirubin", "albumin", "prothrombin_activity", "platelets",
                                     "afp", "dcp", "ascites", "pvtt", "tumor_distribution", "tumor_count",
                                     "max_tumor_size_mm")},
        "salvage_treatment": salvage, "salvage_start_date": _days(prog_date, gap),
    })
    # progressive disease: the largest tumour has not shrunk (validate rule 10)
    is_pd = response[prog_idx] == "PD"
    baseline_size = patients["max_tumor_size_mm"].to_numpy()[prog_idx]
    progression.loc[is_pd, "max_tumor_size_mm"] = np.maximum(progression["max_tumor_size_mm"], baseline_size)[is_pd]
    return {"patients": patients, "progression": progression, "adverse_events": _adverse_events(rng, ids)}


def _adverse_events(rng, ids) -> pd.DataFrame:
    """About one event per patient: a term of the dictionary, a grade, rarely a discontinuation."""
    dictionary = read_dictionary(DEFAULT_DICTIONARY)
    terms = dictionary.loc[(dictionary["table"] == "adverse_events") & (dictionary["column"] == "term"),
                           "allowed"].iloc[0].split("|")
    k = rng.poisson(1.0, len(ids))
    who = np.repeat(ids, k)
    events = pd.DataFrame({"patient_id": who, "term": rng.choice(terms, len(who)),
                           "grade": rng.choice([1, 2, 3, 4], len(who), p=[0.45, 0.35, 0.17, 0.03])})
    events = events.drop_duplicates(["patient_id", "term"]).reset_index(drop=True)
    events["led_to_discontinuation"] = ((events["grade"] >= 3) & (rng.random(len(events)) < 0.1)).astype(int)
    return events


XLSX_STAMP = "2020-01-01T00:00:00Z"  # written into every .xlsx instead of the time of writing


def write_xlsx(df: pd.DataFrame, path: Path, sheet: str) -> None:
    """`df` as an Excel sheet whose bytes depend only on its content: openpyxl records the time of
    writing in docProps/core.xml and in the zip entries, so both are replaced by fixed values."""
    buffer = io.BytesIO()
    df.to_excel(buffer, sheet_name=sheet, index=False)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", XLSX_STAMP.encode(), data)
            entry = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = item.external_attr
            dst.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)


def write_example(tables: dict, out_dir, params: dict = EXAMPLE) -> list[Path]:
    """Drop the columns the example does without and write each table as CSV (or `.xlsx`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    dictionary = read_dictionary(DEFAULT_DICTIONARY)
    for name, df in tables.items():
        order = dictionary.loc[dictionary["table"] == name, "column"]
        df = df[[c for c in order if c in df.columns and c not in params["dropped_columns"].get(name, [])]].copy()
        for c in df.columns[df.dtypes.astype(str).str.startswith("datetime")]:
            df[c] = df[c].dt.strftime("%Y-%m-%d")
        for c in df.columns[df.dtypes == float]:
            if (df[c] == df[c].round()).all():  # 71.0 -> 71
                df[c] = df[c].astype(int)
        for suffix in (".csv", ".xlsx"):
            (out / f"{name}{suffix}").unlink(missing_ok=True)
        if name in params["xlsx_tables"]:
            path = out / f"{name}.xlsx"
            write_xlsx(df, path, name)
        else:
            path = out / f"{name}.csv"
            df.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", required=True, help="folder to write the tables to")
    args = parser.parse_args(argv)
    for path in write_example(build_example(args.seed), args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
