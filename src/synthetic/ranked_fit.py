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


def _suffix_sums(a) -> np.ndarray:
    """Sums over the first axis from each row to the last (`np.cumsum(a[::-1], axis=0)[::-1]`: the same
    additions in the same order), one row at a time: faster than NumPy's cumsum along a first axis."""
    out = np.empty_like(a)
    out[-1] = a[-1]
    for i in range(len(a) - 2, -1, -1):
        np.add(out[i + 1], a[i], out=out[i])
    return out


def _linear_predictor(X, beta) -> np.ndarray:
    """x'beta of the Cox model for covariates X (n, 3, K) and coefficients beta (K, 3): (n, K).

    The three terms are added as (x0 b0 + x2 b2) + x1 b1, the order of the vectorised loop of
    `np.einsum("knj,kj->kn", X, beta)` with which the cohort was calibrated (the same floats but for the sign
    of a zero, which the exponential removes: the same cohort; `tests/test_reconstruct.py` checks it), in a
    few whole-array operations instead of einsum's many 3-term loops."""
    b = beta.T
    return (X[:, 0] * b[0] + X[:, 2] * b[2]) + X[:, 1] * b[1]


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

    Inside, arrays are time-major with the candidates last ((n, columns, K)): every sum over the patients
    then adds whole rows one after the other, which is what NumPy does over axis 1 of a (K, n, columns)
    array (the same additions in the same order, so the same floats), only with long contiguous rows.
    """
    K, n, m = X.shape
    Xt = np.ascontiguousarray(X.transpose(1, 2, 0), dtype=float)  # (n, m, K)
    Ef = np.ascontiguousarray(E.T, dtype=float)[:, None, :]  # (n, 1, K)
    f = _suffix_sums(Xt) / (n - np.arange(n)).astype(float)[:, None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = fs._chi2_sf_1df(((Xt - f) * Ef).sum(0) ** 2 / (f * (1 - f) * Ef).sum(0)).T
    # binary covariates: x_j^2 = x_j, so the second moments need only the three cross products
    a_, b_ = np.triu_indices(m, 1)
    XP = np.concatenate([np.ones((n, 1, K)), Xt, Xt[:, a_] * Xt[:, b_]], axis=1)
    sumX = (Xt * Ef).sum(0).T
    beta, se = beta0.copy(), np.full((K, m), np.nan)
    ok, active = np.zeros(K, bool), np.ones(K, bool)
    for _ in range(newton):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        XPa, Ea = (XP, Ef) if idx.size == K else (XP[:, :, idx], Ef[:, :, idx])
        b = beta[idx]
        w = np.exp(np.clip(_linear_predictor(XPa[:, 1:m + 1], b), -50, 50))
        cs = _suffix_sums(w[:, None, :] * XPa)
        mom = cs[:, 1:] / cs[:, :1]
        xbar = mom[:, :m]
        grad = sumX[idx] - (xbar * Ea).sum(0).T
        diag = ((xbar - xbar ** 2) * Ea).sum(0).T
        off = ((mom[:, m:] - xbar[:, a_] * xbar[:, b_]) * Ea).sum(0).T
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


def median_bounds(T) -> tuple[int, int]:
    """Where the rank stage may put the two median patients so that `_spp_days` can give every patient
    its own day with both printed medians in place: (most positions between the earlier and the later
    median patient, most patients before the earlier one). `MAX_MEDIAN_GAP`, or fewer when the printed
    medians are fewer days apart; one patient a day from `MIN_SPP_DAYS` before the earlier median."""
    d_first, d_later = sorted(int(round(T[k] * DAYS_PER_MONTH)) for k in ("spp_median_sor", "spp_median_oth"))
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
