"""Teaching: the traps of a survival comparison shown by simulation, and the power of such a comparison.

Statistics only (no figure is drawn here; the notebooks draw), and nothing here reads the cohort: the
simulations make their own patients from a seed, so they run the same on any data.

- Immortal (guarantee) time, seen: `simulate_immortal_time_cohort` makes one cohort in which a treatment
  starts some days after progression and does nothing (true hazard ratio 1); `immortal_time_estimates`
  analyses it three ways (`IMMORTAL_TIME_METHODS`: groups fixed at progression, the treatment as a
  time-varying covariate as `appraisal.td_cox` fits it, a landmark); `immortal_time_simulation` repeats
  this over seeded replicates and `immortal_time_summary` gives, per method, the median hazard ratio and
  the share of replicates with p < alpha. The Cox models of all replicates are fitted together by
  `src.stats.cox_one` (lifelines' numbers, in a fraction of lifelines' time).
- Power and sample size (Schoenfeld 1983): `power_for_events` (power of a two-sided log-rank test with a
  given number of deaths), `events_needed` (deaths, rounded up; `appraisal.deaths_needed` unrounded),
  `patients_needed`, `power_table` (the rows of `power.csv`) and `power_curve`.
- `binomial_band`: the range a share of replicates keeps around its nominal value by chance alone.

Every hazard ratio is treated vs other (below 1: the treated group seems to do better).
Imports: `src.stats.appraisal` (which holds Schoenfeld's formula and the time-varying and landmark analyses) and
`src.stats.cox_one` (the Cox fits of the simulation).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from src.stats import appraisal, cox_one
from src.study import DAYS_PER_MONTH

IMMORTAL_TIME_METHODS = ("fixed_groups", "time_varying_cox", "landmark")
METHOD_LABELS = {"fixed_groups": "Groups fixed at progression",
                 "time_varying_cox": "Treatment as a time-varying covariate (Cox)",
                 "landmark": "Landmark analysis"}
SUMMARY_COLUMNS = ["method", "replicates", "true_hr", "median_hr", "share_p_below_0_05"]
POWER_COLUMNS = ["hr", "alpha", "power", "allocation", "events_needed"]
GROUPS = ("treated", "other")


# --- immortal time, seen ---------------------------------------------------------------------

def _simulated_patients(n_patients, rng, median_months, treated_share, delay_days, followup_months) -> dict:
    """The columns of `simulate_immortal_time_cohort` but `group`, as arrays (the same draws in the same order)."""
    n = int(n_patients)
    death_time = rng.exponential(median_months / np.log(2), n)
    intends = rng.random(n) < treated_share
    delay = rng.integers(int(delay_days[0]), int(delay_days[1]) + 1, n) / DAYS_PER_MONTH
    time = np.minimum(death_time, followup_months)
    death = (death_time <= followup_months).astype(int)
    return {"time": time, "death": death, "delay": delay, "intends": intends, "treated": intends & (time > delay)}


def simulate_immortal_time_cohort(n_patients, rng, median_months=6.0, treated_share=0.5, delay_days=(14, 90),
                                  followup_months=24.0) -> pd.DataFrame:
    """One simulated cohort, time counted from progression in months, under no treatment effect.

    Every patient's death time is exponential with median `median_months`, whatever happens. A share
    `treated_share` of the patients would take the treatment, which starts a whole number of days after
    progression drawn uniformly from `delay_days` (lowest, highest; both included). A patient who dies
    before (or on the day) it would start never gets it and counts as "other". Follow-up stops at
    `followup_months` (censored alive). Columns: `time`, `death` (1/0), `delay` (months), `intends`
    (would take it), `treated` (started it), `group` ("treated" / "other")."""
    patients = _simulated_patients(n_patients, rng, median_months, treated_share, delay_days, followup_months)
    return pd.DataFrame({**patients, "group": np.where(patients["treated"], GROUPS[0], GROUPS[1])})


def _estimates_many(replicate, patients: dict, landmark_months, alpha, replicates) -> dict:
    """{method: (hazard ratios, Wald p)} of every replicate at once (arrays indexed by replicate), from the
    patients' arrays of `_simulated_patients` and each patient's `replicate` (`src.stats.cox_one`: the
    numbers of lifelines' fits, as `appraisal.cox_hr` and `appraisal.td_cox` give them)."""
    time, death, delay, intends = (patients[k] for k in ("time", "death", "delay", "intends"))
    fixed = cox_one.cox_hr_many(replicate, time, death, patients["treated"], alpha=alpha, n_sets=replicates)
    rows = cox_one.switch_on_rows(replicate, time, death, np.where(intends, delay, np.inf))
    varying = cox_one.td_cox_many(rows["group"], rows["start"], rows["stop"], rows["event"], rows["x"], alpha=alpha,
                                  n_sets=replicates)
    alive = time > landmark_months  # the landmark cohort (`appraisal.landmark_frame`)
    started = intends & (delay <= landmark_months)
    landmark = cox_one.cox_hr_many(replicate[alive], time[alive] - landmark_months, death[alive], started[alive],
                                   alpha=alpha, n_sets=replicates)
    return {method: (res["hr"], res["p"]) for method, res in zip(IMMORTAL_TIME_METHODS, (fixed, varying, landmark))}


def immortal_time_estimates(cohort: pd.DataFrame, landmark_months, alpha=0.05) -> dict:
    """{method: (hazard ratio treated vs other, Wald p)} of one cohort (`simulate_immortal_time_cohort`):

    - `fixed_groups`: Cox model with the groups as they ended up (the treated credited with the days
      before their first dose, during which they could not die and stay treated);
    - `time_varying_cox`: the treatment switching on at its start (as `appraisal.td_cox_data`, `appraisal.td_cox`);
    - `landmark`: patients alive at `landmark_months`, grouped by what they had started by then, followed
      from then on (as `appraisal.landmark_frame`, `appraisal.cox_hr`).
    NaN where a model is not estimable (e.g. no death after the landmark). The fits are
    `src.stats.cox_one`'s, which give lifelines' numbers."""
    patients = {k: cohort[k].to_numpy() for k in ("time", "death", "delay")}
    patients["intends"] = cohort["intends"].to_numpy(bool)
    patients["treated"] = cohort["group"].eq(GROUPS[0]).to_numpy()
    found = _estimates_many(np.zeros(len(cohort), int), patients, landmark_months, alpha, replicates=1)
    return {method: (float(hr[0]), float(p[0])) for method, (hr, p) in found.items()}


def immortal_time_simulation(replicates, seed, n_patients=100, median_months=6.0, treated_share=0.5,
                             delay_days=(14, 90), landmark_days=90, followup_months=24.0, alpha=0.05) -> pd.DataFrame:
    """`replicates` cohorts from one seed (numpy's default generator: same seed, same numbers), each
    analysed the three ways of `immortal_time_estimates`: one row per replicate and method with
    `replicate`, `method`, `hr`, `p`. The landmark is `landmark_days` after progression. All the
    replicates' Cox models are fitted together (`src.stats.cox_one`)."""
    rng = np.random.default_rng(seed)
    replicates = int(replicates)
    if replicates <= 0:
        return pd.DataFrame(columns=["replicate", "method", "hr", "p"])
    cohorts = [_simulated_patients(n_patients, rng, median_months, treated_share, delay_days, followup_months)
               for _ in range(replicates)]
    patients = {k: np.concatenate([c[k] for c in cohorts]) for k in cohorts[0]}
    replicate = np.repeat(np.arange(replicates), [len(c["time"]) for c in cohorts])
    found = _estimates_many(replicate, patients, landmark_days / DAYS_PER_MONTH, alpha, replicates)
    return pd.DataFrame({"replicate": np.repeat(np.arange(replicates), len(IMMORTAL_TIME_METHODS)),
                         "method": np.tile(IMMORTAL_TIME_METHODS, replicates),
                         "hr": np.column_stack([found[m][0] for m in IMMORTAL_TIME_METHODS]).ravel(),
                         "p": np.column_stack([found[m][1] for m in IMMORTAL_TIME_METHODS]).ravel()})


def immortal_time_summary(estimates: pd.DataFrame, true_hr=1.0, alpha=0.05) -> pd.DataFrame:
    """Per method (in `IMMORTAL_TIME_METHODS` order): `replicates` (those estimable), `true_hr`, the
    `median_hr` and the share of replicates with p < `alpha` (column `share_p_below_0_05`, named after
    the usual level; `alpha` sets the level counted)."""
    rows = []
    for method in IMMORTAL_TIME_METHODS:
        d = estimates[estimates["method"].eq(method)].dropna(subset=["hr", "p"])
        rows.append({"method": method, "replicates": len(d), "true_hr": float(true_hr),
                     "median_hr": float(d["hr"].median()) if len(d) else np.nan,
                     "share_p_below_0_05": float((d["p"] < alpha).mean()) if len(d) else np.nan})
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    out["replicates"] = out["replicates"].astype(int)
    return out


def binomial_band(share, replicates, level=0.99) -> tuple[float, float]:
    """The central `level` range of the share of `replicates` independent trials that succeed with
    probability `share` (binomial quantiles divided by `replicates`): what chance alone leaves."""
    n = int(replicates)
    low, high = stats.binom.ppf([(1 - level) / 2, (1 + level) / 2], n, share)
    return float(low / n), float(high / n)


# --- power and sample size --------------------------------------------------------------------

def power_for_events(hr, events, alpha=0.05, allocation=0.5) -> float:
    """Power of a two-sided log-rank test at level `alpha` with `events` deaths to detect the hazard ratio
    `hr` when a share `allocation` of the patients is in one group (Schoenfeld's approximation):
    Phi(sqrt(allocation (1 - allocation) events) |ln hr| - z_{1-alpha/2}); the far tail is ignored,
    so hr = 1 gives alpha / 2. NaN for a missing or non-positive hr or events."""
    hr, events = float(hr), float(events)
    if not (np.isfinite(hr) and hr > 0 and np.isfinite(events) and events > 0 and 0 < allocation < 1):
        return np.nan
    drift = np.sqrt(allocation * (1 - allocation) * events) * abs(np.log(hr))
    return float(stats.norm.cdf(drift - stats.norm.ppf(1 - alpha / 2)))


def events_needed(hr, power=0.8, alpha=0.05, allocation=0.5) -> int | None:
    """Deaths a two-sided log-rank test at level `alpha` needs to detect `hr` with probability `power`
    (`appraisal.deaths_needed`, Schoenfeld's formula), rounded up; None when no number of deaths suffices
    (hr = 1) or hr is missing."""
    d = appraisal.deaths_needed(hr, power=power, alpha=alpha, share=allocation)
    if not np.isfinite(d):
        return None
    return int(np.ceil(d - 1e-9))  # (a float a hair above a whole number is that number)


def patients_needed(events, death_share) -> int | None:
    """Patients to enrol so that `events` deaths are expected when a share `death_share` of them die
    during the study, rounded up; None when either is missing or the share is not in (0, 1]."""
    if events is None or not np.isfinite(events) or not np.isfinite(death_share) or not 0 < death_share <= 1:
        return None
    return int(np.ceil(events / death_share - 1e-9))


def power_table(hrs, alphas=(0.05,), powers=(0.8,), allocations=(0.5,)) -> pd.DataFrame:
    """`POWER_COLUMNS`, one row per combination of hazard ratio, two-sided level, power and allocation
    (share of patients in one group), with the deaths needed rounded up (`events_needed`)."""
    rows = [{"hr": float(hr), "alpha": float(a), "power": float(pw), "allocation": float(s),
             "events_needed": events_needed(hr, pw, a, s)}
            for hr in hrs for a in alphas for pw in powers for s in allocations]
    out = pd.DataFrame(rows, columns=POWER_COLUMNS)
    out["events_needed"] = pd.array(out["events_needed"].tolist(), dtype="Int64")
    return out


def power_curve(events, hrs, alpha=0.05, allocation=0.5) -> pd.DataFrame:
    """`hr` and `power` (`power_for_events`) of a comparison with `events` deaths, for each hazard ratio."""
    hrs = np.asarray(list(hrs), dtype=float)
    return pd.DataFrame({"hr": hrs, "power": [power_for_events(h, events, alpha, allocation) for h in hrs]})
