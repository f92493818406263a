"""Small, fast NumPy versions of the statistics the reconstruction calibrates.

The calibration (`src/synthetic/reconstruct.py`) evaluates the study's statistics tens of
thousands of times, so it cannot afford lifelines' per-call overhead. These
functions compute the same quantities with the same conventions as the
notebooks (lifelines), and `tests/test_faststats.py` checks them against
lifelines and scipy:

- `km_median`: first time at which the Kaplan-Meier estimate is <= 0.5
  (lifelines and SPSS convention), `inf` if never reached;
- `km_at`: Kaplan-Meier survival at given times (right-continuous step);
  `km_curve` once and `curve_median`, `curve_at` when both are needed;
- `logrank_p`: log-rank test of one or many binary factors at once
  (hypergeometric variance, as lifelines and R's survdiff);
- `cox_fit`: Cox proportional-hazards fit by Newton-Raphson with Breslow
  ties, identical to Efron (lifelines) when no two events share a time,
  which the calibration guarantees;
- `student_p`: two-sided Student's t-test with pooled variance.
"""
from __future__ import annotations

import numpy as np
from scipy import special

Z975 = 1.959963984540054  # standard normal 97.5% quantile (lifelines' default alpha = 0.05)


def _chi2_sf_1df(x):
    """Upper tail of a chi-square with one degree of freedom."""
    return special.erfc(np.sqrt(np.maximum(x, 0.0) / 2.0))


def _runs(sorted_values):
    """Distinct values of a sorted array, how many times each occurs and where each first occurs (what
    `np.unique` computes after sorting, without its overhead: these functions run thousands of times)."""
    n = len(sorted_values)
    edge = np.empty(n + 1, bool)
    edge[0] = edge[n] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=edge[1:n])
    bounds = edge.nonzero()[0]  # the start of each run, then n
    first = bounds[:-1]
    return sorted_values[first], bounds[1:] - first, first


def km_curve(time, event):
    """Distinct event times and the Kaplan-Meier estimate just after each."""
    time, event = np.asarray(time, float), np.asarray(event, bool)
    t_events = time[event]
    t_events.sort()
    t_ev, d, _ = _runs(t_events)
    t_all = time.copy()
    t_all.sort()
    at_risk = len(time) - t_all.searchsorted(t_ev, side="left")
    return t_ev, np.cumprod(1.0 - d / at_risk)


def curve_median(t_ev, s) -> float:
    """Median of a Kaplan-Meier curve given as `km_curve` returns it: first time with S(t) <= 0.5 (inf if never)."""
    below = np.nonzero(s <= 0.5)[0]
    return float(t_ev[below[0]]) if below.size else np.inf


def curve_at(t_ev, s, at) -> np.ndarray:
    """A Kaplan-Meier curve given as `km_curve` returns it, at each time in `at`."""
    idx = np.searchsorted(t_ev, np.asarray(at, float), side="right") - 1
    return np.where(idx >= 0, s[np.maximum(idx, 0)], 1.0)


def km_median(time, event) -> float:
    """Median survival: first event time with S(t) <= 0.5 (inf if never)."""
    return curve_median(*km_curve(time, event))


def km_at(time, event, at) -> np.ndarray:
    """Kaplan-Meier survival S(t) at each time in `at`."""
    return curve_at(*km_curve(time, event), at)


def logrank_p(time, event, groups) -> np.ndarray:
    """Log-rank p-values of binary factors (columns of `groups`, n x k, 0/1).

    Returns one p-value per column (NaN when a column has one level only).
    """
    time, event = np.asarray(time, float), np.asarray(event, bool)
    g = np.asarray(groups, float)
    if g.ndim == 1:
        g = g[:, None]
    order = np.argsort(time, kind="stable")
    ts, es, gs = time[order], event[order], g[order]
    t_ev, d, first_death = _runs(ts[es])
    d = d.astype(float)
    d1 = np.add.reduceat(gs[es], first_death, axis=0) if len(t_ev) else np.zeros((0, g.shape[1]))  # counts: exact
    first = np.searchsorted(ts, t_ev, side="left")
    n = len(ts) - first
    tail = np.vstack([np.cumsum(gs[::-1], axis=0)[::-1], np.zeros((1, g.shape[1]))])
    n1 = tail[first]
    frac = n1 / n[:, None]
    expected = d[:, None] * frac
    with np.errstate(invalid="ignore", divide="ignore"):
        var = d[:, None] * frac * (1 - frac) * ((n - d) / np.maximum(n - 1, 1))[:, None]
        stat = (d1.sum(0) - expected.sum(0)) ** 2 / var.sum(0)
    return _chi2_sf_1df(stat)


def cox_fit(time, event, X, beta0=None, max_iter=30):
    """Cox model coefficients and standard errors (Breslow ties, Newton-Raphson).

    Returns (beta, se) or (None, None) if the fit does not converge.
    """
    time, event = np.asarray(time, float), np.asarray(event, bool)
    X = np.asarray(X, float)
    order = np.argsort(-time, kind="stable")
    ts, es, Xs = time[order], event[order], X[order]
    # index of the last subject with the same time (risk set = all with time >= t)
    last = np.searchsorted(-ts, -ts, side="right") - 1
    beta = np.zeros(X.shape[1]) if beta0 is None else np.array(beta0, float)
    for _ in range(max_iter):
        w = np.exp(np.clip(Xs @ beta, -50, 50))
        s0 = np.cumsum(w)[last]
        s1 = np.cumsum(w[:, None] * Xs, axis=0)[last]
        s2 = np.cumsum(w[:, None, None] * Xs[:, :, None] * Xs[:, None, :], axis=0)[last]
        xbar = s1[es] / s0[es, None]
        grad = (Xs[es] - xbar).sum(0)
        info = (s2[es] / s0[es, None, None] - xbar[:, :, None] * xbar[:, None, :]).sum(0)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return None, None
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            cov = np.linalg.inv(info)
            return beta, np.sqrt(np.diag(cov))
        if not np.all(np.isfinite(beta)) or np.max(np.abs(beta)) > 20:
            return None, None
    return None, None


def student_p(a, b) -> float:
    """Two-sided p of Student's t-test (pooled variance) comparing samples a and b."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    na, nb = len(a), len(b)
    sp2 = (((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / (na + nb - 2)
    t = (a.mean() - b.mean()) / np.sqrt(sp2 * (1 / na + 1 / nb))
    return float(2 * special.stdtr(na + nb - 2, -abs(t)))
