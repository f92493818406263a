"""Step 3: the 38 patients of the survival post-progression (SPP) analysis (`calibrate_spp`).

In stages: their values at progression (`src/synthetic/factors.py`); the order of their SPP times, their
censoring and the allocation of the Cox model's factors (`src/synthetic/ranks.py`, then
`src/synthetic/polish.py`); SPP days consistent with that order, with both group medians on the printed
ones (`_spp_days`); each other factor of Table 3 (`factors.calibrate_factors`); times to progression for
the OS log-rank test of the 38, the SPP/OS median ratio and the median OS of the progressive-disease
group (`calibrate_ttp`). `spp_statistics` computes every published number of the SPP analysis on a state.
"""
from __future__ import annotations

import numpy as np

from src.stats import faststats as fs
from src.study import DAYS_PER_MONTH
from src.synthetic.design import MAX_SPP_DAYS, MIN_SPP_DAYS
from src.synthetic.factors import SPP_FACTORS, calibrate_factors, high_levels, progression_values
from src.synthetic.polish import polish_with_kicks
from src.synthetic.ranked_fit import median_days, median_position, sorafenib_median_later
from src.synthetic.ranks import SPP_REFINE_SWEEPS, calibrate_ranks
from src.synthetic.targets import distance


class SppState:
    """Mutable state of the SPP annealing (kept private; a plain record of arrays)."""


def spp_statistics(s) -> dict:
    """The published statistics of the SPP analysis computed on a state."""
    spp = s.spp_days / DAYS_PER_MONTH
    os_ = (s.spp_days + s.ttp_days) / DAYS_PER_MONTH
    ev = s.event
    sor = s.group == 1
    high = np.column_stack([s.high[f] for f in SPP_FACTORS] + [sor])
    p = fs.logrank_p(spp, ev, high)
    out = {f"t3_uni_p_{f}": p[i] for i, f in enumerate(SPP_FACTORS)}
    out["spp_logrank_p"] = p[-1]
    out["os38_logrank_p"] = fs.logrank_p(os_, ev, sor)[0]
    m_sor, m_oth = fs.km_median(spp[sor], ev[sor]), fs.km_median(spp[~sor], ev[~sor])
    out["spp_median_sor"], out["spp_median_oth"] = m_sor, m_oth
    out["spp_over_os_median_sor_pct"] = 100 * m_sor / fs.km_median(os_[sor], ev[sor])
    X = np.column_stack([s.high["tbil"], ~s.high["ascites"], ~sor]).astype(float)
    beta, se = fs.cox_fit(spp, ev, X, beta0=getattr(s, "beta", None))
    if beta is not None:
        s.beta = beta
        for j, name in enumerate(("tbil", "ascites", "sorafenib")):
            out[f"t3_multi_hr_{name}"] = np.exp(beta[j])
            out[f"t3_multi_ci_low_{name}"] = np.exp(beta[j] - fs.Z975 * se[j])
            out[f"t3_multi_ci_high_{name}"] = np.exp(beta[j] + fs.Z975 * se[j])
            out[f"t3_multi_p_{name}"] = float(fs._chi2_sf_1df((beta[j] / se[j]) ** 2))
    return out


def spp_loss(stats_, T, D, skip) -> float:
    """Sum of distances of the SPP statistics from the published numbers."""
    return sum(np.sqrt(distance(stats_.get(k, np.nan), T[k], D[k])) for k in stats_ if k in T and k not in skip) \
        + (0 if "t3_multi_hr_tbil" in stats_ else 100.0)


def _spp_days(rng, T, order, event, group) -> np.ndarray:
    """SPP days for patients in this time order: strictly increasing (no ties), the group medians
    (Kaplan-Meier) exactly on the printed ones, early times uniform, late times with an exponential tail."""
    n = len(order)
    S, E = (group[order] == 1)[None], event[order][None]
    pos_s, pos_o = median_position(S, E)[0], median_position(~S, E)[0]
    d_s, d_o = median_days(T)
    if not sorafenib_median_later(T):  # here the sorafenib group's median comes first
        pos_s, pos_o, d_s, d_o = pos_o, pos_s, d_o, d_s
    if not pos_o < pos_s < n or pos_s - pos_o - 1 > d_s - d_o - 1 or pos_o > d_o - MIN_SPP_DAYS:
        raise ValueError("the rank stage found no order of the SPP times with both printed medians in place")
    def pick(lo, hi, k, scale=None):
        grid = np.arange(lo, hi + 1)
        w = None if scale is None else np.exp(-(grid - lo) / scale) / np.exp(-(grid - lo) / scale).sum()
        return np.sort(rng.choice(grid, k, replace=False, p=w))
    days = np.r_[pick(MIN_SPP_DAYS, d_o - 1, pos_o), d_o, pick(d_o + 1, d_s - 1, pos_s - pos_o - 1), d_s,
                 pick(d_s + 1, MAX_SPP_DAYS, n - pos_s - 1, scale=150.0)]
    out = np.empty(n)
    out[order] = days
    return out


def _ttp_statistics(spp_days, ttp_days, event, group, n_excluded) -> dict:
    os_ = (spp_days + ttp_days) / DAYS_PER_MONTH
    sor = group == 1
    m_sor = fs.km_median(os_[sor], event[sor])
    pd_os = np.r_[os_, np.zeros(n_excluded)]  # the excluded patients die early (set in `calibrate_os`)
    return {"os38_logrank_p": fs.logrank_p(os_, event, sor)[0],
            "spp_over_os_median_sor_pct": 100 * fs.km_median(spp_days[sor] / DAYS_PER_MONTH, event[sor]) / m_sor,
            "os_median_pd": fs.km_median(pd_os, np.r_[event, np.ones(n_excluded, bool)])}


def calibrate_ttp(rng, T, D, skip, spp_days, event, group, n_excluded, iterations=8000):
    """Step 3d: times to progression (21-240 days) for the OS log-rank test of the 38, the SPP/OS median
    ratio and the median OS of the progressive disease group (annealing)."""
    ttp = np.round(rng.uniform(28, 75, len(spp_days)))
    def loss_of(t):
        return sum(distance(v, T[k], D[k]) for k, v in _ttp_statistics(spp_days, t, event, group, n_excluded).items()
                   if k in T and k not in skip)
    loss = loss_of(ttp)
    for it in range(iterations):
        if loss == 0:
            break
        temp = 2.0 * (0.01 / 2.0) ** (it / iterations)
        trial = ttp.copy()
        i = rng.integers(len(ttp))
        trial[i] = float(np.clip(trial[i] + np.round(rng.normal(0, 10)), 21, 240))
        new = loss_of(trial)
        if new <= loss or rng.random() < np.exp((loss - new) / temp):
            ttp, loss = trial, new
    return ttp, loss


def calibrate_spp(rng, T, D, skip, tt, log=None):
    """Step 3: the 38 patients of the SPP analysis; returns (state, statistics, loss)."""
    log = log or (lambda msg: None)
    s = SppState()
    s.group, cols = progression_values(rng, T, tt)
    order, s.event, cols, loss = calibrate_ranks(rng, T, D, skip, s.group, cols, log=log)
    log(f"SPP rank stage loss {loss:.3f}")
    order, s.event, cols, loss = calibrate_ranks(rng, T, D, skip, s.group, cols, sweeps=SPP_REFINE_SWEEPS,
                                                 temp0=0.3, temp1=0.01, init=(order, s.event, cols), log=log)
    log(f"SPP rank stage loss {loss:.3f}")
    order, s.event, cols, loss = polish_with_kicks(rng, T, D, skip, s.group, order, s.event, cols, log=log)
    log(f"SPP rank stage loss {loss:.3f}")
    s.spp_days = _spp_days(rng, T, order, s.event, s.group)
    s.cols = calibrate_factors(rng, T, D, skip, s.group, cols, s.spp_days, s.event)
    s.high = high_levels(s.cols)
    s.ttp_days, tloss = calibrate_ttp(rng, T, D, skip, s.spp_days, s.event, s.group, int(T["flow_n_cp_excluded"]))
    log(f"TTP stage loss {tloss:.3f}")
    st = spp_statistics(s)
    return s, st, spp_loss(st, T, D, skip)
