"""Survival-analysis helpers for notebooks 04-08, the lifelines way.

- Kaplan-Meier: `km_fit`, `km_by_group`, `km_summary` (median and its CI),
  `km_table`, `survival_at` (S(t) at landmarks).
- Log-rank test: `logrank`, `univariate_logrank_table`, `format_p`.
- Two-level factors of the paper: `dichotomise`, `add_factors`,
  `table3_factors` (with `TABLE3_NAMES`).
- Cox proportional hazards: `cox_design`, `cox_fit`, `cox_table`, `cox_ids`,
  `hr_sentence`, `table3`, `count_ties` (the test of proportional hazards: `src/stats/zph.py`).
- Comparing two groups (Table 2): `compare_groups`, `format_comparison`,
  `categorical_p`, `continuous_p`, `categorical_tests`, `comparison_ids`
  (the printed p-values are compared in `src/paper/compare.py`).
- Plots: `plot_km` (with `numbers_at_risk`), `plot_followup`, `plot_forest`; styles from `src/present/figures.py`.

Conventions, stated once:
- Times are whatever the caller passes (the notebooks use months).
- Kaplan-Meier median = first time S(t) <= 0.5 (lifelines, as SPSS, which the
  paper used; R's survfit takes a midpoint when S(t) is exactly 0.5 over an
  interval). Kaplan-Meier confidence bands are lifelines' log(-log) bands
  (R's survfit default is "log"); the CI of the median is read off those bands.
- Log-rank: lifelines `logrank_test` (hypergeometric variance, as R survdiff).
- Cox: lifelines `CoxPHFitter`, Efron's method for tied times (R's default;
  SPSS uses Breslow). Wald p-values and Wald confidence intervals.
- Plotting functions take `ax=None` (fall back to `plt.gca()`), pass
  `**kwargs` on, and return `ax`.
Nothing here changes global state on import.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from src import privacy
from src.cohort import split_at
from src.formats import format_p_in_text
from src.study import (TABLE2_CATEGORICAL, TABLE2_CONTINUOUS, TABLE2_DIGITS,  # noqa: F401 (re-exported)
                       TABLE3_CUTOFF_COLUMNS)

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


# --- comparing two groups (Table 2) -----------------------------------------------

# Table 2 of the paper (`study.TABLE2_ROWS`): `TABLE2_CATEGORICAL` (id key -> column of the SPP frame prepared by
# `add_factors`, with the paper's level order), `TABLE2_CONTINUOUS` and `TABLE2_DIGITS` come from `src.study`.

CATEGORICAL_TESTS = {"fisher": "Fisher's exact (two-sided)", "chi2": "chi-square (no correction)",
                     "chi2_yates": "chi-square (Yates' correction)"}
CONTINUOUS_TESTS = {"student": "Student's t (equal variances)", "welch": "Welch's t",
                    "mannwhitney": "Mann-Whitney U"}


def _levels(df, spec):
    column, levels = spec if isinstance(spec, tuple) else (spec, None)
    if levels is None:
        s = df[column]
        levels = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.dropna().unique())
    return column, list(levels)


def crosstab(df, group_col, column, levels, groups) -> np.ndarray:
    """Counts: one row per group, one column per level (levels and groups in order)."""
    return np.array([[int(((df[group_col] == g) & (df[column] == lv)).sum()) for lv in levels] for g in groups],
                    dtype=int).reshape(len(groups), len(levels))


def categorical_p(table, test="fisher") -> float:
    """p-value for a groups x levels table of counts.

    `test`: "fisher" (Fisher's exact, two-sided: sums the probabilities of all
    tables with the same margins no more likely than the observed one),
    "chi2" (Pearson chi-square, no correction), "chi2_yates" (with Yates'
    continuity correction, applied by scipy to 2x2 tables only). Rows or
    columns that are all zero are dropped; NaN when fewer than two remain.
    Tables larger than 2x2 use scipy's r x c version of each test.
    """
    t = np.asarray(table)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return np.nan
    if test == "fisher":
        return float(stats.fisher_exact(t)[1])
    if test in ("chi2", "chi2_yates"):
        return float(stats.chi2_contingency(t, correction=(test == "chi2_yates"))[1])
    raise ValueError(f"unknown categorical test {test!r}: use one of {list(CATEGORICAL_TESTS)}")


def continuous_p(a, b, test="student") -> float:
    """p-value comparing two samples: "student" (t-test, equal variances),
    "welch" (t-test, unequal variances) or "mannwhitney" (two-sided U test).
    NaN when a group has fewer than two values (one for Mann-Whitney)."""
    a, b = pd.Series(a).dropna().astype(float), pd.Series(b).dropna().astype(float)
    if test in ("student", "welch"):
        if min(len(a), len(b)) < 2 or (len(a) + len(b) < 3):
            return np.nan
        return float(stats.ttest_ind(a, b, equal_var=(test == "student"))[1])
    if test == "mannwhitney":
        return float(stats.mannwhitneyu(a, b, alternative="two-sided")[1]) if min(len(a), len(b)) else np.nan
    raise ValueError(f"unknown continuous test {test!r}: use one of {list(CONTINUOUS_TESTS)}")


def compare_groups(df, group_col, categorical: dict, continuous: dict, test_categorical="fisher",
                   test_continuous="student", groups=None) -> pd.DataFrame:
    """Characteristics of groups side by side with a p-value per variable (a "Table 2").

    `categorical` maps a name to a column, or to `(column, [levels in order])`
    (default order: the categories of a categorical column, else sorted);
    `continuous` maps a name to a column. `groups` fixes the group order
    (default: sorted). Variables whose column `df` does not have (optional
    columns left out of the data) are left out, with a printed note. Returns a long table: one row per (variable, level)
    for counts and per (variable, median/min/max) for continuous variables,
    a column per group, then `p` and `test`. With fewer than two groups p is NaN.
    """
    groups = groups if groups is not None else sorted(df[group_col].dropna().unique())
    groups = [g for g in groups if (df[group_col] == g).any()]
    rows = []
    left_out = [name for name, spec in {**categorical, **continuous}.items() if _factor_column(spec) not in df]
    if left_out:
        print(f"Not in these data, left out: {', '.join(left_out)}.")
    categorical = {name: spec for name, spec in categorical.items() if _factor_column(spec) in df}
    continuous = {name: column for name, column in continuous.items() if column in df}
    for name, spec in categorical.items():
        column, levels = _levels(df, spec)
        table = crosstab(df, group_col, column, levels, groups)
        p = categorical_p(table, test_categorical) if len(groups) >= 2 else np.nan
        for j, lv in enumerate(levels):
            rows.append({"variable": name, "column": column, "level": str(lv),
                         **{g: table[i, j] for i, g in enumerate(groups)},
                         "p": p, "test": CATEGORICAL_TESTS[test_categorical]})
    for name, column in continuous.items():
        values = [df.loc[df[group_col] == g, column].dropna() for g in groups]
        p = continuous_p(values[0], values[1], test_continuous) if len(groups) == 2 else np.nan
        for stat in ("median", "min", "max"):
            rows.append({"variable": name, "column": column, "level": stat,
                         **{g: getattr(v, stat)() for g, v in zip(groups, values)},
                         "p": p, "test": CONTINUOUS_TESTS[test_continuous]})
    return pd.DataFrame(rows)


def format_comparison(long: pd.DataFrame, groups=None, digits: dict | None = None) -> pd.DataFrame:
    """The paper's layout of a `compare_groups` table: one row per variable,
    counts as "14/5" in level order and continuous values as "median (min-max)".
    `digits` maps a variable to its number of decimals (default 0)."""
    groups = groups or [c for c in long.columns if c not in ("variable", "column", "level", "p", "test")]
    rows = []
    for name, block in long.groupby("variable", sort=False):
        k = (digits or {}).get(name, 0)
        if set(block["level"]) == {"median", "min", "max"}:
            v = block.set_index("level")
            cells = {g: f"{v.at['median', g]:.{k}f} ({v.at['min', g]:.{k}f}-{v.at['max', g]:.{k}f})" for g in groups}
            levels = "median (range)"
        else:
            cells = {g: "/".join(str(int(x)) for x in block[g]) for g in groups}
            levels = "/".join(block["level"])
        rows.append({"variable": name, "levels": levels, **cells, "p": block["p"].iloc[0],
                     "test": block["test"].iloc[0]})
    return pd.DataFrame(rows)


def categorical_tests(df, group_col, categorical: dict, groups=None) -> pd.DataFrame:
    """For each categorical variable, the p-value of every categorical test
    (Fisher's exact, chi-square without and with Yates' correction), so one
    can see which test a published table used (variables not in `df` are left out)."""
    groups = groups if groups is not None else sorted(df[group_col].dropna().unique())
    groups = [g for g in groups if (df[group_col] == g).any()]
    rows = []
    for name, spec in categorical.items():
        if _factor_column(spec) not in df:
            continue
        column, levels = _levels(df, spec)
        table = crosstab(df, group_col, column, levels, groups)
        rows.append({"variable": name, "table": " | ".join("/".join(map(str, r)) for r in table),
                     **{t: categorical_p(table, t) for t in CATEGORICAL_TESTS}})
    return pd.DataFrame(rows)


def id_token(label) -> str:
    """A level label as it appears in the ids of published_results.csv:
    "<4" -> "lt4", ">=50" -> "ge50", "1+2" -> "1_2", "male" -> "male"."""
    s = str(label).replace(">=", "ge").replace("≥", "ge").replace("<", "lt").replace("+", "_")
    return s.replace(" ", "_").lower()


def comparison_ids(long: pd.DataFrame, prefix: str, group_ids: dict, level_ids=None) -> dict:
    """Flatten a `compare_groups` table into `{id: value}` with ids
    `<prefix>_<variable>_<level>_<group id>` and `<prefix>_<variable>_p`.
    `group_ids` maps group names to id tokens (e.g. "sorafenib" -> "sor");
    `level_ids` optionally maps a level label to its token (default `id_token`)."""
    out = {}
    for _, r in long.iterrows():
        level = (level_ids or {}).get(r["level"], id_token(r["level"]))
        for g, gid in group_ids.items():
            if g in r.index:
                out[f"{prefix}_{r['variable']}_{level}_{gid}"] = float(r[g])
        out[f"{prefix}_{r['variable']}_p"] = float(r["p"])
    return out


# --- plots ---------------------------------------------------------------------

def numbers_at_risk(kmf, times) -> list[int]:
    """Numbers at risk of a fitted Kaplan-Meier at `times` (followed up to at least t)."""
    durations = np.asarray(kmf.durations, dtype=float)
    return [int((durations >= t).sum()) for t in times]


def plot_km(fitters, ax=None, at_risk=True, annotate_p=None, ci=True, mark_medians=True,
            xlabel="Months", ylabel="Survival probability", tick_step=None, min_cell=0, unit="months", **kwargs):
    """Kaplan-Meier curves the survminer way: each group in its shared style (`figures.style_of`:
    colour and line style), CI bands drawn as thin outlines in the curve's style (no fill, so they do not merge), censor marks, "n = N"
    in the legend, medians marked by dotted lines and given in the legend, the log-rank p (`annotate_p`)
    in the corner, and a numbers-at-risk table under the axis, centred under each tick and keyed to the
    curve colours (counts from 1 to `min_cell - 1` read "<min_cell"). `unit` follows each median in the legend.

    `fitters`: fitted `KaplanMeierFitter`s (a list, or a dict label -> fitter). `tick_step`: distance
    between x ticks (the at-risk table follows them). `at_risk=False` leaves the table out. Other `kwargs` go to `ax.step` (e.g. `linewidth`). Returns `ax`; the table is
    `ax.at_risk_axes`.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MultipleLocator

    from src.present import figures

    ax = ax or plt.gca()
    fitters = list(fitters.values()) if isinstance(fitters, dict) else list(fitters)
    styles = [figures.style_of(k._label, i) for i, k in enumerate(fitters)]
    panel = ax.figure.axes.index(ax) if ax in ax.figure.axes else 0
    for kmf, style in zip(fitters, styles):
        gid = figures.km_gid(panel, kmf._label)  # the curve's id in the SVG (tests check its style there)
        sf = kmf.survival_function_
        t, s = sf.index.to_numpy(dtype=float), sf.iloc[:, 0].to_numpy(dtype=float)
        median = kmf.median_survival_time_
        n = len(kmf.durations)
        med = f"{median:.1f}" if np.isfinite(median) else "NR"
        label = f"{kmf._label} (n = {privacy.count_text(n, min_cell)}; median {med}{' ' + unit if unit and med != 'NR' else ''})"
        ax.step(t, s, where="post", color=style["color"], linestyle=style["linestyle"], label=label,
                linewidth=kwargs.pop("linewidth", 1.3), gid=gid, **kwargs)
        if ci:
            ci_frame = kmf.confidence_interval_survival_function_
            lo, hi = ci_frame.iloc[:, 0].to_numpy(dtype=float), ci_frame.iloc[:, 1].to_numpy(dtype=float)
            ct = ci_frame.index.to_numpy(dtype=float)
            for side, bound in (("low", lo), ("high", hi)):
                ax.step(ct, bound, where="post", color=style["color"], linestyle=style["linestyle"],
                        linewidth=0.6, alpha=0.55, gid=f"{gid}-ci-{side}")
        censored = np.asarray(kmf.durations, dtype=float)[np.asarray(kmf.event_observed) == 0]
        if len(censored):
            ax.plot(censored, kmf.survival_function_at_times(censored).to_numpy(), "|", color=style["color"],
                    ms=5, mew=0.9)
        if mark_medians and np.isfinite(median):
            ax.plot([0, median, median], [0.5, 0.5, 0], ls=":", lw=0.7, color=style["color"])
    xmax = max(float(np.max(k.durations)) for k in fitters) if fitters else 1.0
    ax.set_xlim(0, xmax * 1.02)
    ax.set_ylim(0, 1.02)
    if tick_step:
        ax.xaxis.set_major_locator(MultipleLocator(tick_step))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if annotate_p is not None:
        ax.text(0.98, 0.98, f"log-rank {format_p(annotate_p)}", transform=ax.transAxes, ha="right", va="top")
    legend = ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False, handlelength=2.2,
                       borderaxespad=0.2)
    ax.km_legend_rows = len(legend.get_texts())
    if at_risk and fitters:
        ticks = [t for t in ax.get_xticks() if 0 <= t <= ax.get_xlim()[1] + 1e-9]
        # the table hangs a fixed distance below the axes (in points, not a share of the axes' height, so
        # that a tight layout finds it where it drew it): room for the tick labels and the axis label
        row_pt, below_pt = 1.45 * figures.FONT_PT, 3.4 * figures.FONT_PT + 14
        from matplotlib import transforms

        fig = ax.figure
        points = transforms.Affine2D().scale(1 / 72) + fig.dpi_scale_trans
        below_axes = points + transforms.ScaledTranslation(0, 0, ax.transAxes)
        where = transforms.blended_transform_factory(ax.transAxes, below_axes)
        height = row_pt * len(fitters)
        table = ax.inset_axes([0, -(below_pt + height), 1, height], transform=where, sharex=ax)
        table.set_ylim(len(fitters) - 0.5, -0.5)
        table.set_axis_off()
        table.text(0, 1.0, "Number at risk", transform=table.transAxes, ha="left", va="bottom",
                   fontweight="bold")
        left_of_axes = points + transforms.ScaledTranslation(0, 0, table.transAxes)  # x in points from its left
        key = transforms.blended_transform_factory(left_of_axes, table.transData)
        for row, (kmf, style) in enumerate(zip(fitters, styles)):
            # each row keyed by a short stretch of its curve (colour and line style), as survminer does
            table.plot([-30, -12], [row, row], transform=key, color=style["color"],
                       linestyle=style["linestyle"], linewidth=1.3, clip_on=False)
            for tick, n in zip(ticks, numbers_at_risk(kmf, ticks)):
                table.text(tick, row, privacy.count_text(n, min_cell), ha="center", va="center",
                           color=style["color"])
        ax.at_risk_axes = table
    return ax


def km_title(ax, text: str, **kwargs):
    """Set the title of a `plot_km` axes above its legend (which sits above the axes); returns the title."""
    rows = getattr(ax, "km_legend_rows", 0)
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    size = FontProperties(size=mpl.rcParams["legend.fontsize"]).get_size_in_points()
    pad = 4 + rows * size * 1.5 + (0.9 * size if rows else 0)
    return ax.set_title(text, pad=pad, **kwargs)


def plot_followup(durations, event_observed, ax=None, **kwargs):
    """One horizontal line per patient from time 0 to death (x) or censoring (o),
    sorted by time: a picture of what censoring means. `kwargs` go to `ax.hlines`.
    Returns `ax`."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    d = pd.DataFrame({"t": np.asarray(durations, dtype=float), "e": np.asarray(event_observed).astype(int)})
    d = d.sort_values("t").reset_index(drop=True)
    ax.hlines(d.index, 0, d["t"], color=kwargs.pop("color", "0.6"), lw=kwargs.pop("lw", 1), **kwargs)
    ax.plot(d.loc[d.e == 1, "t"], d.index[d.e == 1], "x", color="C3", ms=5, label="death (event)")
    ax.plot(d.loc[d.e == 0, "t"], d.index[d.e == 0], "o", mfc="white", color="C0", ms=4,
            label="alive at last contact (censored)")
    ax.set_ylabel("Patients (sorted by follow-up)")
    ax.set_yticks([])
    ax.legend(loc="lower right", frameon=False)
    return ax


def plot_forest(table, ax=None, annotate=True, min_cell=0, **kwargs):
    """Forest plot of hazard ratios from `cox_table` (or `table3`): one row per factor in the table's
    order, all in one orientation (the compared level against the reference level, as the `comparison`
    column says), a log x axis with a line at HR = 1, and, with `annotate`, columns "HR (95% CI)", "p"
    and "Events" (`events`, "a / b", when the table has them; counts from 1 to `min_cell - 1` read
    "<min_cell"). Rows without an estimate are left out. `kwargs` go to `ax.errorbar`. Returns `ax`."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, NullLocator

    ax = ax or plt.gca()
    t = table.dropna(subset=["hr"]).iloc[::-1]
    if t.empty:
        ax.text(0.5, 0.5, "no estimable hazard ratio", transform=ax.transAxes, ha="center", va="center")
        ax.set_axis_off()
        return ax
    y = np.arange(len(t))
    hr, low, high = (t[c].to_numpy(dtype=float) for c in ("hr", "ci_low", "ci_high"))
    style = {"fmt": "s", "color": "black", "ecolor": "black", "capsize": 2, "ms": 4, "lw": 0.9, **kwargs}
    ax.errorbar(hr, y, xerr=[hr - low, high - hr], **style)
    ax.axvline(1, color="grey", lw=0.7, ls="--")
    ax.set_xscale("log")
    _forest_x(ax, min(low.min(), 0.5) / 1.3, max(high.max(), 2) * 1.3)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, [f"{f}\n{c}" for f, c in zip(t["factor"], t["comparison"])])
    ax.set_ylim(-0.7, len(t) - 0.3)
    ax.set_xlabel("Hazard ratio (95% CI, log scale)")
    if annotate:
        p_col = "multivariable p" if "multivariable p" in t else "p"
        # the columns sit a fixed number of points right of the axes, whatever its width
        columns = [("HR (95% CI)", 7, [f"{h:.2f} ({a:.2f}–{b:.2f})" for h, a, b in zip(hr, low, high)]),
                   ("p", 84, [_p_text(p) for p in t[p_col]] if p_col in t else [""] * len(t))]
        if "events" in t:
            columns.append(("Events", 122, [" / ".join(privacy.count_text(int(x), min_cell)
                                                        for x in str(e).split(" / ") if x.strip().isdigit())
                                             for e in t["events"]]))
        for header, x, texts in columns:
            ax.annotate(header, (1, len(t) - 0.4), xycoords=("axes fraction", "data"), xytext=(x, 0),
                        textcoords="offset points", va="bottom", fontweight="bold", annotation_clip=False)
            for yi, text in enumerate(texts):
                ax.annotate(text, (1, yi), xycoords=("axes fraction", "data"), xytext=(x, 0),
                            textcoords="offset points", va="center", annotation_clip=False)
    return ax


def forest_figure(models: dict, min_cell: int = 0):
    """A double-column figure with one `plot_forest` panel per model of `models` ({title: `cox_table`}), stacked,
    each as high as its rows, with room on the right for the HR, p and events columns. Returns the figure
    (laid out: save it with `helpers.savefig(..., layout=False)`)."""
    import matplotlib.pyplot as plt

    from src.present import figures

    rows = [max(len(t.dropna(subset=["hr"])), 1) for t in models.values()]
    panels = [0.42 * r + 0.2 for r in rows]  # inches of axes per panel
    gap, top, bottom = 0.95, 0.3, 0.65  # inches: between panels (x label, next title), above, below
    height = sum(panels) + gap * (len(rows) - 1) + top + bottom
    width = figures.size("double")[0]
    fig, axes = plt.subplots(len(rows), 1, figsize=(width, round(height, 4)), squeeze=False,
                             gridspec_kw={"height_ratios": panels})
    fig.subplots_adjust(left=0.3, right=0.66, top=1 - top / height, bottom=bottom / height,
                        hspace=gap / (sum(panels) / len(panels)))
    for ax, (title, table) in zip(axes[:, 0], models.items()):
        plot_forest(table, ax=ax, min_cell=min_cell)
        ax.set_title(title, loc="left")
    drawn = [ax for ax in axes[:, 0] if ax.axison]  # a panel without an estimate has no axis
    if len(drawn) > 1:  # one hazard-ratio scale for every panel, so that the models compare by eye
        limits = np.array([ax.get_xlim() for ax in drawn])
        for ax in drawn:
            _forest_x(ax, limits[:, 0].min(), limits[:, 1].max())
    return fig


FOREST_TICKS = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]


def _forest_x(ax, lo, hi) -> None:
    """A forest plot's hazard-ratio axis from `lo` to `hi`, ticked at the round values between."""
    from matplotlib.ticker import FixedLocator

    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator([v for v in FOREST_TICKS if lo <= v <= hi]))


def _p_text(p) -> str:
    if p is None or (isinstance(p, float) and np.isnan(p)):
        return ""
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"
