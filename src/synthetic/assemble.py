"""Steps 5 and 6: the three tables of a reconstructed cohort from its calibrated times (`cohort_tables`).

Salvage options and eras (Figure 1), dates (`src/synthetic/dates.py`), best responses and session counts
(`src/synthetic/treatment.py`), the baseline table (`src/synthetic/baseline.py`) with the values at
progression of the 38 from step 3, the progression table, and the adverse events; patients numbered in the
order of their first HAIC.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from src.synthetic.baseline import (baseline_ages, baseline_categoricals, baseline_labs, baseline_ps,
                                    baseline_stages, excluded_progression_values, subset_flags, tumour_sizes)
from src.synthetic.dates import assign_dates
from src.synthetic.marginals import child_pugh_min, counts_vector
from src.synthetic.treatment import adverse_events, assign_sessions

PATIENT_COLUMNS = ["patient_id", "sex", "age", "etiology", "tnm_stage", "bclc_stage", "ecog_ps", "initial_treatment",
                   "child_pugh_score", "alt", "total_bilirubin", "prothrombin_activity", "albumin", "platelets",
                   "afp", "dcp", "ascites", "pvtt", "tumor_distribution", "tumor_count", "max_tumor_size_mm",
                   "first_haic_date", "n_haic_sessions", "best_response", "last_followup_date", "death"]
PROGRESSION_COLUMNS = ["patient_id", "progression_date", "age", "ecog_ps", "child_pugh_score", "alt", "ast",
                       "total_bilirubin", "albumin", "prothrombin_activity", "platelets", "afp", "dcp", "ascites",
                       "pvtt", "tumor_distribution", "tumor_count", "max_tumor_size_mm", "salvage_treatment",
                       "salvage_start_date"]
LAB_COLUMNS = ("alt", "ast", "total_bilirubin", "albumin", "prothrombin_activity", "platelets", "afp", "dcp")


def role_counts(T) -> dict:
    """How many patients outside the SPP analysis have each response role: excluded (Child-Pugh >= 9 at
    progression), disease control, not evaluated."""
    return {"excluded": int(T["flow_n_cp_excluded"]), "dc": int(T["flow_n_disease_control"]),
            "ne": int(T["r_response_ne"])}


def _salvage_plan(T) -> list[tuple[str, str]]:
    """(salvage option, era) of each 'other salvage' patient, from Figure 1 as corrected."""
    plan = []
    for opt in ("haic", "uft", "bsc"):
        early = int(T[f"flow_n_{opt}_2005_2008"])
        late = int(T[f"flow_n_other_{opt}"]) - early
        plan += [(opt, "early")] * early + [(opt, "late")] * late
    return plan


def _salvage(rng, T, group):
    """Salvage option and era of each of the 38: sorafenib for the sorafenib group, the plan of Figure 1
    (`_salvage_plan`) in random order for the others."""
    n38 = len(group)
    oth_idx = np.nonzero(group == 0)[0]
    salvage = np.array(["sorafenib"] * n38, dtype=object)
    era = np.array([None] * n38, dtype=object)
    order = rng.permutation(len(oth_idx))
    for k, (opt, e) in zip(order, _salvage_plan(T)):
        salvage[oth_idx[k]], era[oth_idx[k]] = opt, e
    return salvage, era


def _timelines(rng, s, days, event, role, salvage, era):
    """Times to progression of every patient (NaN without progression; the excluded ones drawn) and the dates
    of each (`assign_dates`)."""
    n38, n_ex = len(s.group), int((role == "excluded").sum())
    ttp = np.r_[s.ttp_days, np.round(rng.uniform(28, 70, n_ex)), [np.nan] * (len(role) - n38 - n_ex)]
    ttp[n38:n38 + n_ex] = np.minimum(ttp[n38:n38 + n_ex], days[n38:n38 + n_ex] - 7)
    recs = []
    for i in range(len(role)):
        if i < n38:
            recs.append(assign_dates(rng, "pd", days[i], event[i], ttp[i], salvage[i], era[i]))
        elif role[i] == "excluded":
            recs.append(assign_dates(rng, "excluded", days[i], event[i], min(ttp[i], days[i] - 7), "bsc", None))
        else:
            recs.append(assign_dates(rng, role[i], days[i], event[i]))
    return ttp, pd.DataFrame(recs)


def _best_responses(rng, T, role) -> np.ndarray:
    """PD for the progressive and excluded patients, the printed CR/PR/SD counts for disease control, NE."""
    dc_resp = counts_vector(rng, {"CR": T["r_response_cr"], "PR": T["r_response_pr"], "SD": T["r_response_sd"]})
    return np.r_[["PD"] * int(np.isin(role, ["pd", "excluded"]).sum()), dc_resp, ["NE"] * int((role == "ne").sum())]


def _session_counts(rng, T, role, days, ttp) -> np.ndarray:
    """The printed session counts: more sessions for disease control, fewer for PD and not evaluated, all
    4 weeks apart within the span from the first HAIC to progression, else to the last follow-up."""
    ids = [i for i in T if i.startswith("r_sessions_") and i.endswith("_n")]
    sessions = np.repeat([int(i.split("_")[2]) for i in ids], [int(T[i]) for i in ids])
    pref = rng.random(len(role)) + np.where(role == "dc", 1.2, np.where(role == "ne", -0.5, 0))
    span = np.where(np.isnan(ttp), days, ttp)  # first HAIC to progression, else to the last follow-up
    return assign_sessions(sessions, span, pref)


def _baseline_people(rng, T, cols, n_total):
    """The baseline table's sex, age, performance status, ascites, PVTT and stages (one row per patient in
    role order, `row`), consistent with the 38's values at progression; and the 38's PS at progression."""
    n38 = len(cols["age"])
    prog_age = cols["age"].astype(int)
    patients = pd.DataFrame({"row": np.arange(n_total)})
    patients["sex"] = np.r_[np.where(cols["sex"] == "male", "M", "F"),
                            counts_vector(rng, {"M": T["t1_sex_male"] - (cols["sex"] == "male").sum(),
                                                "F": T["t1_sex_female"] - (cols["sex"] == "female").sum()})]
    patients["age"] = np.r_[prog_age, baseline_ages(rng, T, prog_age, n_total - n38)]
    ps_prog = np.where(cols["ps"] == "0", 0, rng.choice([1, 1, 2], n38))
    for _ in range(1000):  # redraw until enough patients (PS 0, no PVTT) can be BCLC stage B
        patients["ecog_ps"] = baseline_ps(rng, ps_prog, n_total, int(T["t1_ps_0"]))
        # ascites and PVTT at baseline: present at baseline only if present at progression for the PD patients
        patients["ascites"] = subset_flags(rng, np.r_[cols["ascites"] == "yes", np.ones(n_total - n38, bool)],
                                           int(T["t1_ascites_yes"]))
        patients["pvtt"] = subset_flags(rng, np.r_[cols["pvtt"] == "yes", np.ones(n_total - n38, bool)],
                                        int(T["t1_pvtt_yes"]))
        if ((patients["pvtt"] == "no") & (patients["ecog_ps"] == 0)).sum() >= int(T["t1_bclc_b"]):
            break
    patients["bclc_stage"], patients["tnm_stage"] = baseline_stages(rng, T, patients)
    return patients, ps_prog


def _baseline_table(rng, T, people, dates, n_sessions, best, event) -> pd.DataFrame:
    """The baseline table: `people` with Table 1's categorical and laboratory values, dates, sessions,
    response and death, sorted by the first HAIC and numbered P001, P002, ... in that order."""
    patients = people.copy()
    n_total = len(patients)
    for c, v in baseline_categoricals(rng, T, n_total).items():
        patients[c] = v
    for c, v in baseline_labs(rng, T, n_total, patients["ascites"].to_numpy()).items():
        patients[c] = v
    patients = pd.concat([patients, dates[["first_haic_date"]]], axis=1)
    patients["n_haic_sessions"] = n_sessions
    patients["best_response"] = best
    patients["last_followup_date"] = dates["last_followup_date"]
    patients["death"] = event.astype(int)
    patients = patients.sort_values(["first_haic_date", "row"], kind="stable")
    patients["patient_id"] = [f"P{k:03d}" for k in range(1, n_total + 1)]
    return patients


def _progression_table(rng, cols, ex_cols, dates, patients, ages, ps_prog, salvage) -> pd.DataFrame:
    """The progression table (in role order, `row`): the 38's values from step 3 and the excluded patients'
    (`ex_cols`), with a Child-Pugh score of at least 9 for the excluded."""
    n38, n = len(ps_prog), len(ages)
    id_of_row = dict(zip(patients["row"], patients["patient_id"]))
    prog = pd.DataFrame({"row": np.arange(n)})
    prog["patient_id"] = prog["row"].map(id_of_row)
    prog["progression_date"] = dates["progression_date"].iloc[:n].to_numpy()
    prog["age"] = ages
    prog["ecog_ps"] = np.r_[ps_prog, ex_cols.pop("ecog_ps")]
    for c in LAB_COLUMNS:
        prog[c] = np.r_[cols[c], ex_cols[c]]
    prog["ascites"] = np.r_[cols["ascites"], ex_cols["ascites"]]
    prog["pvtt"] = np.r_[cols["pvtt"], ex_cols["pvtt"]]
    prog["tumor_distribution"] = np.r_[cols["distribution"], ex_cols["tumor_distribution"]]
    prog["tumor_count"] = np.r_[np.where(cols["tumor_count"] == "lt4", rng.integers(1, 4, n38), rng.integers(4, 11, n38)),
                                ex_cols["tumor_count"]]
    prog["max_tumor_size_mm"] = np.r_[np.where(cols["tumor_size"] == "lt50", rng.integers(15, 50, n38),
                                               rng.integers(50, 161, n38)), ex_cols["max_tumor_size_mm"]]
    cp_min = child_pugh_min(prog["total_bilirubin"], prog["albumin"], prog["prothrombin_activity"], prog["ascites"])
    prog["child_pugh_score"] = np.r_[cp_min[:n38], np.maximum(cp_min[n38:], 9)].astype(int)
    prog["salvage_treatment"] = np.r_[salvage, ["bsc"] * (n - n38)]
    prog["salvage_start_date"] = dates["salvage_start_date"].iloc[:n].to_numpy()
    return prog


def _with_tumour_sizes(rng, patients, prog) -> pd.DataFrame:
    """`patients` with baseline tumour sizes no larger than at progression (`tumour_sizes`)."""
    patients = patients.copy()
    by_row = patients.set_index("row").sort_index()
    patients["max_tumor_size_mm"] = pd.Series(tumour_sizes(rng, by_row["max_tumor_size_mm"].to_numpy() < 50,
                                                           prog["max_tumor_size_mm"].to_numpy()),
                                              index=by_row.index).reindex(patients["row"]).to_numpy()
    return patients


def cohort_tables(rng, T, s, days, event, role) -> dict[str, pd.DataFrame]:
    """The three tables from the SPP state `s` of step 3 and the OS days, deaths and roles of step 4."""
    n38, n_ex = len(s.group), int((role == "excluded").sum())
    salvage, era = _salvage(rng, T, s.group)
    ttp, dates = _timelines(rng, s, days, event, role, salvage, era)
    best = _best_responses(rng, T, role)
    n_sessions = _session_counts(rng, T, role, days, ttp)
    ex_cols = excluded_progression_values(rng, n_ex)
    people, ps_prog = _baseline_people(rng, T, s.cols, len(role))
    prog_ages = people["age"].to_numpy()[:n38 + n_ex]  # the 38's and the excluded patients' (as at baseline)
    patients = _baseline_table(rng, T, people, dates, n_sessions, best, event)
    prog = _progression_table(rng, s.cols, ex_cols, dates, patients, prog_ages, ps_prog, salvage)
    patients = _with_tumour_sizes(rng, patients, prog)
    prog = prog.sort_values("patient_id")
    patients = patients.drop(columns="row")[PATIENT_COLUMNS]
    prog = prog.drop(columns="row")[PROGRESSION_COLUMNS]
    ae = adverse_events(rng, T, patients["patient_id"].to_numpy())
    return {"patients": patients.reset_index(drop=True), "progression": prog.reset_index(drop=True),
            "adverse_events": ae}
