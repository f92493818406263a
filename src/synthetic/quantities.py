"""The results a cohort gives that the paper did not print (`member_quantities`): the appraisal's analyses
(notebook 07), the salvage delays and the follow-up, the hazard ratios of the factors the paper's model left
out, Kaplan-Meier medians by factor and survival at unprinted times, correlations between baseline values,
and the era of the first HAIC; each with an id, a group and a kind (hr / p / percent / r / months / days).
Computed with the pipeline's own functions (`src.stats.survival`, `src.stats.appraisal`, `src.cohort`) and
the notebooks' default definitions. `src/synthetic/ensemble.py` measures them over an ensemble of
reconstructions, `src/synthetic/truth.py` against a known truth.
"""
from __future__ import annotations

import contextlib
import re
import warnings

import numpy as np
import pandas as pd

from src import cohort
from src.stats import appraisal, survival
from src.study import ERA_START, PAPER_MODEL, TABLE3_CUTOFFS

# Analysis choices, as the defaults of notebooks 06 and 07 (from `src.study`; ERA_START too)
CUTOFFS = TABLE3_CUTOFFS
MODEL = PAPER_MODEL  # the paper's multivariable model
LANDMARK_DAYS = 30
RMST_TAU = 12  # months
OS_TIMES = (6, 18, 30)  # months: overall survival at times the paper did not print
SPP_TIMES = (3, 6, 12)  # months: SPP per group
CORRELATIONS = [("total_bilirubin", "albumin"), ("albumin", "prothrombin_activity"), ("afp", "dcp"),
                ("age", "total_bilirubin"), ("platelets", "prothrombin_activity")]


def quantity_id(quantity: str) -> str:
    """The id of a result from its wording ("time-dependent Cox p" -> "time_dependent_cox_p")."""
    return re.sub(r"[^a-z0-9]+", "_", quantity.lower()).strip("_")


def _q(rows, quantity, group, kind, value, id=None):
    rows.append({"id": id or quantity_id(quantity), "quantity": quantity, "group": group, "kind": kind,
                 "value": float(value) if value is not None and np.isfinite(value) else np.nan})


def member_quantities(tables: dict) -> pd.DataFrame:
    """The results of this cohort that the paper did not print: one row each (`quantity`,
    `group` of results, `kind` = hr / p / percent / r / months, `value`)."""
    rows: list = []
    with warnings.catch_warnings(), contextlib.redirect_stdout(None):
        warnings.simplefilter("ignore")
        spp = survival.add_factors(cohort.spp_frame(tables), CUTOFFS)
        spp["delay"] = cohort.time_between(spp["progression_date"], spp["salvage_start_date"], "months")
        factors = survival.table3_factors(CUTOFFS)
        _time_dependent_cox(rows, spp, factors)
        _salvage_delays(rows, spp)
        _treatment_comparisons(rows, spp)
        _factors_not_entered(rows, spp, factors)
        _medians_by_factor(rows, spp, factors)
        _followup_and_unprinted_times(rows, tables, spp)
        _correlations(rows, tables["patients"])
        _era_of_first_haic(rows, spp)
    return pd.DataFrame(rows)


def _time_dependent_cox(rows, spp, factors):
    """The appraisal's time-dependent Cox model (notebook 07), adjusted for the paper's other factors."""
    adjust = {k: factors[k] for k in MODEL if k != "sorafenib"}
    long = appraisal.td_cox_data(spp, "spp_time", "death", "delay", "sorafenib", adjust)
    td = appraisal.td_cox(long)
    _q(rows, "time-dependent Cox HR on sorafenib", "appraisal", "hr", td.get("hr"), id="td_cox_hr")
    _q(rows, "time-dependent Cox p", "appraisal", "p", td.get("p"), id="td_cox_p")


def _salvage_delays(rows, spp):
    """Salvage delays (progression to the start of salvage), per group, in days: median and longest."""
    for g, label in (("sorafenib", "sorafenib"), ("other salvage", "other")):
        d = (spp.loc[spp["salvage_group"] == g, "salvage_start_date"]
             - spp.loc[spp["salvage_group"] == g, "progression_date"]).dt.days.dropna()
        _q(rows, f"salvage delay, {g}: median (days)", "follow-up and delays", "days",
           d.median() if len(d) else np.nan, id=f"delay_median_{label}")
        _q(rows, f"salvage delay, {g}: longest (days)", "follow-up and delays", "days",
           d.max() if len(d) else np.nan, id=f"delay_max_{label}")


def _treatment_comparisons(rows, spp):
    """The appraisal's other comparisons of sorafenib and the other salvage (notebook 07): landmark, salvage
    from 2009, sorafenib against each kind of other option, restricted mean survival."""
    lm, _ = appraisal.landmark_frame(spp, "spp_time", LANDMARK_DAYS / cohort.days_per("months"), "delay",
                                     "sorafenib", labels=["sorafenib", "other salvage"])
    _q(rows, f"landmark ({LANDMARK_DAYS} days) log-rank p", "appraisal", "p",
       appraisal.logrank_subset(lm, "lm_time", "death", "lm_group")["p"], id="landmark_p")
    _q(rows, f"landmark ({LANDMARK_DAYS} days) HR, sorafenib vs other salvage", "appraisal", "hr",
       appraisal.cox_hr(lm, "lm_time", "death", "lm_group", "sorafenib", "other salvage")["hr"], id="landmark_hr")
    in_era = spp[spp["salvage_start_date"] >= pd.Timestamp(ERA_START)]
    _q(rows, "SPP log-rank p, salvage from 2009", "appraisal", "p",
       appraisal.logrank_subset(in_era, "spp_time", "death", "salvage_group")["p"], id="era_p")
    _q(rows, "SPP HR, sorafenib vs other salvage, salvage from 2009", "appraisal", "hr",
       appraisal.cox_hr(in_era, "spp_time", "death", "salvage_group", "sorafenib", "other salvage")["hr"], id="era_hr")
    for name, codes in (("best supportive care", ["bsc"]), ("active options", ["haic", "uft"])):
        part = spp[spp["sorafenib"] | spp["salvage_treatment"].isin(codes)]
        _q(rows, f"SPP log-rank p, sorafenib vs {name}", "appraisal", "p",
           appraisal.logrank_subset(part, "spp_time", "death", "salvage_group")["p"])
    _, diff = appraisal.rmst_comparison(spp, "spp_time", "death", "salvage_group",
                                        ["sorafenib", "other salvage"], RMST_TAU)
    _q(rows, f"RMST difference to {RMST_TAU} months", "appraisal", "months", diff.get("estimate"), id="rmst_difference")
    _q(rows, "RMST difference p", "appraisal", "p", diff.get("p"), id="rmst_p")


def _factors_not_entered(rows, spp, factors):
    """Cox hazard ratios and p of the factors the paper did not enter, each with the model's three."""
    for key in factors:
        if key in MODEL:
            continue
        cov = {k: factors[k] for k in (key, *MODEL)}
        t = survival.cox_table(spp, "spp_time", "death", cov).set_index("key")
        _q(rows, f"Cox HR of {survival.TABLE3_NAMES[key].split(' (')[0]} in the paper's model",
           "Cox, factors not entered", "hr", t.at[key, "hr"])
        _q(rows, f"Cox p of {survival.TABLE3_NAMES[key].split(' (')[0]} in the paper's model",
           "Cox, factors not entered", "p", t.at[key, "p"])


def _medians_by_factor(rows, spp, factors):
    """Kaplan-Meier medians of each factor's two levels (Table 3's univariate analysis; the paper printed p only)."""
    for key, (column, *levels) in factors.items():
        name = survival.TABLE3_NAMES[key].split(" (")[0]
        for i, level in enumerate(levels):
            sub = spp[spp[column] == level]
            _q(rows, f"median SPP, {name} {level} (months)", "Kaplan-Meier medians by factor", "months",
               survival.km_fit(sub["spp_time"], sub["death"]).median_survival_time_ if len(sub) else np.nan,
               id=f"spp_median_{key}_{i}")


def _followup_and_unprinted_times(rows, tables, spp):
    """Median follow-up (reverse Kaplan-Meier) of all patients and of the SPP cohort; overall survival and
    SPP per group at times the paper did not print."""
    os_ = cohort.overall_survival_frame(tables)
    _q(rows, "median follow-up, all patients (months, reverse Kaplan-Meier)", "follow-up and delays", "months",
       survival.followup_summary(os_["os_time"], os_["death"])["median"], id="followup_median")
    _q(rows, "median follow-up, SPP cohort (months, reverse Kaplan-Meier)", "follow-up and delays", "months",
       survival.followup_summary(spp["spp_time"], spp["death"])["median"], id="spp_followup_median")
    kmf = survival.km_fit(os_["os_time"], os_["death"])
    for t_ in OS_TIMES:
        _q(rows, f"OS at {t_} months (%)", "Kaplan-Meier, unprinted times", "percent",
           100 * float(kmf.survival_function_at_times(t_).iloc[0]))
    for g in ("sorafenib", "other salvage"):
        sub = spp[spp["salvage_group"] == g]
        kmf = survival.km_fit(sub["spp_time"], sub["death"])
        for t_ in SPP_TIMES:
            _q(rows, f"SPP at {t_} months, {g} (%)", "Kaplan-Meier, unprinted times", "percent",
               100 * float(kmf.survival_function_at_times(t_).iloc[0]))


def _correlations(rows, base):
    """Spearman correlations between baseline factors (`CORRELATIONS`, and bilirubin with ascites)."""
    for a, b in CORRELATIONS:
        if a in base and b in base:
            _q(rows, f"Spearman r, {a} and {b} (baseline)", "correlations", "r",
               base[a].rank().corr(base[b].rank()))
    if "ascites" in base:
        _q(rows, "Spearman r, total_bilirubin and ascites (baseline)", "correlations", "r",
           base["total_bilirubin"].rank().corr(base["ascites"].eq("yes").astype(float).rank()))


def _era_of_first_haic(rows, spp):
    """Overall survival of the 38 by the era of their first HAIC: log-rank p, HR, and the share from 2009."""
    spp = spp.assign(era=np.where(spp["first_haic_date"] >= pd.Timestamp(ERA_START), "from 2009", "2005-2008"))
    _q(rows, "OS of the SPP cohort by era of the first HAIC: log-rank p", "era", "p",
       survival.logrank(spp, "os_time", "death", "era")[1])
    t = survival.cox_table(spp, "os_time", "death", {"era": ("era", "2005-2008", "from 2009")}).set_index("key")
    _q(rows, "OS of the SPP cohort, HR from 2009 vs 2005-2008", "era", "hr", t.at["era", "hr"])
    _q(rows, "share of the SPP cohort treated from 2009 (%)", "era", "percent", 100 * (spp["era"] == "from 2009").mean())
