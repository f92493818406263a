"""The statistics of the rank stage (step 3a), for many candidate states at once.

Log-rank tests and the Cox model depend on survival times only through their order, so a state of the
rank stage is an order of the 38 SPP patients with their censoring and covariates. `ranked_statistics`
fits the log-rank p of the model's three factors and the Cox model of Table 3 for a batch of such states
in a few whole-array operations; `fit_states` adds whether each state is allowed. Also where the two
group medians may stand (`median_bounds`, `sorafenib_median_later`, `curves_cross`) and the ids of the
rank stage's published numbers (`rank_targets`).
"""
from __future__ import annotations

import numpy as np

from src.stats import faststats as fs
from src.study import DAYS_PER_MONTH
from src.synthetic.design import CUTOFFS, MIN_SPP_DAYS
from src.synthetic.marginals import child_pugh_points

COX_FACTORS = ("tbil", "ascites", "sorafenib")  # Table 3's multivariable model, in the notebooks' column order
RANK_P_WEIGHT = 5.0  # weight of the three log-rank p in the rank-stage loss (the Cox numbers weigh 1)
MAX_MEDIAN_GAP = 30  # at most this many patients between the two groups' median SPP times


def _pattern_moments(m):
    """The 2**m patterns of m binary covariates ((P, m), pattern p has bit j of p as covariate j) and, per
    pattern, the terms of the Cox model's risk-set sums ((1 + m + m(m-1)/2, P): 1, each x_j, each x_j x_l with
    j < l in `np.triu_indices` order; x_j^2 = x_j)."""
    patterns = np.array([[(p >> j) & 1 for j in range(m)] for p in range(2 ** m)], float)
    a_, b_ = np.triu_indices(m, 1)
    return patterns, np.column_stack([np.ones(len(patterns)), patterns, patterns[:, a_] * patterns[:, b_]]).T


def ranked_statistics(X, E, beta0, newton=12, block=256):
    """Log-rank p of the three model factors and the Cox fit for K candidate orderings at once.

    X: (K, n, 3) binary covariates [bilirubin >= cut-off, no ascites, other salvage] with rows in time
    order (no two times equal, so every risk set is a suffix); E: (K, n) events. Same conventions as
    `faststats.logrank_p` and `faststats.cox_fit`. Returns (p (K, 3), beta (K, 3), se (K, 3), converged (K,)).
    Computed `block` candidates at a time (`_ranked_block`), so that the arrays stay in the processor's cache.
    """
    parts = [_ranked_block(X[i:i + block], E[i:i + block], beta0[i:i + block], newton)
             for i in range(0, max(len(X), 1), block)]  # (one empty block if K = 0)
    return tuple(np.concatenate(results) for results in zip(*parts))


def _ranked_block(X, E, beta0, newton):
    """`ranked_statistics` of one block of candidates.

    Three binary covariates take only 2**3 patterns, so every risk-set sum of the Cox model is, at each
    time, the number of patients of each pattern still at risk (`N`, counted once per candidate) times
    that pattern's weight exp(x'beta): one small matrix product per Newton step instead of a sum over the
    patients. Arrays are covariate-major with the candidates last ((columns, n, K)).
    """
    K, n, m = X.shape
    patterns, terms = _pattern_moments(m)
    P = len(patterns)
    code = (X.astype(np.int64) << np.arange(m)).sum(2).T  # (n, K): the pattern of each patient
    N = (code[None] == np.arange(P)[:, None, None]).astype(float)  # (P, n, K)
    N = np.ascontiguousarray(np.cumsum(N[:, ::-1], axis=1)[:, ::-1])  # patients of each pattern at risk
    Ef = np.ascontiguousarray(E.T, dtype=float)  # (n, K)
    Xt = np.ascontiguousarray(X.transpose(2, 1, 0), dtype=float)  # (m, n, K)
    f = (patterns.T @ N.reshape(P, -1)).reshape(m, n, K) / (n - np.arange(n)).astype(float)[None, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = fs._chi2_sf_1df(((Xt - f) * Ef).sum(1) ** 2 / (f * (1 - f) * Ef).sum(1)).T
    a_, b_ = np.triu_indices(m, 1)
    sumX = (Xt * Ef).sum(1).T
    beta, se = beta0.copy(), np.full((K, m), np.nan)
    ok, active = np.zeros(K, bool), np.ones(K, bool)
    for _ in range(newton):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        Na, Ea = (N, Ef) if idx.size == K else (N[:, :, idx], Ef[:, idx])
        b = beta[idx]
        weight = np.exp(np.clip(b @ patterns.T, -50, 50))  # (k, P): exp(x'beta) of each pattern
        sums = (terms @ (Na * weight.T[:, None, :]).reshape(P, -1)).reshape(len(terms), n, len(idx))
        mom = sums[1:] / sums[:1]
        xbar = mom[:m]
        grad = sumX[idx] - (xbar * Ea).sum(1).T
        diag = ((xbar - xbar ** 2) * Ea).sum(1).T
        off = ((mom[m:] - xbar[a_] * xbar[b_]) * Ea).sum(1).T
        info = np.zeros((len(idx), m, m))
        info[:, np.arange(m), np.arange(m)] = diag
        info[:, a_, b_] = info[:, b_, a_] = off
        det = np.linalg.det(info)
        good = np.isfinite(det) & (np.abs(det) > 1e-12)
        step = np.zeros_like(b)
        if good.any():
            step[good] = np.linalg.solve(info[good], grad[good][:, :, None])[:, :, 0]
        beta[idx] = b + step
        done = good & (np.max(np.abs(step), 1) < 1e-7)  # quadratic convergence: beta to ~1e-14
        bad = ~good | ~np.all(np.isfinite(beta[idx]), 1) | (np.max(np.abs(beta[idx]), 1) > 20)
        if done.any():
            se[idx[done]] = np.sqrt(np.diagonal(np.linalg.inv(info[done]), axis1=1, axis2=2))
            ok[idx[done]] = True
        active[idx[done | bad]] = False
    return p, beta, se, ok


def median_position(G, E):
    """Position (time order) of the Kaplan-Meier median of the rows where G (K, n) is True; n if not reached."""
    n = G.shape[1]
    at_risk = np.cumsum(G[:, ::-1], axis=1)[:, ::-1].astype(float)
    s = np.cumprod(np.where(G & E, 1.0 - 1.0 / np.maximum(at_risk, 1), 1.0), axis=1)
    below = s <= 0.5
    return np.where(below.any(1), below.argmax(1), n)


def rank_statistics(p, beta, se) -> dict:
    """The published statistics of the rank stage for a batch of states (one row each): the
    log-rank p of bilirubin, ascites and sorafenib, and each Cox factor's HR, 95% CI and Wald p."""
    stats_ = {"t3_uni_p_tbil": p[:, 0], "t3_uni_p_ascites": p[:, 1], "spp_logrank_p": p[:, 2]}
    for j, name in enumerate(COX_FACTORS):
        stats_[f"t3_multi_hr_{name}"] = np.exp(beta[:, j])
        stats_[f"t3_multi_ci_low_{name}"] = np.exp(beta[:, j] - fs.Z975 * se[:, j])
        stats_[f"t3_multi_ci_high_{name}"] = np.exp(beta[:, j] + fs.Z975 * se[:, j])
        stats_[f"t3_multi_p_{name}"] = fs._chi2_sf_1df((beta[:, j] / se[:, j]) ** 2)
    return stats_


def rank_targets(T, D, skip):
    """Ids of the rank stage's published numbers, their values, rounding units and loss weights."""
    keys = ["t3_uni_p_tbil", "t3_uni_p_ascites", "spp_logrank_p"] + \
        [f"t3_multi_{q}_{name}" for name in COX_FACTORS for q in ("hr", "ci_low", "ci_high", "p")]
    keys = [k for k in keys if k in T and k not in skip]
    return (keys, np.array([T[k] for k in keys]), np.array([10.0 ** -D[k] for k in keys]),
            np.array([RANK_P_WEIGHT if k.startswith(("t3_uni", "spp")) else 1.0 for k in keys]))


def sorafenib_median_later(T) -> bool:
    """Whether the printed median SPP of the sorafenib group is the later of the two (the paper's case);
    the rank stage places the two median patients in this order."""
    return T["spp_median_sor"] >= T["spp_median_oth"]


def median_days(T, decimals: int = 1) -> tuple[int, int]:
    """The SPP days of the sorafenib and the other group's median patients: each printed median in days. When
    the two printed medians fall on the same day (equal printed values), the earlier median patient takes the
    first and the later one the last day whose value in months still rounds to the printed one (at `decimals`,
    the paper's precision of a median, away from the interval's edges), so that the two have days of their own
    and patients may lie between them."""
    d_s, d_o = (int(round(T[k] * DAYS_PER_MONTH)) for k in ("spp_median_sor", "spp_median_oth"))
    if d_s != d_o:
        return d_s, d_o
    half = 0.45 * 10.0 ** -decimals
    first = int(np.ceil((min(T["spp_median_sor"], T["spp_median_oth"]) - half) * DAYS_PER_MONTH))
    later = int(np.floor((max(T["spp_median_sor"], T["spp_median_oth"]) + half) * DAYS_PER_MONTH))
    return (later, first) if sorafenib_median_later(T) else (first, later)


def median_bounds(T) -> tuple[int, int]:
    """Where the rank stage may put the two median patients so that `_spp_days` can give every patient
    its own day with both printed medians in place: (most positions between the earlier and the later
    median patient, most patients before the earlier one). `MAX_MEDIAN_GAP`, or fewer when the printed
    medians are fewer days apart; one patient a day from `MIN_SPP_DAYS` before the earlier median."""
    d_first, d_later = sorted(median_days(T))
    return min(MAX_MEDIAN_GAP, d_later - d_first), d_first - MIN_SPP_DAYS


def curves_cross(T) -> bool:
    """Whether the printed median SPP and the printed hazard ratio of the other salvage point opposite
    ways (sorafenib's median the earlier one with HR > 1, or the later one with HR < 1): the survival
    curves then cross, the Cox model pulls the median patients out of their printed order, and the
    rank stage holds that order with `CROSSING_ORDER_WEIGHT`."""
    hr = T.get("t3_multi_hr_sorafenib", 1.0)
    return hr != 1.0 and (hr > 1.0) != sorafenib_median_later(T)


def fit_ranked_states(O, EV, TB, AS, sor, beta):
    """`ranked_statistics` of K rank-stage states ((K, n) arrays: `O` lists the patients by time, the event,
    bilirubin and ascites are per patient; `sor` marks the sorafenib group; the fits start from `beta`), and the
    time-order positions of the sorafenib and the other group's Kaplan-Meier medians (`median_position`)."""
    cov = np.stack([TB >= CUTOFFS["tbil"], ~AS, np.broadcast_to(~sor, TB.shape)], axis=2).astype(float)
    X = cov[np.arange(len(O))[:, None], O]  # rows in time order (take_along_axis, faster)
    E = np.take_along_axis(EV, O, axis=1)
    G = np.take_along_axis(np.broadcast_to(sor, EV.shape), O, axis=1)
    p, b, se, ok = ranked_statistics(X, E, beta)
    return p, b, se, ok, median_position(G, E), median_position(~G, E)


def fit_states(O, EV, TB, AS, alb, pt, sor, beta, sor_later=True, bounds=(MAX_MEDIAN_GAP, np.inf)):
    """Log-rank p, Cox coefficients and standard errors of K rank-stage states ((K, n) arrays: `O` lists the
    patients by time, the others are per patient), and whether each state is allowed: the fit converged,
    both group medians are reached (the other group's first, at most `bounds[0]` patients apart and at most
    `bounds[1]` patients before the first: `median_bounds`), at least half the patients died, and every
    Child-Pugh score is at most 8 (with `alb`, `pt` per patient)."""
    n = O.shape[1]
    p, b, se, ok, pos_s, pos_o = fit_ranked_states(O, EV, TB, AS, sor, beta)
    if not sor_later:  # `sorafenib_median_later`
        pos_s, pos_o = pos_o, pos_s
    feasible = ok & (pos_s < n) & (pos_o < pos_s) & (pos_s - pos_o <= bounds[0]) & (pos_o <= bounds[1]) \
        & (EV.sum(1) >= int(np.ceil(0.5 * n))) & (child_pugh_points(TB, alb, pt, AS) <= 8).all(1)
    return p, b, se, feasible
