"""Survival-analysis helpers for notebooks 04-08, the lifelines way.

- Kaplan-Meier: `km_fit`, `km_by_group`, `km_summary` (median and its CI),
  `km_table`, `survival_at` (S(t) at landmarks), `numbers_at_risk`.
- Log-rank test: `logrank`, `univariate_logrank_table`, `format_p`.
- Two-level factors of the paper: `dichotomise`, `add_factors`,
  `table3_factors` (with `TABLE3_NAMES`).
- Cox proportional hazards: `cox_design`, `cox_fit`, `cox_table`, `cox_ids`,
  `hr_sentence`, `table3`, `count_ties` (the test of proportional hazards: `src/stats/zph.py`).

Comparing two groups (Table 2) is in `src/stats/groups.py`; the plots of these numbers (`plot_km`,
`plot_followup`, `plot_forest`) are in `src/present/plots.py`.

Conventions, stated once:
- Times are whatever the caller passes (the notebooks use months).
- Kaplan-Meier median = first time S(t) <= 0.5 (lifelines, as SPSS, which the
  paper used; R's survfit takes a midpoint when S(t) is exactly 0.5 over an
  interval). Kaplan-Meier confidence bands are lifelines' log(-log) bands
  (R's survfit default is "log"); the CI of the median is read off those bands.
- Log-rank: lifelines `logrank_test` (hypergeometric variance, as R survdiff).
- Cox: lifelines `CoxPHFitter`, Efron's method for tied times (R's default;
  SPSS uses Breslow). Wald p-values and Wald confidence intervals.
Nothing here changes global state on import.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from src.cohort import split_at
from src.formats import format_p_in_text
from src.study import TABLE3_CUTOFF_COLUMNS

CONFIDENCE_NOTE = ("Kaplan-Meier confidence limits: Greenwood variance on the log(-log) scale (lifelines); "
                   "R's survfit default is the log scale")


# --- Kaplan-Meier -------------------------------------------------------------

def km_fit(durations, event_observed, label=None, alpha=0.05):
    """Fit and return a lifelines `KaplanMeierFitter` (CI level 1 - `alpha`).

    `event_observed` is 1 for an event (death) and 0 for a censored time.
    """
    from lifelines import KaplanMeierFitter

    durations = pd.Series(durations, dtype=float).reset_index(drop=True)
    events = pd.Series(event_observed).astype(int).reset_index(drop=True)
    return KaplanMeierFitter(alpha=alpha).fit(durations, events, label=label)


def km_by_group(df, duration_col, event_col, group_col, order=None, alpha=0.05) -> dict:
    """One fitted Kaplan-Meier per level of `group_col` -> dict label -> fitter.

    `order` fixes the order of the levels (levels absent from `df` are left
    out); default: sorted levels. Rows with a missing group are ignored.
    """
    present = df[group_col].dropna().unique().tolist()
    levels = [g for g in order if g in present] if order is not None else sorted(present)
    return {g: km_fit(df.loc[df[group_col] == g, duration_col], df.loc[df[group_col] == g, event_col],
                      label=str(g), alpha=alpha) for g in levels}


def _finite(x) -> float:
    """`x` as a float, NaN when infinite (a median or limit 'not reached')."""
    x = float(x)
    return x if np.isfinite(x) else np.nan


def _fmt(x, digits=1) -> str:
    return "NR" if not np.isfinite(x) else f"{x:.{digits}f}"


def km_summary(kmf, digits=1) -> dict:
    """Median survival with its confidence interval, from a fitted Kaplan-Meier.

    Returns a dict: `label`, `n`, `events`, `median`, `ci_low`, `ci_high`
    (NaN when not reached: the curve, or the band, never falls to 0.5) and
    `text` such as "7.8 (95% CI 5.1-10.2)", where NR means not reached.
    The median is the first time S(t) <= 0.5; its CI is read off the
    log(-log) band (lifelines `median_survival_times(kmf.confidence_interval_)`);
    a limit the band reaches only where S(t) = 0 (after a last death) is not
    reached, as in R's survfit.
    """
    from lifelines.utils import median_survival_times

    ci = median_survival_times(kmf.confidence_interval_)
    median, low, high = float(kmf.median_survival_time_), _reached(kmf, ci.iloc[0, 0]), _reached(kmf, ci.iloc[0, 1])
    level = round(100 * (1 - kmf.alpha))
    text = f"{_fmt(median, digits)} ({level}% CI {_fmt(low, digits)}-{_fmt(high, digits)})"
    return {"label": kmf.label, "n": int(kmf.event_table["entrance"].sum()),
            "events": int(kmf.event_table["observed"].sum()), "median": _finite(median),
            "ci_low": _finite(low), "ci_high": _finite(high), "text": text}


def followup_summary(durations, event_observed, alpha=0.05, digits=1) -> dict:
    """Median follow-up by the reverse Kaplan-Meier method (censoring is the event, a death censors the
    follow-up), with its confidence interval: `km_summary` of that curve ("27.1 (95% CI 20.3-NR)")."""
    return km_summary(km_fit(durations, 1 - np.asarray(event_observed).astype(int), alpha=alpha), digits)


def with_unit(text: str, unit: str) -> str:
    """A `km_summary` text with its unit after the estimate: "7.8 (95% CI 5.4-15.7)" -> "7.8 months (95% CI 5.4-15.7)"."""
    estimate, _, rest = str(text).partition(" (")
    return f"{estimate} {unit}" + (f" ({rest}" if rest else "")


def _reached(kmf, limit) -> float:
    """A confidence limit of the median, or inf (not reached) when the band only crosses 0.5
    where the curve itself has dropped to 0: lifelines sets both limits to 0 there (after a
    last death), where R's survfit has no band and reports NA."""
    limit = float(limit)
    if np.isfinite(limit) and float(kmf.survival_function_at_times(limit).iloc[0]) == 0:
        return np.inf
    return limit


KM_SUMMARY_COLUMNS = ["label", "n", "events", "median", "ci_low", "ci_high", "text"]


def km_table(fitters) -> pd.DataFrame:
    """`km_summary` of several fitted Kaplan-Meier curves, one row each (no curve: no row)."""
    fitters = fitters.values() if isinstance(fitters, dict) else fitters
    return pd.DataFrame([km_summary(k) for k in fitters], columns=KM_SUMMARY_COLUMNS)


def survival_at(kmf, times, percent=False) -> pd.DataFrame:
    """S(t) with its confidence limits at the given times (landmarks).

    Columns: `time`, `at_risk` (patients still followed at t: time >= t),
    `survival`, `ci_low`, `ci_high` (log(-log) band), multiplied by 100 when
    `percent`. A time beyond the last follow-up gives NaN unless the curve
    has already reached 0 (the estimate is not defined there).
    """
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    durations = np.asarray(kmf.durations, dtype=float)
    rows = []
    for t in np.atleast_1d(times).astype(float):
        i = sf.index.searchsorted(t, side="right") - 1  # last step at or before t
        s, lo, hi = sf.iloc[i], ci.iloc[i, 0], ci.iloc[i, 1]
        if t > durations.max() and s > 0:
            s = lo = hi = np.nan
        rows.append({"time": t, "at_risk": int((durations >= t).sum()), "survival": s,
                     "ci_low": lo, "ci_high": hi})
    out = pd.DataFrame(rows)
    if percent:
        out[["survival", "ci_low", "ci_high"]] *= 100
    return out


def numbers_at_risk(kmf, times) -> list[int]:
    """Numbers at risk of a fitted Kaplan-Meier at `times` (followed up to at least t)."""
    durations = np.asarray(kmf.durations, dtype=float)
    return [int((durations >= t).sum()) for t in times]


# --- log-rank test --------------------------------------------------------------

def logrank(df, duration_col, event_col, group_col) -> tuple[float, float]:
    """Log-rank test of equal survival across the levels of `group_col`.

    Returns `(statistic, p)`: the chi-square statistic (observed minus expected
    deaths, hypergeometric variance as R's survdiff; 1 degree of freedom for
    two groups, k - 1 for k groups) and its p-value. Returns `(nan, nan)` and
    prints a note when there are fewer than two groups or no events.
    """
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    d = df[[duration_col, event_col, group_col]].dropna()
    levels = d[group_col].unique()
    if len(levels) < 2 or d[event_col].sum() == 0:
        print(f"log-rank test by {group_col} skipped: "
              f"{'fewer than two groups' if len(levels) < 2 else 'no events'}.")
        return np.nan, np.nan
    if len(levels) == 2:
        a, b = (d[group_col] == levels[0]), (d[group_col] == levels[1])
        res = logrank_test(d.loc[a, duration_col], d.loc[b, duration_col],
                           event_observed_A=d.loc[a, event_col], event_observed_B=d.loc[b, event_col])
    else:
        res = multivariate_logrank_test(d[duration_col], d[group_col], d[event_col])
    return float(res.test_statistic), float(res.p_value)


def format_p(p, digits=3) -> str:
    """A p-value in a sentence: 'p = 0.012', 'p < 0.001', 'p = n/a' (the journal's `formats.format_p`
    with "p = " or "p < " before it)."""
    return format_p_in_text(p, digits)


# --- two-level factors ----------------------------------------------------------

def dichotomise(series, cutoff, labels=None) -> pd.Series:
    """Split a numeric series at `cutoff` into "<c" (below) and ">=c" (at or above).

    Returns an ordered categorical with the two labels as categories (both
    kept even if one is empty); missing values stay missing. `labels` renames
    the two levels, e.g. ("0", ">=1") for performance status. The labels are
    those of `cohort.split_at` (Tables 1 and 3 dichotomise the same way).
    """
    default = (f"<{cutoff}", f">={cutoff}")
    out = split_at(pd.to_numeric(pd.Series(series), errors="coerce"), cutoff)
    if labels is not None:
        out = out.map(dict(zip(default, labels)))
    return out.astype(pd.CategoricalDtype(list(labels or default), ordered=True))


def add_factors(df, cutoffs: dict) -> pd.DataFrame:
    """Add the labelled two-level factors used by Tables 2-3 (a copy of `df`).

    For each `column: cutoff` in `cutoffs`, adds `<column>_group` ("<c"/">=c")
    (a column that `df` does not have, an optional one left out of the data, is skipped).
    When present, also adds `sex_group` (male/female), `ps_group` ("0" / ">=1":
    the paper's "1+2"), `ascites_group` (ascites / no ascites), `pvtt_group`
    (PVTT / no PVTT) and `sorafenib_group` (sorafenib / no sorafenib).
    """
    out = df.copy()
    for column, cutoff in cutoffs.items():
        if column in out:
            out[f"{column}_group"] = dichotomise(out[column], cutoff)
    if "sex" in out:
        out["sex_group"] = out["sex"].map({"M": "male", "F": "female"})
    if "ecog_ps" in out:
        out["ps_group"] = dichotomise(out["ecog_ps"], 1, labels=("0", ">=1"))
    for column, name in [("ascites", "ascites"), ("pvtt", "PVTT")]:
        if column in out:
            out[f"{column}_group"] = out[column].map({"yes": name, "no": f"no {name}"})
    if "sorafenib" in out:
        out["sorafenib_group"] = np.where(out["sorafenib"].astype(bool), "sorafenib", "no sorafenib")
    return out


# Table 3 of the paper: id key (as in published_results.csv) -> display name, in the paper's order.
TABLE3_NAMES = {
    "age": "Age (years)", "sex": "Sex", "ps": "Performance status", "plt": "Platelet count (10^4/uL)",
    "alb": "Albumin (g/dL)", "tbil": "Total bilirubin (mg/dL)", "pt": "Prothrombin activity (%)",
    "alt": "ALT (U/L)", "ast": "AST (U/L)", "afp": "AFP (ng/mL)", "dcp": "DCP (mAU/mL)",
    "ascites": "Ascites", "pvtt": "Portal vein thrombosis", "sorafenib": "Sorafenib",
}
# The factors of Table 3 that are dichotomised at a cut-off: `study.TABLE3_CUTOFF_COLUMNS` (id key -> column).


def table3_factors(cutoffs: dict) -> dict:
    """The factors of Table 3 as `key -> (column, reference level, other level)`.

    `cutoffs` maps SPP-frame columns (age, platelets, albumin, total_bilirubin,
    prothrombin_activity, alt, ast, afp, dcp) to cut-offs, as given to
    `add_factors`; a column without a cut-off is left out. The reference is
    the level the paper names first ("<70 vs >=70" -> reference "<70";
    "Ascites (yes vs no)" -> reference ascites; "Sorafenib (yes vs no)" ->
    reference sorafenib), so a hazard ratio reads "other vs reference".
    Keys are those of `TABLE3_NAMES`, in the paper's order.
    """
    fixed = {"sex": ("sex_group", "male", "female"), "ps": ("ps_group", "0", ">=1"),
             "ascites": ("ascites_group", "ascites", "no ascites"),
             "pvtt": ("pvtt_group", "PVTT", "no PVTT"),
             "sorafenib": ("sorafenib_group", "sorafenib", "no sorafenib")}
    out = {}
    for key in TABLE3_NAMES:
        column = TABLE3_CUTOFF_COLUMNS.get(key)
        if column is None:
            out[key] = fixed[key]
        elif column in cutoffs:
            out[key] = (f"{column}_group", f"<{cutoffs[column]}", f">={cutoffs[column]}")
    return out


def _factor_column(spec):
    return spec[0] if isinstance(spec, tuple) else spec


def univariate_logrank_table(df, factors: dict, duration_col, event_col, names=None) -> pd.DataFrame:
    """One log-rank test per two-level factor.

    `factors` maps a name to a column, or to `(column, reference, other)` as
    for `cox_table`. Returns, per factor: `levels`, `n` and `events` per level
    ("18 / 20"), median survival per level, the chi-square `statistic` and `p`.
    A factor with fewer than two levels in `df`, or whose column `df` does not
    have (an optional column left out of the data), gets p = NaN and a `note`.
    `names` optionally maps a name to a longer display name (`factor` column).
    """
    rows = []
    for key, spec in factors.items():
        column = _factor_column(spec)
        if column not in df:
            print(f"{key}: not in these data, log-rank test skipped.")
            rows.append({"key": key, "factor": (names or {}).get(key, key), "levels": "", "n": "", "events": "",
                         "median": "", "statistic": np.nan, "p": np.nan, "note": "not in these data"})
            continue
        d = df[[duration_col, event_col, column]].dropna()
        levels = list(spec[1:]) if isinstance(spec, tuple) else sorted(d[column].unique())
        levels = [lv for lv in levels if (d[column] == lv).any()]
        row = {"key": key, "factor": (names or {}).get(key, key), "levels": " / ".join(map(str, levels)),
               "n": " / ".join(str(int((d[column] == lv).sum())) for lv in levels),
               "events": " / ".join(str(int(d.loc[d[column] == lv, event_col].sum())) for lv in levels),
               "median": " / ".join(_fmt(km_fit(d.loc[d[column] == lv, duration_col],
                                                 d.loc[d[column] == lv, event_col]).median_survival_time_)
                                     for lv in levels),
               "statistic": np.nan, "p": np.nan, "note": ""}
        if len(levels) < 2:
            row["note"] = "one level only: no test"
            print(f"{key}: only one level in these data, log-rank test skipped.")
        elif d[event_col].sum() == 0:
            row["note"] = "no events: no test"
            print(f"{key}: no events, log-rank test skipped.")
        else:
            row["statistic"], row["p"] = logrank(d, duration_col, event_col, column)
        rows.append(row)
    return pd.DataFrame(rows)


# --- Cox proportional hazards ----------------------------------------------------

def cox_design(df, duration_col, event_col, covariates: dict) -> pd.DataFrame:
    """The data a Cox model sees: duration, event and one 0/1 column per covariate.

    `covariates` maps a name to `(column, reference level, other level)`; the
    0/1 column is 1 for the other level, so exp(coef) is the hazard ratio of
    "other vs reference". Rows with another value or a missing one are dropped.
    """
    d = {c: df[c].astype(float).to_numpy() for c in (duration_col, event_col)}
    for name, (column, reference, other) in covariates.items():
        d[name] = np.where(df[column] == other, 1.0, np.where(df[column] == reference, 0.0, np.nan))
    return pd.DataFrame(d, index=df.index).dropna().reset_index(drop=True)  # one frame, not a column at a time


def cox_fit(df, duration_col, event_col, covariates: dict, alpha=0.05):
    """Fit a Cox model (lifelines `CoxPHFitter`, Efron ties) on `cox_design` data.

    Returns `(fitted model, design data)`, or `(None, design data)` with a
    printed note when it cannot be fitted (no events, no usable covariate,
    or an error of the fit). A covariate left with a single level, or with
    no event in one of its levels (its hazard ratio would run off to 0 or
    infinity), is dropped with a note; convergence warnings are printed.
    """
    from lifelines import CoxPHFitter

    d = cox_design(df, duration_col, event_col, covariates)
    events = d[event_col].to_numpy()
    for c in covariates:
        x = d[c].to_numpy()
        if len(np.unique(x)) < 2:
            print(f"Cox model: '{c}' has a single level in these data and is left out.")
        elif min(events[x == 0].sum(), events[x == 1].sum()) == 0:  # deaths per level (0 / 1)
            print(f"Cox model: '{c}' has a level without any event (hazard ratio not estimable) and is left out.")
        else:
            continue
        d = d.drop(columns=c)
    if d[event_col].sum() == 0 or d.shape[1] <= 2:
        print("Cox model not fitted: " + ("no events." if d[event_col].sum() == 0 else "no covariate left."))
        return None, d
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cph = CoxPHFitter(alpha=alpha).fit(d, duration_col=duration_col, event_col=event_col)
    except Exception as err:  # lifelines raises ConvergenceError when the fit breaks down
        print(f"Cox model not fitted: {type(err).__name__}: {str(err).split('. ')[0]}.")
        return None, d
    for w in caught:
        if "Convergence" in w.category.__name__:
            print(f"Cox model warning: {str(w.message).splitlines()[0]}")
    return cph, d


def cox_summary(cph) -> pd.DataFrame:
    """`cph.summary` of a fitted `CoxPHFitter`, built once: lifelines rebuilds that property on every
    access, and `CoxPHFitter` (a wrapper that hands attributes on to its fitted `_model` through
    `hasattr` then `getattr`) builds it twice per access."""
    return getattr(cph, "_model", cph).summary


MAX_ABS_COEF = 10  # |log HR| above this (HR beyond 1/22000..22000) is taken as a divergent estimate, not a result
COX_COLUMNS = ["key", "factor", "comparison", "hr", "ci_low", "ci_high", "p", "n", "events", "note"]


def cox_table(df, duration_col, event_col, covariates: dict, alpha=0.05, names=None) -> pd.DataFrame:
    """Hazard ratios of a Cox model, one row per covariate.

    `covariates` maps a name to `(column, reference level, other level)`.
    Columns: `key`, `factor` (display name from `names`, else the key),
    `comparison` (the direction in words: "other vs reference", e.g.
    "no sorafenib vs sorafenib"), `hr`, `ci_low`, `ci_high` (Wald interval,
    level 1 - `alpha`), `p` (Wald test of log HR = 0), `n`, `events`, `note`.
    Efron's method for ties (lifelines); SPSS uses Breslow. A covariate whose
    estimate diverges (|log HR| > `MAX_ABS_COEF` or an infinite limit, as when
    one level's deaths all come after the other level's) is reported as NaN
    with a note.
    """
    cph, d = cox_fit(df, duration_col, event_col, covariates, alpha=alpha)
    level = f"{round(100 * (1 - alpha))}%"
    summary = cox_summary(cph).to_dict("index") if cph is not None else {}  # key -> {column: value}
    rows = []
    for key, (column, reference, other) in covariates.items():
        row = {"key": key, "factor": (names or {}).get(key, key), "comparison": f"{other} vs {reference}",
               "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
               "n": len(d), "events": int(d[event_col].sum()), "note": ""}
        s = summary.get(key)
        if s is None:
            row["note"] = "not estimable on these data"
        elif abs(s["coef"]) > MAX_ABS_COEF or not np.isfinite([s[f"exp(coef) lower {level}"], s[f"exp(coef) upper {level}"]]).all():
            row["note"] = "not estimable: the estimate runs off to 0 or infinity (monotone likelihood)"
            print(f"Cox model: the hazard ratio of '{key}' is not estimable on these data (monotone likelihood).")
        else:
            row.update(hr=float(s["exp(coef)"]), ci_low=float(s[f"exp(coef) lower {level}"]),
                       ci_high=float(s[f"exp(coef) upper {level}"]), p=float(s["p"]))
        rows.append(row)
    return pd.DataFrame(rows, columns=COX_COLUMNS)


def cox_ids(table: pd.DataFrame, prefix: str) -> dict:
    """`{<prefix>_<stat>_<key>: value}` for stat in hr, ci_low, ci_high, p (ids of published_results.csv)."""
    out = {}
    for _, row in table.iterrows():
        for stat in ("hr", "ci_low", "ci_high", "p"):
            out[f"{prefix}_{stat}_{row['key']}"] = float(row[stat])
    return out


def hr_sentence(table: pd.DataFrame, level: int = 95) -> str:
    """The estimated hazard ratios of a `cox_table` in words, for printed summaries: each with its direction,
    its `level`% confidence interval and its Wald p."""
    rows = table.dropna(subset=["hr"])
    return "; ".join(f"{r.factor} ({r.comparison}) HR {r.hr:.2f} ({level}% CI {r.ci_low:.2f} to {r.ci_high:.2f}), "
                     f"{format_p(r.p)}" for r in rows.itertuples()) or "no estimable hazard ratio"


def table3(univariate: pd.DataFrame, multivariable: pd.DataFrame) -> pd.DataFrame:
    """Table 3 layout: each factor with its univariate log-rank p and, for the
    factors in the Cox model, the direction, HR, CI and Wald p."""
    uni = univariate[["key", "factor", "levels", "n", "events", "p"]].rename(columns={"p": "univariate p"})
    multi = multivariable[["key", "comparison", "hr", "ci_low", "ci_high", "p"]].rename(
        columns={"p": "multivariable p"})
    out = uni.merge(multi, on="key", how="left")
    out["comparison"] = out["comparison"].fillna("")  # factors outside the model: no direction
    return out


def count_ties(durations, event_observed) -> int:
    """Number of distinct event times shared by two or more events (where Efron
    and Breslow, the two usual ways of handling ties in a Cox model, differ)."""
    times = pd.Series(np.asarray(durations, dtype=float))[np.asarray(event_observed).astype(bool)]
    return int((times.value_counts() > 1).sum())
