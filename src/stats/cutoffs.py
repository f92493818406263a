"""Cut-offs and their cost: how the log-rank p of a dichotomised factor depends on where it is cut, and how
often choosing the cut-off with the smallest p finds an effect that is not there.

Splitting a continuous factor (AFP, albumin, age) at a cut-off "below" / "at or above" loses information,
and a cut-off chosen after looking at the data, the one with the smallest p, makes a chance finding likely:
each candidate cut-off is another test (Altman et al., J Natl Cancer Inst 1994; Lausen and Schumacher,
Biometrics 1992).

- `candidate_cutoffs`: every observed value between two percentiles (default the 10th and 90th).
- `quantile_grid`: cut-offs at evenly spaced percentiles instead (private mode: no patient's value).
- `logrank_by_cutoff`: the log-rank p of the two levels at each candidate cut-off.
- `simulate_min_p`: a seeded simulation under no effect (survival independent of the factor, exponential
  times, independent exponential censoring; it uses no data): the share of studies in which the smallest
  p over the candidate cut-offs, or the p at one cut-off fixed in advance (the median), is below alpha.

Log-rank p-values are `faststats.logrank_p` (hypergeometric variance, as lifelines and R's survdiff).
The plots (p against the cut-off, a slider over the cut-off) are in src/present/diagnostics.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from src.stats import faststats

N_PATIENTS = 38          # the paper's SPP cohort (patients who progressed with a Child-Pugh score of 8 or less)
CENSORED_SHARE = 0.25    # expected share of censored times in the simulation
PERCENTILES = (10, 90)   # candidate cut-offs: observed values between these percentiles


def candidate_cutoffs(values, percentiles=PERCENTILES) -> np.ndarray:
    """The distinct observed values between the two `percentiles` (inclusive), in order: each is a cut-off
    splitting the factor into "< c" and ">= c" with both levels non-empty."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(float)
    if len(x) == 0:
        return np.array([])
    low, high = np.percentile(x, percentiles)
    cuts = np.unique(x[(x >= low) & (x <= high)])
    return cuts[cuts > x.min()]  # a cut at the minimum leaves the lower level empty


def quantile_grid(values, percentiles=PERCENTILES, points: int = 33) -> np.ndarray:
    """`points` cut-offs evenly spaced in percentile between the two `percentiles` (interpolated quantiles,
    aggregates rather than any patient's value: for private mode), without repeats."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(float)
    if len(x) == 0:
        return np.array([])
    cuts = np.unique(np.percentile(x, np.linspace(*percentiles, points)))
    return cuts[cuts > x.min()]


def logrank_by_cutoff(df: pd.DataFrame, duration_col, event_col, column, cutoffs=None) -> pd.DataFrame:
    """For each cut-off (default `candidate_cutoffs` of `column`), the patients below and at or above it and
    the log-rank p of the two levels. Rows with a missing value are left out. Columns `cutoff`, `n_below`,
    `n_above`, `p`."""
    d = df[[duration_col, event_col, column]].apply(pd.to_numeric, errors="coerce").dropna()
    x = d[column].to_numpy(float)
    cuts = candidate_cutoffs(x) if cutoffs is None else np.asarray(cutoffs, float)
    if len(cuts) == 0 or d[event_col].sum() == 0:
        return pd.DataFrame(columns=["cutoff", "n_below", "n_above", "p"])
    above = (x[:, None] >= cuts[None, :]).astype(float)
    p = faststats.logrank_p(d[duration_col].to_numpy(float), d[event_col].to_numpy(bool), above)
    return pd.DataFrame({"cutoff": cuts, "n_below": (above == 0).sum(0), "n_above": above.sum(0).astype(int), "p": p})


def _one_study(rng, n, censored_share):
    """Times, events and an unrelated continuous factor of one simulated study (hazard 1, censoring hazard
    chosen so that `censored_share` of the times are censored on average)."""
    t = rng.exponential(1.0, n)
    c = rng.exponential(1.0 / (censored_share / (1 - censored_share)), n) if censored_share > 0 else np.full(n, np.inf)
    x = rng.normal(size=n)
    return np.minimum(t, c), t <= c, x


def simulate_min_p(replicates: int = 1000, n: int = N_PATIENTS, alpha: float = 0.05, seed: int = 21,
                   censored_share: float = CENSORED_SHARE, percentiles=PERCENTILES) -> dict:
    """Simulate `replicates` studies of `n` patients whose survival does not depend on the factor.

    In each, the log-rank p is computed at every candidate cut-off (`candidate_cutoffs`) and at the
    median, a cut-off fixed before looking at the outcome. Returns `nominal_alpha`, `replicates`,
    `share_min_p_below_alpha` (share of studies whose smallest p is below `alpha`: the false-positive rate of
    choosing the best cut-off), `share_prespecified_below_alpha` (the same with the median: near `alpha`),
    `cutoffs_tried` (median number of candidate cut-offs per study). Seeded: the same numbers every run.
    """
    rng = np.random.default_rng(seed)
    min_p, pre_p, tried = np.empty(replicates), np.empty(replicates), np.empty(replicates)
    for i in range(replicates):
        time, event, x = _one_study(rng, n, censored_share)
        cuts = candidate_cutoffs(x, percentiles)
        groups = np.column_stack([x >= np.median(x), x[:, None] >= cuts[None, :]]).astype(float)
        p = faststats.logrank_p(time, event, groups)
        pre_p[i], min_p[i], tried[i] = p[0], np.nanmin(p[1:]), len(cuts)
    return {"nominal_alpha": alpha, "replicates": replicates,
            "share_min_p_below_alpha": float(np.mean(min_p < alpha)),
            "share_prespecified_below_alpha": float(np.mean(pre_p < alpha)),
            "cutoffs_tried": float(np.median(tried))}
