"""The test of proportional hazards of R's `cox.zph` (survival >= 3.0), for lifelines Cox fits.

A Cox model assumes that each hazard ratio is constant over time. Grambsch and Therneau (1994) test it
by letting a coefficient drift with a function g(t) of time, beta(t) = beta + theta g(t), and testing
theta = 0 with a score test at the fitted beta. R's `cox.zph` has computed that score test exactly since
survival 3.0 (2019): the score of theta and the full 2p x 2p information matrix of (beta, theta), one
chi-square per model term (a factor with k levels is one term of k - 1 degrees of freedom) and a global
one. lifelines' `proportional_hazard_test` computes the older approximation (a regression of the
scaled residuals on time with the variance of beta-hat), so its numbers differ; these functions give R's.

- `cox_zph`: the test from the data, the coefficients and the time transform ("km", "rank",
  "identity", "log"), for right-censored or counting-process (start, stop] data, Efron or Breslow ties;
  also the scaled Schoenfeld residuals R plots (`plot(cox.zph(fit))`).
- `zph_table`: the same from a lifelines `CoxPHFitter` or `CoxTimeVaryingFitter` and its data.
- `fit_time_varying`: a lifelines `CoxTimeVaryingFitter` on counting-process rows, or None;
  `long_table`: the tables of several models one under the other.

Conventions as R's: the "km" transform is 1 - S(t-) of the Kaplan-Meier curve of all the data
(left-continuous), centred at its mean over the deaths; the tests use the information matrix at the
fitted coefficients. Checked against R (tests/r/zph.R) in tests/test_zph.py.
Statistics only, nothing else of `src`: the residual plots (`diagnostics.plot_zph`, `diagnostics.zph_figure`)
are in src/present/diagnostics.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

TRANSFORMS = ("km", "rank", "identity", "log")


def _km_left(entry, stop, event) -> np.ndarray:
    """1 - S(t-) at each row's stop time: the Kaplan-Meier curve of all rows ((entry, stop] risk sets)."""
    times = np.unique(stop[event])
    n_risk = np.array([np.sum((entry < t) & (stop >= t)) for t in times])
    deaths = np.array([np.sum((stop == t) & event) for t in times])
    surv = np.cumprod(1.0 - deaths / n_risk)
    before = np.searchsorted(times, stop, side="left")  # event times strictly before each stop time
    return 1.0 - np.concatenate([[1.0], surv])[before]


def transform_time(stop, event, entry=None, transform="km") -> np.ndarray:
    """The transformed time g(t) of each row, as `cox.zph` computes it before centring."""
    stop, event = np.asarray(stop, float), np.asarray(event, bool)
    entry = np.full(len(stop), -np.inf) if entry is None else np.asarray(entry, float)
    if transform == "km":
        return _km_left(entry, stop, event)
    if transform == "rank":
        return stats.rankdata(stop)
    if transform == "identity":
        return stop.copy()
    if transform == "log":
        return np.log(stop)
    raise ValueError(f"unknown transform {transform!r}: use one of {', '.join(TRANSFORMS)}")


def _score_and_information(stop, event, X, beta, gtime, entry, efron):
    """Score of theta (the time-drift coefficients) at theta = 0, the 2p x 2p information matrix of
    (beta, theta) and the unscaled Schoenfeld residuals (one row per death, in time order): R's zph1/zph2."""
    n, p = X.shape
    X = X - X.mean(axis=0)  # as R: centring changes nothing but the rounding
    risk = np.exp(X @ beta)
    u = np.zeros(2 * p)
    imat = np.zeros((2 * p, 2 * p))
    schoen, death_rows = [], []
    for t in np.unique(stop[event]):
        dead = (stop == t) & event
        alive = (entry < t) & (stop >= t) & ~dead
        g = gtime[dead][0]
        r0, r2 = risk[alive], risk[dead]
        denom, denom2 = r0.sum(), r2.sum()
        a, a2 = r0 @ X[alive], r2 @ X[dead]
        c, c2 = (X[alive] * r0[:, None]).T @ X[alive], (X[dead] * r2[:, None]).T @ X[dead]
        nd = int(dead.sum())
        fractions = np.arange(1, nd + 1) / nd if efron else np.ones(1)
        weight = 1.0 if efron else float(nd)  # Efron: each death one step of the tied set; Breslow: all at once
        means = []
        for f in fractions:
            mean = (a + f * a2) / (denom + f * denom2)
            v = (c + f * c2) / (denom + f * denom2) - np.outer(mean, mean)
            means.append(mean)
            u[:p] -= weight * mean
            u[p:] -= weight * g * mean
            imat += weight * np.block([[v, g * v], [g * v, g * g * v]])
        xs = X[dead]
        u[:p] += xs.sum(0)
        u[p:] += g * xs.sum(0)
        schoen.append(xs - np.mean(means, axis=0))
        death_rows.append(np.flatnonzero(dead))
    return u, imat, np.vstack(schoen), np.concatenate(death_rows)


def cox_zph(durations, event_observed, X, beta, entry=None, terms=None, ties="efron", transform="km") -> dict:
    """R's `cox.zph(fit, transform, terms = TRUE)` for a Cox model with coefficients `beta` on `X`.

    `durations` are the stop times, `entry` the start times of counting-process rows ((entry, stop]:
    a time-varying covariate; None for right-censored data); `X` an n x p array (or DataFrame) of the
    covariates in the order of `beta`; `terms` maps a term's name to its columns (indices or names of
    `X`; a factor's dummy columns form one term), default one term per column; `ties` "efron" or
    "breslow" as in the fit. Returns a dict:

    - `table`: DataFrame with `term`, `chisq`, `df`, `p`, one row per term and a last row "GLOBAL";
    - `x`: the transformed time of each death (time order), `time`: its time;
    - `coef`: the coefficient of each one-column term (the constant beta the residuals scatter around);
    - `y`: the scaled Schoenfeld residuals (DataFrame, one column per term), beta(t) estimates: a term's
      coefficient plus the residual scaled by the information per death (a multi-column term: 1 + its
      linear predictor's residual, as R).
    """
    names = list(X.columns) if isinstance(X, pd.DataFrame) else [f"x{j + 1}" for j in range(np.shape(X)[1])]
    X = np.asarray(X, float)
    beta = np.asarray(beta, float)
    stop, event = np.asarray(durations, float), np.asarray(event_observed, float) == 1
    entry = np.full(len(stop), -np.inf) if entry is None else np.asarray(entry, float)
    if ties not in ("efron", "breslow"):
        raise ValueError("ties must be 'efron' or 'breslow'")
    p = X.shape[1]
    terms = {n: [j] for j, n in enumerate(names)} if terms is None else {
        k: [names.index(c) if isinstance(c, str) else int(c) for c in ([v] if isinstance(v, (str, int)) else v)]
        for k, v in terms.items()}
    ttimes = transform_time(stop, event, entry, transform)
    gtime = ttimes - ttimes[event].mean()
    u, imat, schoen, rows = _score_and_information(stop, event, X, beta, gtime, entry, ties == "efron")

    def score_test(cols):
        kk = list(range(p)) + [p + j for j in cols]
        uu = np.concatenate([np.zeros(p), u[[p + j for j in cols]]])
        return float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))

    table = [(name, score_test(cols), len(cols)) for name, cols in terms.items()]
    table.append(("GLOBAL", score_test(list(range(p))), p))
    table = pd.DataFrame(table, columns=["term", "chisq", "df"])
    table["p"] = stats.chi2.sf(table["chisq"], table["df"])

    # scaled residuals (one stratum; a covariate constant in the data gets NaN, as R)
    used = np.array([len(np.unique(X[:, j])) > 1 for j in range(p)])
    weights = np.zeros((p, len(terms)))
    for i, cols in enumerate(terms.values()):
        weights[cols, i] = 1.0 if len(cols) == 1 else beta[cols]
    vmean = weights.T @ (imat[:p, :p] / event.sum()) @ weights
    resid = schoen @ weights
    keep = np.array([used[cols].all() for cols in terms.values()])
    scaled = np.full(resid.shape, np.nan)
    if keep.any():
        scaled[:, keep] = np.linalg.solve(vmean[np.ix_(keep, keep)], resid[:, keep].T).T
    scaled += np.array([beta[cols[0]] if len(cols) == 1 else 1.0 for cols in terms.values()])
    order = np.argsort(stop[rows], kind="stable")
    return {"table": table, "x": ttimes[rows][order], "time": stop[rows][order],
            "y": pd.DataFrame(scaled[order], columns=list(terms)), "transform": transform,
            "coef": {name: float(beta[cols[0]]) for name, cols in terms.items() if len(cols) == 1}}


def zph_table(fitter, data: pd.DataFrame, duration_col, event_col, entry_col=None, terms=None,
              transform="km") -> dict:
    """`cox_zph` for a fitted lifelines `CoxPHFitter` (or `CoxTimeVaryingFitter`: pass its `start` column as
    `entry_col` and its `stop` column as `duration_col`) on the data it was fitted to (Efron ties, lifelines'
    only method). Returns what `cox_zph` returns; None when `fitter` is None (a model that was not fitted)."""
    if fitter is None:
        return None
    beta = fitter.params_
    X = data[list(beta.index)]
    entry = None if entry_col is None else data[entry_col]
    return cox_zph(data[duration_col], data[event_col], X, beta.to_numpy(), entry=entry, terms=terms,
                   ties="efron", transform=transform)


def fit_time_varying(long: pd.DataFrame, columns, alpha: float = 0.05, id_col="id", start_col="start",
                     stop_col="stop", event_col="event"):
    """A lifelines `CoxTimeVaryingFitter` (Efron ties) on counting-process rows, with the `columns` that vary
    (a column with one value is left out); None with a printed note when it cannot be fitted."""
    import warnings

    from lifelines import CoxTimeVaryingFitter

    columns = [c for c in columns if c in long and long[c].nunique() > 1]
    if not columns or long[event_col].sum() == 0:
        print("Time-varying Cox model not fitted: " + ("no deaths." if len(columns) else "no covariate varies."))
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return CoxTimeVaryingFitter(alpha=alpha).fit(long[[id_col, start_col, stop_col, event_col, *columns]],
                                                         id_col=id_col, event_col=event_col, start_col=start_col,
                                                         stop_col=stop_col)
    except Exception as err:  # lifelines raises ConvergenceError when the fit breaks down
        print(f"Time-varying Cox model not fitted: {type(err).__name__}.")
        return None


def long_table(results: dict) -> pd.DataFrame:
    """The tables of several `cox_zph` results (model name -> result; None: a model not fitted, left out)
    one under the other: columns `model`, `term`, `chisq`, `df` (float), `p`."""
    parts = [r["table"].assign(model=name) for name, r in results.items() if r is not None]
    if not parts:
        return pd.DataFrame(columns=["model", "term", "chisq", "df", "p"])
    out = pd.concat(parts, ignore_index=True)[["model", "term", "chisq", "df", "p"]]
    return out.astype({"df": float})  # degrees of freedom, not a count of patients that MIN_CELL would suppress
