"""Appraisal of the sorafenib comparison (notebook 07): the analyses a reviewer would ask for.

Each function does one analysis of the survival post-progression (SPP) cohort and returns plain
numbers or a small table; the notebook turns them into one row each of `appraisal.csv` with
`appraisal_row` / `appraisal_table`.

- Follow-up and censoring: `reverse_km`, `followup_table`, `delay_table`.
- Guarantee (immortal) time: `td_cox_data` (counting-process rows, treatment switching on at its
  start), `td_cox` (lifelines `CoxTimeVaryingFitter`), `landmark_frame`.
- Subsets and comparators: `logrank_subset`, `cox_hr` (the hazard ratio of one group vs another, with its CI).
- Restricted mean survival time: `km_steps`, `rmst` (Greenwood-type variance of the estimate, as
  R's `print(survfit(...), rmean=tau)` and survRM2; *not* lifelines' `return_variance`, which is
  the variance of min(T, tau)), `rmst_comparison`.
- Wald versus likelihood ratio: `lr_test`.
- Unmeasured confounding: `evalue`, `hr_to_rr_common`, `evalues` (VanderWeele and Ding 2017).
- Multiplicity: `holm`, `benjamini_hochberg`, `events_per_variable`.
- Balance: `smd_table` (tableone's standardised mean differences), `smd_under_randomisation` (what
  chance alone gives: the same SMDs over seeded permutations of the group labels).
- Power: `detectable_hr`, `deaths_needed` (Schoenfeld's formula for a log-rank test or Cox model).

Conventions: times are whatever the caller passes (the notebook uses `TIME_UNIT`); Kaplan-Meier
medians as in `src.survival` (first time S(t) <= 0.5, NR when not reached); log-rank tests with
hypergeometric variance (`survival.logrank`); Cox models with Efron's ties (lifelines, as R's
`coxph`); Wald confidence intervals at level 1 - `alpha`. Functions that cannot compute their
result on the data given return NaN and a `note` saying why, so the notebook goes on.
Imports: `src.survival` only (statistics sit below the notebooks; never `src.helpers` or `src.audit`).
"""
from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from src.stats import survival

APPRAISAL_COLUMNS = ["analysis", "estimate", "ci_low", "ci_high", "p", "n", "note"]


# --- the appraisal table --------------------------------------------------------

def appraisal_row(analysis, estimate=np.nan, ci_low=np.nan, ci_high=np.nan, p=np.nan, n=None, note="") -> dict:
    """One row of `appraisal.csv`; NaN (blank in the file) where a column does not apply."""
    return {"analysis": analysis, "estimate": _float(estimate), "ci_low": _float(ci_low),
            "ci_high": _float(ci_high), "p": _float(p), "n": None if n is None else int(n), "note": note}


def appraisal_table(rows) -> pd.DataFrame:
    """The rows as a table with `APPRAISAL_COLUMNS`; `n` as a nullable integer, so that
    `privacy.suppress_small_counts` (via `helpers.write_table`) treats it as a count."""
    out = pd.DataFrame(list(rows), columns=APPRAISAL_COLUMNS)
    out["n"] = pd.array(out["n"].tolist(), dtype="Int64")
    return out


def _float(x) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return np.nan
    return x if np.isfinite(x) else np.nan


# --- follow-up and censoring ------------------------------------------------------

def reverse_km(durations, event_observed, label=None, alpha=0.05):
    """Reverse Kaplan-Meier: censoring is the 'event' and death censors. Its median is the
    median follow-up (how long patients would have been followed had nobody died)."""
    events = 1 - pd.Series(event_observed).astype(int).to_numpy()
    return survival.km_fit(durations, events, label=label, alpha=alpha)


def followup_table(df, duration_col, event_col, group_col, order, alpha=0.05) -> pd.DataFrame:
    """Per group: patients, deaths, censored (and `percent` censored), median follow-up by reverse
    Kaplan-Meier with its CI (NaN, "NR" in `text`, when not reached), and the median time
    of the censored patients. Groups absent from `df` are left out."""
    rows = []
    for g in order:
        d = df[df[group_col] == g]
        if d.empty:
            continue
        deaths = int(d[event_col].sum())
        censored = len(d) - deaths
        if censored:
            s = survival.km_summary(reverse_km(d[duration_col], d[event_col], label=g, alpha=alpha))
        else:
            s = {"median": np.nan, "ci_low": np.nan, "ci_high": np.nan, "text": "not estimable (nobody censored)"}
        rows.append({"group": g, "n": len(d), "deaths": deaths, "censored": censored,
                     "percent": 100 * censored / len(d), "median follow-up": s["median"],
                     "ci_low": s["ci_low"], "ci_high": s["ci_high"], "follow-up (CI)": s["text"],
                     "median time of the censored": d.loc[d[event_col] == 0, duration_col].median()})
    return pd.DataFrame(rows, columns=["group", "n", "deaths", "censored", "percent", "median follow-up",
                                       "ci_low", "ci_high", "follow-up (CI)", "median time of the censored"])


def delay_table(df, delay_col, group_col, order) -> pd.DataFrame:
    """Per group: time from progression to the start of the salvage option (median, range)
    and how many started it on the day of progression (delay 0)."""
    rows = []
    for g in order:
        x = df.loc[df[group_col] == g, delay_col].dropna()
        if x.empty:
            continue
        rows.append({"group": g, "n": len(x), "median delay": x.median(), "min": x.min(), "max": x.max(),
                     "started on the day of progression": int((x <= 0).sum())})
    return pd.DataFrame(rows, columns=["group", "n", "median delay", "min", "max", "started on the day of progression"])


# --- guarantee time: time-varying covariate and landmark -------------------------------

def td_cox_data(df, duration_col, event_col, switch_col, treated_col, covariates=None) -> pd.DataFrame:
    """Counting-process rows (`id`, `start`, `stop`, `event`, `on_treatment`, covariates) for a
    treatment that switches on at `switch_col` (time from the origin) in patients whose
    `treated_col` is true, as R's `tmerge(..., tdc(switch))`:

    - not treated, or treated but the follow-up ends at or before the switch: one row (0, T], off;
    - treated from time 0 (switch <= 0): one row (0, T], on;
    - otherwise two rows: (0, s] off without the event, (s, T] on with the patient's event.

    A death on the day the treatment starts therefore counts as a death off treatment (the
    patient could not yet have benefited). `covariates` maps a name to `(column, reference,
    other)` as in `survival.cox_design` (1 = other level); patients with a missing value, or a
    follow-up of length 0, are left out.
    """
    covariates = covariates or {}
    d = pd.DataFrame({"T": df[duration_col].astype(float).to_numpy(), "event": df[event_col].astype(float).to_numpy(),
                      "s": df[switch_col].astype(float).to_numpy(), "treated": df[treated_col].astype(bool).to_numpy()})
    for name, (column, reference, other) in covariates.items():
        d[name] = np.where(df[column] == other, 1.0, np.where(df[column] == reference, 0.0, np.nan))
    d["id"] = np.arange(len(d))
    d = d.dropna(subset=["T", "event", *covariates]).loc[lambda x: x["T"] > 0]
    rows = []
    for r in d.itertuples(index=False):
        extra = {name: getattr(r, name) for name in covariates}
        s = r.s if r.treated and np.isfinite(r.s) else np.inf
        if s <= 0:
            rows.append({"id": r.id, "start": 0.0, "stop": r.T, "event": r.event, "on_treatment": 1.0, **extra})
        elif s >= r.T:
            rows.append({"id": r.id, "start": 0.0, "stop": r.T, "event": r.event, "on_treatment": 0.0, **extra})
        else:
            rows.append({"id": r.id, "start": 0.0, "stop": s, "event": 0.0, "on_treatment": 0.0, **extra})
            rows.append({"id": r.id, "start": s, "stop": r.T, "event": r.event, "on_treatment": 1.0, **extra})
    return pd.DataFrame(rows, columns=["id", "start", "stop", "event", "on_treatment", *covariates])


def td_cox(long: pd.DataFrame, covariates=(), alpha=0.05) -> dict:
    """Cox model with `on_treatment` as a time-varying covariate (lifelines `CoxTimeVaryingFitter`,
    Efron ties) adjusted for `covariates` (0/1 columns of `long`).

    Returns a dict `hr`, `ci_low`, `ci_high`, `p` (Wald) of on-treatment vs not, `n` (patients),
    `events`, `note` (why it was not estimable, or "").
    """
    from lifelines import CoxTimeVaryingFitter

    out = {"hr": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "n": int(long["id"].nunique()),
           "events": int(long["event"].sum()), "note": ""}
    columns = ["on_treatment", *[c for c in covariates if long[c].nunique() > 1]]
    if long["on_treatment"].nunique() < 2:
        out["note"] = "not estimable: nobody (or everybody) is on treatment at some time"
    elif out["events"] == 0:
        out["note"] = "not estimable: no deaths"
    if out["note"]:
        return out
    dropped = sorted(set(covariates) - set(columns))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctv = CoxTimeVaryingFitter(alpha=alpha).fit(long[["id", "start", "stop", "event", *columns]],
                                                        id_col="id", event_col="event", start_col="start",
                                                        stop_col="stop")
    except Exception as err:  # lifelines raises ConvergenceError when the fit breaks down
        out["note"] = f"not estimable: {type(err).__name__}"
        return out
    s = ctv.summary.loc["on_treatment"]
    level = f"{round(100 * (1 - alpha))}%"
    if abs(s["coef"]) > survival.MAX_ABS_COEF:
        out["note"] = "not estimable: the estimate runs off to 0 or infinity (monotone likelihood)"
        return out
    out.update(hr=float(s["exp(coef)"]), ci_low=float(s[f"exp(coef) lower {level}"]),
               ci_high=float(s[f"exp(coef) upper {level}"]), p=float(s["p"]))
    if dropped:
        out["note"] = f"left out (one level only): {', '.join(dropped)}"
    return out


def landmark_frame(df, duration_col, landmark, switch_col, treated_col, labels=("sorafenib", "other salvage")):
    """The landmark cohort: patients still alive and followed after `landmark` (duration >
    landmark), with time counted from the landmark (`lm_time`) and grouped by what they had at
    the landmark (`lm_group`): `labels[0]` if treated and started by then (switch <= landmark),
    else `labels[1]`. Returns `(frame, reclassified)`, where `reclassified` counts the treated
    patients who started after the landmark and so count in the second group."""
    d = df[df[duration_col] > landmark].copy()
    started = d[treated_col].astype(bool) & (d[switch_col].astype(float) <= landmark)
    d["lm_time"] = d[duration_col] - landmark
    d["lm_group"] = np.where(started, labels[0], labels[1])
    reclassified = int((d[treated_col].astype(bool) & ~started).sum())
    return d, reclassified


def logrank_subset(df, duration_col, event_col, group_col) -> dict:
    """Log-rank test on `df` (already restricted): `n`, `events`, `groups` (sizes, "19 / 12"),
    `p`, and a `note` when it cannot run (fewer than two groups, or no death)."""
    d = df.dropna(subset=[duration_col, event_col, group_col])
    levels = d[group_col].value_counts().loc[lambda k: k > 0]  # a categorical column lists empty levels too
    out = {"n": len(d), "events": int(d[event_col].sum()), "p": np.nan, "note": "",
           "groups": " / ".join(f"{g} {k}" for g, k in levels.items())}
    if len(levels) < 2:
        out["note"] = "not estimable: fewer than two groups"
    elif out["events"] == 0:
        out["note"] = "not estimable: no deaths"
    else:
        out["p"] = survival.logrank(d, duration_col, event_col, group_col)[1]
    return out


def cox_hr(df, duration_col, event_col, group_col, level, reference, alpha=0.05) -> dict:
    """Hazard ratio of `level` vs `reference` of `group_col` in a Cox model with that one covariate
    (`survival.cox_table`: Efron ties, Wald CI at level 1 - `alpha` and Wald p). Returns `hr`,
    `ci_low`, `ci_high`, `p`, `n` (patients in the two groups), `events`, `note` (why it is not
    estimable, or ""); the model's printed remarks are kept out of the notebook (they name columns)."""
    d = df[df[group_col].isin([level, reference])]
    out = {"hr": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "n": len(d),
           "events": int(d[event_col].sum()) if len(d) else 0, "note": ""}
    present = set(d[group_col])
    if not {level, reference} <= present:
        out["note"] = "not estimable: fewer than two groups"
    elif out["events"] == 0:
        out["note"] = "not estimable: no deaths"
    if out["note"]:
        return out
    with contextlib.redirect_stdout(io.StringIO()):
        row = survival.cox_table(d, duration_col, event_col, {"group": (group_col, reference, level)}, alpha=alpha).iloc[0]
    out.update({k: float(row[k]) for k in ("hr", "ci_low", "ci_high", "p")})
    if not np.isfinite(out["hr"]):
        out["note"] = row["note"] or "not estimable on these data"
    return out


# --- restricted mean survival time ------------------------------------------------

def km_steps(durations, event_observed) -> pd.DataFrame:
    """The Kaplan-Meier steps computed directly: one row per distinct death time with
    `time`, `at_risk`, `deaths` and `survival` (just after the time)."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(event_observed).astype(int)
    times = np.unique(t[e == 1])
    at_risk = np.array([(t >= u).sum() for u in times])
    deaths = np.array([((t == u) & (e == 1)).sum() for u in times])
    surv = np.cumprod(1 - deaths / at_risk) if len(times) else np.array([])
    return pd.DataFrame({"time": times, "at_risk": at_risk, "deaths": deaths, "survival": surv})


def rmst(durations, event_observed, tau) -> dict:
    """Restricted mean survival time up to `tau`: the area under the Kaplan-Meier curve from 0
    to `tau`, with the Greenwood-type variance of that estimate,

        var = sum over death times t_j < tau of A_j^2 * d_j / (n_j * (n_j - d_j)),

    where A_j is the area under the curve from t_j to `tau`, d_j deaths and n_j at risk (a
    term with n_j = d_j counts 0, as in R's survfit). This is the variance R prints as
    `se(rmean)` and survRM2 uses; lifelines' `return_variance=True` gives the variance of
    min(T, tau) instead. Returns `rmst`, `variance`, `se`, `tau`.
    """
    steps = km_steps(durations, event_observed)
    steps = steps[steps["time"] < tau]
    knots = np.concatenate([[0.0], steps["time"].to_numpy(), [float(tau)]])
    heights = np.concatenate([[1.0], steps["survival"].to_numpy()])
    pieces = np.diff(knots) * heights  # area of each flat piece of the step function
    area = float(pieces.sum())
    after = np.cumsum(pieces[::-1])[::-1][1:]  # A_j: area from each death time to tau
    n, d = steps["at_risk"].to_numpy(float), steps["deaths"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n > d, d / (n * (n - d)), 0.0)
    variance = float((after ** 2 * h).sum())
    return {"rmst": area, "variance": variance, "se": float(np.sqrt(variance)), "tau": float(tau)}


def rmst_comparison(df, duration_col, event_col, group_col, groups, tau, alpha=0.05):
    """RMST up to `tau` in each of two `groups` and their difference (first minus second)
    with a Wald CI (level 1 - `alpha`, standard error sqrt(var1 + var2)) and two-sided p.

    `tau` is lowered to the shortest of the groups' longest follow-up times when it lies
    beyond one of them (the curve is unknown there), as survRM2 requires; the `note` says so.
    Returns `(per_group, difference)`: `per_group` maps each group to the dict of `rmst`
    (with CI and `n`); `difference` has `estimate`, `ci_low`, `ci_high`, `p`, `n`, `tau`, `note`.
    """
    z = stats.norm.ppf(1 - alpha / 2)
    data = {g: df[df[group_col] == g] for g in groups}
    missing = [g for g, d in data.items() if d.empty]
    if missing:
        note = f"not estimable: no patient in {', '.join(missing)}"
        return {}, {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
                    "n": len(df), "tau": tau, "note": note}
    last = min(float(d[duration_col].max()) for d in data.values())
    used = min(float(tau), last)
    note = "" if used == tau else f"tau lowered from {tau:.3g} to {used:.3g}, the shortest longest follow-up of the groups"
    per_group = {}
    for g, d in data.items():
        r = rmst(d[duration_col], d[event_col], used)
        per_group[g] = {**r, "ci_low": r["rmst"] - z * r["se"], "ci_high": r["rmst"] + z * r["se"], "n": len(d)}
    a, b = (per_group[g] for g in groups)
    diff, se = a["rmst"] - b["rmst"], np.sqrt(a["variance"] + b["variance"])
    p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else np.nan
    return per_group, {"estimate": diff, "ci_low": diff - z * se, "ci_high": diff + z * se, "p": p,
                       "n": a["n"] + b["n"], "tau": used, "note": note}


# --- Wald versus likelihood ratio ----------------------------------------------------

def lr_test(df, duration_col, event_col, covariates: dict, term, alpha=0.05) -> dict:
    """Likelihood-ratio test of `term` in the Cox model with `covariates` (`survival.cox_fit`):
    twice the gain in log partial likelihood from adding `term` to the other covariates, fitted
    on the same patients, against chi-square with 1 df. Returns `statistic`, `p`, `wald_p`
    (the Wald p of the same term), `n`, `note`."""
    out = {"statistic": np.nan, "p": np.nan, "wald_p": np.nan, "n": 0, "note": ""}
    if term not in covariates:
        out["note"] = f"not estimable: {term} is not in the model"
        return out
    full, design = survival.cox_fit(df, duration_col, event_col, covariates, alpha=alpha)
    out["n"] = len(design)
    if full is None or term not in full.params_.index or abs(full.params_[term]) > survival.MAX_ABS_COEF:
        out["note"] = f"not estimable: {term} could not be fitted on these data"
        return out
    others = [c for c in full.params_.index if c != term]
    if others:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lifelines import CoxPHFitter
            reduced_ll = CoxPHFitter().fit(design[[duration_col, event_col, *others]], duration_col=duration_col,
                                           event_col=event_col).log_likelihood_
    else:
        reduced_ll = full.log_likelihood_ - full.log_likelihood_ratio_test().test_statistic / 2
    out["statistic"] = float(2 * (full.log_likelihood_ - reduced_ll))
    out["p"] = float(stats.chi2.sf(out["statistic"], 1))
    out["wald_p"] = float(survival.cox_summary(full).loc[term, "p"])
    return out


# --- E-values ----------------------------------------------------------------------------

def evalue(rr) -> float:
    """E-value of a risk ratio (VanderWeele and Ding 2017): RR + sqrt(RR (RR - 1)), with RR
    replaced by 1/RR when below 1. The minimum strength of association, on the risk-ratio scale,
    that an unmeasured confounder would need with both treatment and outcome to explain the
    observed ratio away. 1 for RR = 1; NaN for a missing or non-positive RR."""
    rr = _float(rr)
    if not np.isfinite(rr) or rr <= 0:
        return np.nan
    rr = 1 / rr if rr < 1 else rr
    return float(rr + np.sqrt(rr * (rr - 1)))


def hr_to_rr_common(hr) -> float:
    """A hazard ratio as an approximate risk ratio when the outcome is common (more than about
    15% by the end of follow-up; VanderWeele 2017): (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))."""
    hr = _float(hr)
    if not np.isfinite(hr) or hr <= 0:
        return np.nan
    return float((1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr)))


def evalues(hr, ci_low, ci_high, common=False) -> tuple[float, float]:
    """E-values `(of the HR, of its confidence limit nearer 1)`. The HR is taken as a risk
    ratio (rare outcome) or, with `common`, converted by `hr_to_rr_common` first. The E-value
    of the limit is 1 when the interval contains 1."""
    convert = hr_to_rr_common if common else _float
    hr, lo, hi = (_float(x) for x in (hr, ci_low, ci_high))
    if not np.isfinite(hr):
        return np.nan, np.nan
    if np.isfinite(lo) and np.isfinite(hi) and lo <= 1 <= hi:
        limit = 1.0
    else:
        limit = evalue(convert(lo if hr > 1 else hi))
    return evalue(convert(hr)), limit


# --- multiplicity ---------------------------------------------------------------------

def _adjusted(p, method: str) -> np.ndarray:
    """p-values adjusted by statsmodels' `multipletests` (`method` "holm" or "fdr_bh"); NaN entries
    are left out of the family and stay NaN."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=method)[1]
    return out


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate); NaN entries stay NaN. Sort the
    m p-values, multiply the k-th smallest by (m - k + 1), keep the running maximum, cap at 1."""
    return _adjusted(p, "holm")


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate); NaN entries stay NaN. Sort the
    m p-values, multiply the k-th smallest by m / k, keep the running minimum from the largest
    down, cap at 1."""
    return _adjusted(p, "fdr_bh")


def events_per_variable(n_events, n_candidates) -> float:
    """Deaths per candidate variable (all the factors screened, not only those kept)."""
    return n_events / n_candidates if n_candidates else np.nan


# --- balance -------------------------------------------------------------------------------

def smd_table(df, group_col, groups, categorical: dict, continuous: dict) -> pd.DataFrame:
    """Absolute standardised mean differences between two `groups` (tableone, `smd=True`).

    `categorical` and `continuous` map a name to a column (or, for categorical ones, to
    `(column, levels)` as in `groups.compare_groups`). Continuous: difference of means over
    sqrt((s1^2 + s2^2) / 2); categorical: the multi-level version of Yang and Dalton (for two
    levels, (p1 - p2) / sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2)). Returns `variable`, `column`,
    `smd`, `n` (patients with a value), `note` (a variable not in the data, or fewer than two
    groups, gets NaN and a note).
    """
    from tableone import TableOne

    specs = {**{k: (survival._factor_column(v), True) for k, v in categorical.items()},
             **{k: (v, False) for k, v in continuous.items()}}
    d = df[df[group_col].isin(groups)]
    present = [g for g in groups if (d[group_col] == g).any()]
    rows, usable = [], {}
    for name, (column, is_cat) in specs.items():
        row = {"variable": name, "column": column, "smd": np.nan, "n": 0, "note": ""}
        if column not in d:
            row["note"] = "not in these data"
        elif len(present) < 2:
            row["note"] = "not estimable: fewer than two groups"
        elif d.groupby(group_col)[column].count().reindex(present).min() == 0:
            row["note"] = "not estimable: no value in a group"
        else:
            usable[name] = (column, is_cat)
            row["n"] = int(d[column].notna().sum())
            if d[column].nunique() < 2:
                row["note"] = "one value only in these data: no difference possible"
        rows.append(row)
    out = pd.DataFrame(rows)
    if usable:
        frame = pd.DataFrame({name: (d[col].astype(str).where(d[col].notna()) if is_cat else d[col].astype(float))
                              for name, (col, is_cat) in usable.items()})
        frame["_group"] = pd.Categorical(d[group_col], categories=present)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = TableOne(frame, columns=list(usable), categorical=[k for k, (_, c) in usable.items() if c],
                         groupby="_group", smd=True, pval=False, missing=False)
        smd = t.smd_table.iloc[:, 0]
        out["smd"] = [abs(float(smd[name])) if name in smd.index else np.nan for name in out["variable"]]
    return out


def _abs_smd(labels: np.ndarray, values: pd.Series, categorical: bool) -> np.ndarray:
    """|SMD| between the patients labelled True and those labelled False, for each row of the
    boolean matrix `labels` (randomisations x patients), among the patients with a value.

    Continuous: |mean1 - mean2| / sqrt((s1^2 + s2^2) / 2) (sample variances). Categorical: Yang and
    Dalton's sqrt(d' S^-1 d), d the differences of the proportions of all levels but one and S the
    mean of the two groups' multinomial covariance matrices (for two levels, |p1 - p2| /
    sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2)); a pseudo-inverse where S is singular. A missing
    value of a categorical variable is a level of its own. As tableone; 0 where both groups have no
    spread at all."""
    if categorical:  # a missing value is a level of its own, as in tableone
        values = values.astype(object).where(values.notna(), "\0missing")
    ok = values.notna().to_numpy()
    lab = labels[:, ok].astype(float)
    n1 = lab.sum(axis=1)
    n2 = ok.sum() - n1
    if categorical:
        v = values[ok].astype(str).to_numpy()
        levels = np.unique(v)
        if len(levels) < 2:
            return np.zeros(len(labels))
        onehot = (v[:, None] == levels[None, :-1]).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            p1 = lab @ onehot / n1[:, None]
            p2 = (1 - lab) @ onehot / n2[:, None]

        def cov(p):
            return np.einsum("ri,ij->rij", p, np.eye(p.shape[1])) - p[:, :, None] * p[:, None, :]

        s = (cov(p1) + cov(p2)) / 2
        d = p1 - p2
        q = np.einsum("ri,rij,rj->r", d, np.linalg.pinv(s), d)
        return np.sqrt(np.clip(q, 0, None))
    x = values[ok].astype(float).to_numpy()
    x = x - x.mean()  # centred: sums of squares without loss of precision

    def mean_var(w, n):
        with np.errstate(divide="ignore", invalid="ignore"):
            m = w @ x / n
            return m, (w @ x ** 2 - n * m ** 2) / (n - 1)

    (m1, v1), (m2, v2) = mean_var(lab, n1), mean_var(1 - lab, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        smd = np.abs(m1 - m2) / np.sqrt(np.clip((v1 + v2) / 2, 0, None))
    return np.where(np.isclose(m1, m2) & ~(v1 + v2 > 0), 0.0, smd)


def smd_under_randomisation(df, group_col, groups, categorical: dict, continuous: dict, permutations=1000,
                            seed=2024, threshold=0.1) -> pd.DataFrame:
    """What chance alone does to standardised mean differences in groups of these very sizes.

    The labels of the two `groups` are shuffled `permutations` times among the patients of `df`
    (numpy's generator seeded with `seed`; the group sizes stay those of the data): each shuffle is a
    perfect randomisation of these very patients, whose characteristics differ between the groups
    only by chance. For each variable (specs as in `smd_table`) the result gives `kind`
    ("continuous" or "categorical"), `n` (patients with a value), `smd` (the observed absolute SMD,
    computed as in `smd_table`), `share_above` (the share of randomisations with an absolute SMD above
    `threshold`), `p95` (the 95th percentile of the absolute SMD under randomisation) and `note`
    (NaN and the reason for a variable that is not in the data, or fewer than two groups). A
    thousand shuffles of 38 patients and 17 variables take well under a second.
    """
    d = df[df[group_col].isin(groups)]
    base = (d[group_col] == groups[0]).to_numpy()
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(base, (int(permutations), 1)), axis=1) if len(d) else np.zeros((0, 0), bool)
    two_groups = 0 < base.sum() < len(base)
    specs = {**{k: (survival._factor_column(v), True) for k, v in categorical.items()},
             **{k: (v, False) for k, v in continuous.items()}}
    rows = []
    for name, (column, is_cat) in specs.items():
        row = {"variable": name, "kind": "categorical" if is_cat else "continuous", "n": 0, "smd": np.nan,
               "share_above": np.nan, "p95": np.nan, "note": ""}
        if column not in d:
            row["note"] = "not in these data"
        elif not two_groups:
            row["note"] = "not estimable: fewer than two groups"
        else:
            values = d[column]
            present = values.notna().to_numpy()
            row["n"] = int(present.sum())
            if min(present[base].sum(), present[~base].sum()) == 0:
                row["note"] = "not estimable: no value in a group"
            else:
                observed = _abs_smd(base[None, :], values, is_cat)[0]
                chance = _abs_smd(shuffled, values, is_cat)
                chance = chance[np.isfinite(chance)]  # a shuffle that leaves a group without values
                row.update(smd=float(observed), share_above=float((chance > threshold).mean()),
                           p95=float(np.quantile(chance, 0.95)))
        rows.append(row)
    return pd.DataFrame(rows, columns=["variable", "kind", "n", "smd", "share_above", "p95", "note"])


# --- power --------------------------------------------------------------------------------

def _z_sum(power, alpha) -> float:
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def deaths_needed(hr, power=0.8, alpha=0.05, share=0.5) -> float:
    """Deaths a two-sided log-rank test (or Cox model) at level `alpha` needs to detect the hazard
    ratio `hr` with probability `power` when a share `share` of the patients is in one group
    (Schoenfeld 1981): D = (z_{1-alpha/2} + z_power)^2 / (share (1 - share) ln(hr)^2). The same
    for `hr` and 1/`hr`; infinite for hr = 1, NaN for a missing or non-positive hr."""
    hr = _float(hr)
    if not np.isfinite(hr) or hr <= 0 or not 0 < share < 1:
        return np.nan
    if hr == 1:
        return np.inf
    return _z_sum(power, alpha) ** 2 / (share * (1 - share) * np.log(hr) ** 2)


def detectable_hr(deaths, power=0.8, alpha=0.05, share=0.5) -> float:
    """The hazard ratio (above 1; its inverse is the same effect the other way round) that `deaths`
    deaths detect with probability `power` in a two-sided test at level `alpha` (Schoenfeld's formula
    solved for the hazard ratio): exp((z_{1-alpha/2} + z_power) / sqrt(share (1 - share) deaths))."""
    deaths = _float(deaths)
    if not np.isfinite(deaths) or deaths <= 0 or not 0 < share < 1:
        return np.nan
    return float(np.exp(_z_sum(power, alpha) / np.sqrt(share * (1 - share) * deaths)))
