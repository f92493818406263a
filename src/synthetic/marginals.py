"""Exact marginals: shuffled labels with given counts, values with a given median, minimum and maximum, and
the lowest Child-Pugh score the laboratory values and ascites allow."""
from __future__ import annotations

import numpy as np
import pandas as pd

from src.validate import child_pugh_points_range


def counts_vector(rng, counts: dict) -> np.ndarray:
    """A shuffled array with each label repeated its count."""
    out = np.concatenate([[k] * int(n) for k, n in counts.items()])
    return rng.permutation(out)


def values_with_summary(rng, n, median, lo, hi, decimals, log=False, above=None) -> np.ndarray:
    """n sorted values with exactly this minimum, median and maximum (n odd).

    Free values are drawn between the fixed ones (log-uniform if `log`) and
    rounded to `decimals`. `above=(threshold, k)` forces exactly k values > threshold: below the median
    when the median lies above the threshold, else above it (`_split_at_threshold`).
    """
    mid = n // 2
    def draw(a, b, m):
        if log:
            v = np.exp(rng.uniform(np.log(max(a, 1e-3)), np.log(b), m))
        else:
            v = a + (b - a) * rng.beta(1.6, 1.6, m)
        return np.clip(np.round(v, decimals), a, b)
    lower, upper = draw(lo, median, mid - 1), draw(median, hi, n - mid - 2)
    if above is not None:
        lower, upper = _split_at_threshold(draw, lower, upper, (lo, median, hi), above, decimals)
    vals = np.sort(np.concatenate([[lo], lower, [median], upper, [hi]]))
    return vals


def _split_at_threshold(draw, lower, upper, fixed, above, decimals):
    """The free values below and above the median with exactly k of all values > threshold.

    Values above the median all exceed a threshold below it (the ones below the median are then split);
    values below the median never exceed a threshold at or above it (the ones above are then split, between
    the median and the threshold, and from the first rounded value above it to the maximum)."""
    (lo, median, hi), (thr, k) = fixed, above
    first_above = round((np.floor(round(thr * 10 ** decimals, 6)) + 1) / 10 ** decimals, decimals)
    n_free = k - sum(v > thr for v in fixed)  # free values that must exceed the threshold
    if median > thr:
        n_up = n_free - len(upper)  # below the median
        if not 0 <= n_up <= len(lower) or (n_up and first_above > median):
            raise ValueError(f"{k} values above {thr} do not fit a median of {median}")
        if n_up > 0:
            lower[:n_up] = draw(first_above, median, n_up)
        lower = np.where((np.arange(len(lower)) >= n_up) & (lower > thr), draw(lo, thr, len(lower)), lower)
        return lower, upper
    if not 0 <= n_free <= len(upper) or (n_free and first_above > hi):
        raise ValueError(f"{k} values above {thr} do not fit a median of {median} and a maximum of {hi}")
    return lower, np.r_[draw(first_above, hi, n_free), draw(median, thr, len(upper) - n_free)]


def child_pugh_min(tbil, alb, pt, ascites) -> np.ndarray:
    """Lowest Child-Pugh score compatible with the recorded components (mild ascites,
    no encephalopathy): the rule of `src.validate.child_pugh_points_range`."""
    low, _ = child_pugh_points_range(*(pd.Series(np.asarray(x)) for x in (tbil, alb, pt, ascites)))
    return low.to_numpy(dtype=int)


def child_pugh_points(tbil, alb, pt, ascites_yes) -> np.ndarray:
    """Lowest Child-Pugh score of each patient (the rule of `child_pugh_min`), plain NumPy, any shape."""
    b = np.where(tbil < 2, 1, np.where(tbil <= 3, 2, 3))
    a = np.where(alb > 3.5, 1, np.where(alb >= 2.8, 2, 3))
    p = np.where(pt > 70, 1, np.where(pt >= 40, 2, 3))
    return b + a + p + 1 + np.asarray(ascites_yes, int) + 1


def child_pugh_ok(cols) -> bool:
    """Whether every patient of `cols` (a dict of columns) has a Child-Pugh score of at most 8."""
    return bool((child_pugh_points(cols["total_bilirubin"], cols["albumin"], cols["prothrombin_activity"],
                                   cols["ascites"] == "yes") <= 8).all())
