"""Reconstruct a synthetic cohort whose analysis reproduces the paper's aggregates.

The individual records of the study are not public. This module writes
`patients.csv`, `progression.csv` and `adverse_events.csv` for 67 synthetic
patients, deterministically from a seed, so that the notebooks reproduce the
published numbers read from `data/published_results.csv` (no published value is
typed here). Where printed numbers contradict each other, it follows the
best-supported reading of `src.audit`.

How (`python -m src.synthetic.reconstruct --seed 20130101 --out data`):
1. Exact construction of every marginal: counts of Table 1, of the response
   and session distributions, of the grade 3-4 toxicities, of Figure 1 and of
   Table 2; continuous variables with the exact median, minimum and maximum
   (`values_with_summary`), and the mean age.
2. A seeded search over the free values of each continuous variable of Table 2
   so that Student's t-test gives the printed p (`calibrate_ttests`).
3. The 38 patients of the survival post-progression (SPP) analysis, in stages:
   a. log-rank tests and the Cox model depend on the SPP times only through
      their order, so a batched simulated annealing works in rank space
      (`calibrate_ranks`): many chains, each drawing several moves per sweep
      evaluated in one vectorised batch (`_ranked_statistics`), over the order
      of the 38, their censoring and the allocation of bilirubin, albumin,
      prothrombin activity and ascites within each group (swaps keep every
      marginal exact; Child-Pugh <= 8), against a loss that counts, for the
      Cox model and the log-rank p of its three factors, how far the computed
      value lies outside the rounding interval of the printed one; then a
      lower-temperature refinement from the best state, and an iterated
      local search (`polish_ranks`, restarted `POLISH_KICKS` times from a
      perturbed best state, which is replaced when fewer numbers are missed):
      every single move is evaluated exactly, combinations of up to five are
      predicted by adding their effects and the best predictions evaluated
      exactly, with a loss that counts the numbers not matched;
   b. SPP days consistent with that order, with the two group medians exactly
      on the printed ones (`_spp_days`);
   c. with the times fixed, each other factor of Table 3 on its own, by
      within-group swaps, until its log-rank p is the printed one
      (`calibrate_factors`);
   d. times to progression for the OS log-rank test of the 38, the SPP/OS
      median ratio and the median OS of the progressive-disease group
      (`calibrate_ttp`).
4. A second annealing over the overall-survival times of the other 29
   patients, jointly with the SPP days of the 38 (order kept, median patients
   fixed) and their times to progression, for the medians and 1/2/3-year
   survival, keeping the targets of step 3d (`calibrate_os`; a second pass
   only if a number is still outside its rounding interval).
5. Dates: first HAIC within the enrolment period, sorafenib only after its
   approval and after progression, BSC and other options in the era given by
   the flow diagram, every timeline ordered (`assign_dates`).
6. The protocol (validate rules 8-10): a response other than NE only after 28
   days of follow-up (a bound of step 4's annealing), session counts placed on
   patients whose time to progression or follow-up holds them 28 days apart
   (`assign_sessions`), a baseline tumour no larger than at progression for
   the patients with progressive disease (`tumour_sizes`).
Plausibility rules (laboratory ranges, Child-Pugh score consistent with its
components, date order, the protocol) are those of `src/validate/__init__.py`; the
written data pass them without a warning.
"""
from __future__ import annotations

import argparse
import sys
import time as _time
from pathlib import Path

import numpy as np
import pandas as pd

from src.paper import audit
from src import privacy
from src.stats import faststats as fs
from src import study
from src.config import ROOT, write_cohort_tables
from src.study import DAYS_PER_MONTH, MIN_SESSION_INTERVAL_DAYS, RESPONSE_ASSESSMENT_DAYS
from src.validate import child_pugh_points_range

DEFAULT_SEED = 20130101

# Design choices of the reconstruction (assumptions, not published results)
# (the study's dates and cut-offs from `src.study`)
ENROL_START, ENROL_END = pd.Timestamp(study.ENROL_START), pd.Timestamp(study.ENROL_END)  # Methods: study period
SORAFENIB_APPROVAL = pd.Timestamp(study.SORAFENIB_APPROVED_ON)  # sorafenib starts only after this day
ERA_START = pd.Timestamp(study.ERA_START)        # Figure 1: "from 2005 to 2008" / "from 2009"
DATA_CUTOFF = pd.Timestamp(study.DATA_CUTOFF)    # assumed end of follow-up (not stated in the paper)
CUTOFFS = {key: study.TABLE3_CUTOFFS[column]    # the paper's Table 3 cut-offs by id key
           for key, column in study.TABLE3_CUTOFF_COLUMNS.items()}
CONTINUOUS = {  # Table 2 id stem -> (column, decimals stored, log-scale draws)
    "age": ("age", 0, False), "alt": ("alt", 0, True), "ast": ("ast", 0, True),
    "tbil": ("total_bilirubin", 1, False), "alb": ("albumin", 1, False),
    "pt": ("prothrombin_activity", 0, False), "plt": ("platelets", 1, False),
    "afp": ("afp", 0, True), "dcp": ("dcp", 0, True)}
TOXICITY_TERMS = {"nausea": "Nausea", "diarrhea": "Diarrhea", "bilirubin": "Bilirubin (hyperbilirubinemia)",
                  "ast": "AST (SGOT)", "alt": "ALT (SGPT)", "alp": "Alkaline phosphatase",
                  "ggt": "GGT (gamma-glutamyl transpeptidase)", "hyperglycemia": "Glucose (hyperglycemia)",
                  "thrombocytopenia": "Platelets", "anemia": "Hemoglobin",
                  "neutropenia": "Neutrophils/granulocytes (ANC/AGC)"}
MAX_SPP_DAYS = 720  # SPP longer than two years would not fit the study period for late patients
MIN_SPP_DAYS = 7  # shortest SPP drawn (days)
MIN_NE_DAYS = 14  # shortest overall survival of a not-evaluated patient (days)
RANK_LOSS_POWER = 0.5  # rank-stage loss: sum of weight x distance ** power
RANK_MARGIN = 0.45  # the rank stage aims anywhere inside the rounding interval (numbers stay clear of its edge)
SPP_PAIR_MOVES = 0.3  # share of rank-annealing candidates that make two random moves at once
POLISH_ROUNDS, POLISH_BEAM, POLISH_EXACT = 20, 1000, 1000  # step 3a: combination search after the annealing
POLISH_STEP = 3.0  # ... whose loss adds this for every number not matched
POLISH_KICKS = 24  # ... restarted this many times from a perturbed best state
OS_ITERATIONS = 60000  # step 4 annealing iterations (twice if needed)
RANK_P_WEIGHT = 5.0  # weight of the three log-rank p in the rank-stage loss (the Cox numbers weigh 1)
MAX_MEDIAN_GAP = 30  # at most this many patients between the two groups' median SPP times
MEDIAN_ORDER_WEIGHT = 5.0  # rank-stage loss per position the two median patients are out of their printed order
CROSSING_ORDER_WEIGHT = 1e3  # ... when the printed medians and hazard ratio point opposite ways (`curves_cross`)
SPP_CHAINS, SPP_PROPOSALS, SPP_SWEEPS, SPP_REFINE_SWEEPS = 16, 8, 1500, 500  # rank annealing budget
MARGIN = 0.3  # aim at the central 40% of each rounding interval


# --- targets ---------------------------------------------------------------

def load_targets(path=None) -> tuple[dict, dict, dict]:
    """Published values (id -> float), decimals, and the ids not to calibrate to.

    Values are the best-supported reading of `src.audit` (corrected counts);
    ids the audit proves inconsistent with the others are left out of the loss.
    """
    pub = audit.published_by_id(path)
    values = pub["value"].to_dict()
    values.update(audit.best_reading(pub))
    skip = audit.unreproducible(pub)
    return values, pub["decimals"].astype(int).to_dict(), skip


def distance(x, target, decimals) -> float:
    """How far x lies outside the central part of the rounding interval, in rounding units."""
    q = 10.0 ** -decimals
    if not np.isfinite(x):
        return 50.0
    return max(0.0, abs(x - target) - MARGIN * q) / q


# --- exact marginals -------------------------------------------------------

def counts_vector(rng, counts: dict) -> np.ndarray:
    """A shuffled array with each label repeated its count."""
    out = np.concatenate([[k] * int(n) for k, n in counts.items()])
    return rng.permutation(out)


def values_with_summary(rng, n, median, lo, hi, decimals, log=False, above=None) -> np.ndarray:
    """n sorted values with exactly this minimum, median and maximum (n odd).

    Free values are drawn between the fixed ones (log-uniform if `log`) and
    rounded to `decimals`. `above=(threshold, k)` forces exactly k values > threshold.
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
        thr, k = above
        n_up = k - (median > thr) - (hi > thr) - int((upper > thr).sum())
        if n_up > 0:  # some values below the median must lie above the threshold
            lower[:n_up] = draw(thr + 10 ** -decimals, median, n_up)
        lower = np.where((np.arange(len(lower)) >= max(n_up, 0)) & (lower > thr), draw(lo, thr, len(lower)), lower)
    vals = np.sort(np.concatenate([[lo], lower, [median], upper, [hi]]))
    return vals


# --- Child-Pugh --------------------------------------------------------------

def child_pugh_min(tbil, alb, pt, ascites) -> np.ndarray:
    """Lowest Child-Pugh score compatible with the recorded components (mild ascites,
    no encephalopathy): the rule of `src.validate.child_pugh_points_range`."""
    low, _ = child_pugh_points_range(*(pd.Series(np.asarray(x)) for x in (tbil, alb, pt, ascites)))
    return low.to_numpy(dtype=int)


# --- step 2: Student's t-test p of Table 2 -----------------------------------

def group_values(rng, T, stem):
    """Sorted values of one Table 2 variable for the sorafenib and the other group."""
    col, dec, log = CONTINUOUS[stem]
    out = {}
    for g in ("sor", "oth"):
        n = int(T[f"flow_n_{'sorafenib' if g == 'sor' else 'other'}"])
        out[g] = values_with_summary(rng, n, T[f"t2_{stem}_median_{g}"], T[f"t2_{stem}_min_{g}"],
                                     T[f"t2_{stem}_max_{g}"], dec, log)
    return out


def calibrate_ttests(rng, T, D, iterations=20000) -> dict:
    """Per Table 2 variable, free values per group so that Student's t p matches the printed p."""
    out = {}
    for stem, (col, dec, log) in CONTINUOUS.items():
        vals = group_values(rng, T, stem)
        target, d = T[f"t2_{stem}_p"], D[f"t2_{stem}_p"]
        loss = distance(fs.student_p(vals["sor"], vals["oth"]), target, d)
        for it in range(iterations):
            if loss == 0:
                break
            g = "sor" if rng.random() < 0.5 else "oth"
            v = vals[g]
            n, mid = len(v), len(v) // 2
            i = rng.choice([j for j in range(1, n - 1) if j != mid])
            a, b = (v[0], v[mid]) if i < mid else (v[mid], v[-1])
            scale = 0.3 * (1 - it / iterations) + 0.02
            new = np.exp(np.log(max(v[i], 1e-3)) + rng.normal(0, scale)) if log else v[i] + rng.normal(0, scale * (b - a))
            new = float(np.clip(np.round(new, dec), a, b))
            trial = v.copy()
            trial[i] = new
            cand = {**vals, g: trial}
            l2 = distance(fs.student_p(cand["sor"], cand["oth"]), target, d)
            if l2 <= loss or rng.random() < 0.02:
                vals, loss = cand, l2
        out[stem] = {g: np.sort(v) for g, v in vals.items()}
    return out


# --- step 3: the 38 patients of the SPP analysis -----------------------------

SPP_FACTORS = ["age", "sex", "ps", "plt", "alb", "tbil", "pt", "alt", "ast", "afp", "dcp", "ascites", "pvtt"]


class _SppState:
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


def _progression_values(rng, T, tt):
    """Measured values at progression for the 38 (group-wise exact marginals)."""
    n_sor, n_oth = int(T["flow_n_sorafenib"]), int(T["flow_n_other"])
    group = np.r_[np.ones(n_sor, int), np.zeros(n_oth, int)]
    cols = {}
    for stem, (col, dec, log) in CONTINUOUS.items():
        cols[col] = np.r_[rng.permutation(tt[stem]["sor"]), rng.permutation(tt[stem]["oth"])]
    for var, levels in audit.TABLE2_CATEGORICAL.items():
        vals = []
        for g in ("sor", "oth"):
            vals.append(counts_vector(rng, {lev: T[f"t2_{var}_{lev}_{g}"] for lev in levels}))
        cols[var] = np.r_[vals[0], vals[1]]
    return group, cols


def _high(cols):
    """The binary factors of Table 3 (True = the level that is not the reference)."""
    h = {stem: cols[CONTINUOUS[stem][0]] >= CUTOFFS[stem] for stem in CUTOFFS}
    h["sex"] = cols["sex"] == "male"
    h["ps"] = cols["ps"] == "0"
    h["ascites"] = cols["ascites"] == "yes"
    h["pvtt"] = cols["pvtt"] == "yes"
    return h


def _cp_points(tbil, alb, pt, ascites_yes) -> np.ndarray:
    """Lowest Child-Pugh score of each patient (the rule of `child_pugh_min`), plain NumPy, any shape."""
    b = np.where(tbil < 2, 1, np.where(tbil <= 3, 2, 3))
    a = np.where(alb > 3.5, 1, np.where(alb >= 2.8, 2, 3))
    p = np.where(pt > 70, 1, np.where(pt >= 40, 2, 3))
    return b + a + p + 1 + np.asarray(ascites_yes, int) + 1


def _cp_ok(cols) -> bool:
    return bool((_cp_points(cols["total_bilirubin"], cols["albumin"], cols["prothrombin_activity"],
                            cols["ascites"] == "yes") <= 8).all())


COX_FACTORS = ("tbil", "ascites", "sorafenib")  # Table 3's multivariable model, in the notebooks' column order


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


def _ranked_statistics(X, E, beta0, newton=12, block=256):
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
    """`_ranked_statistics` of one block of candidates.

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


def _median_position(G, E):
    """Position (time order) of the Kaplan-Meier median of the rows where G (K, n) is True; n if not reached."""
    n = G.shape[1]
    at_risk = np.cumsum(G[:, ::-1], axis=1)[:, ::-1].astype(float)
    s = np.cumprod(np.where(G & E, 1.0 - 1.0 / np.maximum(at_risk, 1), 1.0), axis=1)
    below = s <= 0.5
    return np.where(below.any(1), below.argmax(1), n)


def _distances(x, target, decimals, margin=MARGIN) -> np.ndarray:
    """`distance` for arrays."""
    q = 10.0 ** -decimals
    return np.where(np.isfinite(x), np.maximum(0.0, np.abs(x - target) - margin * q) / q, 50.0)


def _rank_statistics(p, beta, se) -> dict:
    """The published statistics of the rank stage for a batch of states (one row each): the
    log-rank p of bilirubin, ascites and sorafenib, and each Cox factor's HR, 95% CI and Wald p."""
    stats_ = {"t3_uni_p_tbil": p[:, 0], "t3_uni_p_ascites": p[:, 1], "spp_logrank_p": p[:, 2]}
    for j, name in enumerate(COX_FACTORS):
        stats_[f"t3_multi_hr_{name}"] = np.exp(beta[:, j])
        stats_[f"t3_multi_ci_low_{name}"] = np.exp(beta[:, j] - fs.Z975 * se[:, j])
        stats_[f"t3_multi_ci_high_{name}"] = np.exp(beta[:, j] + fs.Z975 * se[:, j])
        stats_[f"t3_multi_p_{name}"] = fs._chi2_sf_1df((beta[:, j] / se[:, j]) ** 2)
    return stats_


def _model_loss(p, beta, se, ok, pos_sor, pos_oth, T, D, skip, n):
    """Loss of the rank stage: the three model factors' log-rank p and the Cox model, plus the
    feasibility of the group medians (the other group's median must come first)."""
    stats_ = _rank_statistics(p, beta, se)
    loss = np.zeros(len(ok))
    for k, v in stats_.items():
        if k in T and k not in skip:
            w = RANK_P_WEIGHT if k in ("t3_uni_p_tbil", "t3_uni_p_ascites", "spp_logrank_p") else 1.0
            loss += w * _distances(v, T[k], D[k], RANK_MARGIN) ** RANK_LOSS_POWER
    loss += np.where(ok, 0.0, 1e3) + np.where((pos_sor >= n) | (pos_oth >= n), 1e3, 0.0)
    if not sorafenib_median_later(T):  # a targets file in which the other group's median is the later one
        pos_sor, pos_oth = pos_oth, pos_sor
    max_gap, max_first = median_bounds(T)
    weight = CROSSING_ORDER_WEIGHT if curves_cross(T) else MEDIAN_ORDER_WEIGHT
    return loss + weight * np.maximum(0, pos_oth - pos_sor + 1) + 1.0 * np.maximum(0, pos_sor - pos_oth - max_gap) \
        + 1.0 * np.maximum(0, pos_oth - max_first)


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


def calibrate_ranks(rng, T, D, skip, group, cols, chains=SPP_CHAINS, proposals=SPP_PROPOSALS, sweeps=SPP_SWEEPS,
                    temp0=3.0, temp1=0.03, init=None, log=None):
    """Step 3a: simulated annealing, in rank space, of the SPP order, the censoring and the allocation of
    bilirubin, albumin, prothrombin activity and ascites within each group (Child-Pugh <= 8 kept).

    Log-rank tests and the Cox model depend on times only through their order, so the state is the
    order of the 38 patients; `chains` chains each draw `proposals` moves per sweep, all evaluated in
    one vectorised batch, and each chain takes the first move its Metropolis test accepts.
    `init` (a returned (order, event, cols)) starts every chain from that state.
    Returns (order, event, cols) of the best state met and its loss.
    """
    n = len(group)
    C, M = chains, proposals
    K = C * M
    sor = group == 1
    min_events = int(np.ceil(0.5 * n))
    order = np.array([rng.permutation(n) for _ in range(C)])
    event = rng.random((C, n)) < 0.75
    names = ("total_bilirubin", "albumin", "prothrombin_activity")
    tb, alb, pt = (np.tile(cols[c].astype(float), (C, 1)) for c in names)
    asc = np.tile(cols["ascites"] == "yes", (C, 1))
    members = {g: np.nonzero(group == g)[0] for g in (0, 1)}
    for c in range(C):  # each chain its own within-group allocation, Child-Pugh consistent
        for _ in range(1000):
            for arr in (tb, alb, pt, asc):
                for idx in members.values():
                    arr[c, idx] = rng.permutation(arr[c, idx])
            if (_cp_points(tb[c], alb[c], pt[c], asc[c]) <= 8).all():
                break
        else:
            raise RuntimeError("could not allocate the laboratory values with Child-Pugh <= 8")

    def evaluate(order_, event_, tb_, asc_, beta_):
        cov = np.stack([tb_ >= CUTOFFS["tbil"], ~asc_, np.broadcast_to(~sor, tb_.shape)], axis=2).astype(float)
        X = cov[np.arange(len(order_))[:, None], order_]  # rows in time order (take_along_axis, faster)
        E = np.take_along_axis(event_, order_, axis=1)
        S = np.take_along_axis(np.broadcast_to(sor, event_.shape), order_, axis=1)
        p, b, se, ok = _ranked_statistics(X, E, beta_)
        return _model_loss(p, b, se, ok, _median_position(S, E), _median_position(~S, E), T, D, skip, n), b

    if init is not None:
        order, event = np.tile(init[0], (C, 1)), np.tile(init[1], (C, 1))
        tb, alb, pt = (np.tile(init[2][c].astype(float), (C, 1)) for c in names)
        asc = np.tile(init[2]["ascites"] == "yes", (C, 1))
    loss, beta = evaluate(order, event, tb, asc, np.zeros((C, 3)))
    best_loss, best = np.inf, None
    rep, kk = np.repeat(np.arange(C), M), np.arange(K)
    for it in range(sweeps):
        temp = temp0 * (temp1 / temp0) ** (it / sweeps)
        O, EV, TB, AL, PT, AS = order[rep], event[rep], tb[rep], alb[rep], pt[rep], asc[rep]
        for extra in range(2):  # one random move per candidate, a second one for some (pair moves)
            u = np.where(rng.random(K) < (1.0 if extra == 0 else SPP_PAIR_MOVES), rng.random(K), 2.0)
            # swap two patients at a short distance in the order
            k1 = kk[u < 0.5]
            a = rng.integers(0, n, K)[k1]
            b = np.clip(a + rng.geometric(0.4, len(k1)) * rng.choice([-1, 1], len(k1)), 0, n - 1)
            O[k1, a], O[k1, b] = O[k1, b], O[k1, a]
            # censor or uncensor one patient
            i = rng.integers(0, n, K)
            k2 = kk[(u >= 0.5) & (u < 0.62)]
            EV[k2, i[k2]] = ~EV[k2, i[k2]]
            # swap a laboratory value or the ascites of two patients of the same group
            j = np.where(group[i] == 1, members[1][rng.integers(0, len(members[1]), K)],
                         members[0][rng.integers(0, len(members[0]), K)])
            which = rng.integers(0, 4, K)
            for w, arr in enumerate((TB, AS, AL, PT)):
                k3 = kk[(u >= 0.62) & (u <= 1.0) & (which == w)]
                arr[k3, i[k3]], arr[k3, j[k3]] = arr[k3, j[k3]], arr[k3, i[k3]]
        new_loss, new_beta = evaluate(O, EV, TB, AS, beta[rep])
        feasible = (_cp_points(TB, AL, PT, AS) <= 8).all(1) & (EV.sum(1) >= min_events)
        delta = np.where(feasible, new_loss, np.inf) - loss[rep]
        accept = ((delta <= 0) | (rng.random(K) < np.exp(-np.maximum(delta, 0) / temp))).reshape(C, M)
        c = np.nonzero(accept.any(1))[0]  # the chains that move, each to its first accepted candidate
        k = c * M + accept[c].argmax(1)
        order[c], event[c], tb[c], alb[c], pt[c], asc[c] = O[k], EV[k], TB[k], AL[k], PT[k], AS[k]
        loss[c], beta[c] = new_loss[k], new_beta[k]
        c = loss.argmin()
        if loss[c] < best_loss:
            best_loss, best = loss[c], (order[c].copy(), event[c].copy(), tb[c].copy(), alb[c].copy(),
                                        pt[c].copy(), asc[c].copy())
        if log and it % 1000 == 0:
            log(f"  SPP rank annealing {it:>5}: best loss {best_loss:.2f}")
    o, e, tb_, alb_, pt_, asc_ = best
    out = {**cols, "total_bilirubin": tb_, "albumin": alb_, "prothrombin_activity": pt_,
           "ascites": np.where(asc_, "yes", "no").astype(cols["ascites"].dtype)}
    return o, e, out, best_loss


def _kick(rng, group, order, event, cols, swaps=8):
    """A random perturbation of a rank-stage state: `swaps` swaps of two patients at most 4 apart in the
    order and one swap of bilirubin values within a group (kept only if Child-Pugh stays <= 8)."""
    order, cols = order.copy(), {**cols, "total_bilirubin": cols["total_bilirubin"].copy()}
    n = len(order)
    for _ in range(swaps):
        a = int(rng.integers(0, n))
        b = int(np.clip(a + rng.integers(1, 5) * rng.choice([-1, 1]), 0, n - 1))
        order[[a, b]] = order[[b, a]]
    i = int(rng.integers(0, n))
    j = int(rng.choice(np.nonzero(group == group[i])[0]))
    tb = cols["total_bilirubin"]
    tb[[i, j]] = tb[[j, i]]
    if not _cp_ok(cols):
        tb[[i, j]] = tb[[j, i]]
    return order, event.copy(), cols


def _rank_misses(T, D, skip, group, order, event, cols) -> int:
    """How many of the rank stage's published numbers a state misses (outside `RANK_MARGIN` units)."""
    keys, target, unit, _ = _rank_targets(T, D, skip)
    sor = group == 1
    cov = np.stack([cols["total_bilirubin"] >= CUTOFFS["tbil"], cols["ascites"] != "yes", ~sor], axis=1)
    p, b, se, ok = _ranked_statistics(cov[order][None].astype(float), event[order][None], np.zeros((1, 3)))
    st = _rank_statistics(p, b, se)
    x = np.array([st[k][0] for k in keys])
    return int((~(np.abs(x - target) <= RANK_MARGIN * unit)).sum()) if ok[0] else len(keys)


def _rank_targets(T, D, skip):
    """Ids of the rank stage's published numbers, their values, rounding units and loss weights."""
    keys = ["t3_uni_p_tbil", "t3_uni_p_ascites", "spp_logrank_p"] + \
        [f"t3_multi_{q}_{name}" for name in COX_FACTORS for q in ("hr", "ci_low", "ci_high", "p")]
    keys = [k for k in keys if k in T and k not in skip]
    return (keys, np.array([T[k] for k in keys]), np.array([10.0 ** -D[k] for k in keys]),
            np.array([RANK_P_WEIGHT if k.startswith(("t3_uni", "spp")) else 1.0 for k in keys]))


def _single_moves(group, order, tb, asc) -> np.ndarray:
    """The single moves of the rank-stage local search, one row each (kind, a, b): kind 0 swaps the patients at
    positions a and b of the time order (at most 4 apart), 1 flips patient a's censoring, 2 and 3 swap the
    bilirubin (across the cut-off) or the ascites of patients a and b of the same group."""
    n = len(order)
    out = [(0, p, q) for p in range(n) for q in range(p + 1, min(n, p + 5))]
    out += [(1, i, i) for i in range(n)]
    for g in (0, 1):
        idx = np.nonzero(group == g)[0]
        out += [(2, i, j) for i in idx for j in idx if i < j and (tb[i] >= CUTOFFS["tbil"]) != (tb[j] >= CUTOFFS["tbil"])]
        out += [(3, i, j) for i in idx for j in idx if i < j and asc[i] != asc[j]]
    return np.array(out)


def _apply_moves(moves, order, event, tb, asc):
    """The K states (order, event, bilirubin, ascites; (K, n) arrays) after each row of `moves` (K, m, 3):
    the m moves of `_single_moves` of a row applied one after the other to the given state."""
    K = len(moves)
    O, EV, TB, AS = np.tile(order, (K, 1)), np.tile(event, (K, 1)), np.tile(tb, (K, 1)), np.tile(asc, (K, 1))
    r = np.arange(K)
    for m in range(moves.shape[1]):
        kind, a, b = moves[:, m, 0], moves[:, m, 1], moves[:, m, 2]
        for arr, k in ((O, 0), (TB, 2), (AS, 3)):
            s_ = r[kind == k]
            arr[s_, a[s_]], arr[s_, b[s_]] = arr[s_, b[s_]], arr[s_, a[s_]]
        s_ = r[kind == 1]
        EV[s_, a[s_]] = ~EV[s_, a[s_]]
    return O, EV, TB, AS


def _fit_states(O, EV, TB, AS, alb, pt, sor, beta, sor_later=True, bounds=(MAX_MEDIAN_GAP, np.inf)):
    """Log-rank p, Cox coefficients and standard errors of K rank-stage states ((K, n) arrays: `O` lists the
    patients by time, the others are per patient), and whether each state is allowed: the fit converged,
    both group medians are reached (the other group's first, at most `bounds[0]` patients apart and at most
    `bounds[1]` patients before the first: `median_bounds`), at least half the patients died, and every
    Child-Pugh score is at most 8 (with `alb`, `pt` per patient)."""
    n = O.shape[1]
    cov = np.stack([TB >= CUTOFFS["tbil"], ~AS, np.broadcast_to(~sor, TB.shape)], axis=2).astype(float)
    X = cov[np.arange(len(O))[:, None], O]  # rows in time order (take_along_axis, faster)
    E = np.take_along_axis(EV, O, axis=1)
    G = np.take_along_axis(np.broadcast_to(sor, EV.shape), O, axis=1)
    p, b, se, ok = _ranked_statistics(X, E, beta)
    pos_s, pos_o = _median_position(G, E), _median_position(~G, E)
    if not sor_later:  # `sorafenib_median_later`
        pos_s, pos_o = pos_o, pos_s
    feasible = ok & (pos_s < n) & (pos_o < pos_s) & (pos_s - pos_o <= bounds[0]) & (pos_o <= bounds[1]) \
        & (EV.sum(1) >= int(np.ceil(0.5 * n))) & (_cp_points(TB, alb, pt, AS) <= 8).all(1)
    return p, b, se, feasible


def _sum_rows_pairwise(a) -> np.ndarray:
    """Sum over the first axis of `a` (m rows) with NumPy's pairwise summation of m values along a contiguous
    last axis: eight partial sums, each adding every eighth row, combined as a tree, then the rows left over
    one by one (m < 8: one after the other). So `_sum_rows_pairwise(a)` equals `b.sum(-1)` for the C-ordered
    copy `b` of `np.moveaxis(a, 0, -1)` bit for bit (`tests/test_reconstruct.py` checks it), but adds whole
    rows instead of looping in NumPy over many short rows of m values, which is slow."""
    m = len(a)
    if m > 128:  # NumPy splits longer sums in halves (never the case here: at most 15 published numbers)
        return np.ascontiguousarray(np.moveaxis(a, 0, -1)).sum(-1)
    if m < 8:
        out = a[0].copy()
        for row in a[1:]:
            out += row
        return out
    r = a[:8].copy()
    for i in range(8, m - m % 8, 8):
        r += a[i:i + 8]
    out = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for row in a[m - m % 8:]:
        out += row
    return out


def _polish_loss(S, target, unit, weight, scratch=None) -> np.ndarray:
    """The loss of `polish_ranks` for statistics S with the published numbers first ((keys, ...), float64,
    or float32 for predictions; overwritten): the sum over the numbers of weight x (square root of the
    distance outside `RANK_MARGIN`, in rounding units, plus `POLISH_STEP` if the number is missed).
    `scratch`: a boolean array, a float array and a float array of zeros of S's shape, to reuse for the
    intermediate results (`np.maximum` against an array of zeros is much faster than against the scalar 0)."""
    t = S.dtype.type
    missed, extra, zeros = scratch if scratch is not None else (np.empty(S.shape, bool), np.empty_like(S),
                                                                 np.zeros_like(S))
    per_key = (slice(None),) + (None,) * (S.ndim - 1)
    np.subtract(S, target.astype(t)[per_key], out=S)
    np.abs(S, out=S)
    np.subtract(S, (RANK_MARGIN * unit).astype(t)[per_key], out=S)
    np.maximum(S, zeros, out=S)
    np.divide(S, unit.astype(t)[per_key], out=S)
    np.greater(S, 0, out=missed)
    np.sqrt(S, out=S)
    np.multiply(t(POLISH_STEP), missed, out=extra)
    np.add(S, extra, out=S)
    np.multiply(S, weight.astype(t)[per_key], out=S)
    return _sum_rows_pairwise(S)


def _predicted_losses(sums, base, target, unit, weight, rows=32) -> np.ndarray:
    """Predicted `_polish_loss` (float32) of every pair of a row of `sums` (the added effects of a set of
    moves) and a row of `base` (the statistics after one more move), flattened in row-major order
    (len(sums) x len(base)). Computed `rows` rows of `sums` at a time, the numbers first, in arrays
    allocated once: they stay in the processor's cache."""
    s32, b32 = sums.astype(np.float32).T, base.astype(np.float32).T  # (keys, len(sums)), (keys, len(base))
    out = np.empty((len(sums), len(base)), np.float32)
    shape = (len(target), rows, len(base))
    buffers = (np.empty(shape, np.float32), np.empty(shape, bool), np.empty(shape, np.float32),
               np.zeros(shape, np.float32))
    for i in range(0, len(sums), rows):
        S, *scratch = (x[:, :min(rows, len(sums) - i)] for x in buffers)
        np.add(s32[:, i:i + rows, None], b32[:, None, :], out=S)
        out[i:i + rows] = _polish_loss(S, target, unit, weight, scratch=scratch)
    return out.ravel()


def _extend_combinations(combos, x, y, beam, n_moves):
    """The first `beam` distinct combinations, in the given order, of a combination `combos[x]` (rows of
    sorted indices of the `n_moves` moves) with a move `y` not already in it: (their sorted rows, the x and
    the y used)."""
    fresh = ~(combos[x] == y[:, None]).any(1)
    x, y = x[fresh], y[fresh]
    rows = np.sort(np.column_stack([combos[x], y]), axis=1)
    code = rows @ n_moves ** np.arange(rows.shape[1], dtype=np.int64)  # one integer per combination (< 2**63)
    _, first = np.unique(code, return_index=True)  # the first occurrence of each combination
    keep = np.sort(first)[:beam]
    return rows[keep], x[keep], y[keep]


def polish_ranks(T, D, skip, group, order, event, cols, rounds=POLISH_ROUNDS, beam=POLISH_BEAM):
    """Step 3a, end: a deterministic search over combinations of up to 5 single moves (swap of two
    patients at most 4 apart in the order, censoring flip, swap of bilirubin or ascites within a group).

    Each round evaluates every single move exactly, predicts the statistics of combinations by adding
    the single moves' effects (a beam search keeps the `beam` best predictions of each size), evaluates
    the most promising combinations exactly and takes the best. The loss counts every printed number
    not matched (plus the square root of its distance), so the search goes for matches.
    """
    sor = group == 1
    order, event = order.copy(), event.copy()
    tb, asc = cols["total_bilirubin"].astype(float), cols["ascites"] == "yes"
    alb, pt = cols["albumin"].astype(float), cols["prothrombin_activity"].astype(float)
    keys, target, unit, weight = _rank_targets(T, D, skip)

    def stat_matrix(p, b, se):
        st = _rank_statistics(p, b, se)
        return np.stack([st[k] for k in keys], axis=-1)

    def evaluate(moves, beta):  # moves: (K, m, 3) -> losses, statistics, betas and states after them
        O, EV, TB, AS = _apply_moves(moves, order, event, tb, asc)
        p, b, se, feasible = _fit_states(O, EV, TB, AS, alb, pt, sor, np.tile(beta, (len(moves), 1)),
                                         sorafenib_median_later(T), median_bounds(T))
        S = stat_matrix(p, b, se)
        return np.where(feasible, _polish_loss(S.T.copy(), target, unit, weight), np.inf), S, b, (O, EV, TB, AS)

    loss, S0, beta, _ = evaluate(np.zeros((1, 0, 3), int), np.zeros(3))
    loss, S0, beta = loss[0], S0[0], beta[0]
    for _ in range(rounds):
        one = _single_moves(group, order, tb, asc)
        l1, s1, b1, st1 = evaluate(one[:, None, :], beta)
        keep = np.isfinite(l1)
        one, effect = one[keep], s1[keep] - S0
        if not len(one):  # no allowed single move from here
            break
        best = (loss, None)
        k = int(np.argmin(l1))
        if l1[k] < loss - 1e-9:
            best = (l1[k], (s1[k], b1[k], tuple(x[k] for x in st1)))
        combos, sums = np.arange(len(one))[:, None], effect
        for size in range(2, 6):
            pred = _predicted_losses(sums, S0 + effect, target, unit, weight)
            top = np.argpartition(pred, min(3 * beam, pred.size - 1))[:3 * beam]
            top = top[np.lexsort((top, pred[top]))]  # best predictions first, ties by index
            combos, a, b = _extend_combinations(combos, *np.unravel_index(top, (len(sums), len(effect))), beam,
                                                len(one))
            if not len(combos):
                break
            sums = sums[a] + effect[b]
            l_, s_, b_, st_ = evaluate(one[combos[:POLISH_EXACT]], beta)
            k = int(np.argmin(l_))
            if l_[k] < best[0] - 1e-9:
                best = (l_[k], (s_[k], b_[k], tuple(x[k] for x in st_)))
        if best[1] is None:
            break
        loss, (S0, beta, state) = best
        order, event, tb, asc = (x.copy() for x in state)
    out = {**cols, "total_bilirubin": tb, "ascites": np.where(asc, "yes", "no").astype(cols["ascites"].dtype)}
    return order, event, out, loss


def _factor_high(factor, values) -> np.ndarray:
    """The binary factor of Table 3 from its column's values (as `_high`)."""
    if factor in CUTOFFS:
        return values >= CUTOFFS[factor]
    return values == {"sex": "male", "ps": "0", "ascites": "yes", "pvtt": "yes"}[factor]


FACTOR_COLUMNS = {**{stem: CONTINUOUS[stem][0] for stem in CUTOFFS if stem != "tbil"}, "sex": "sex", "ps": "ps",
                  "pvtt": "pvtt"}  # the factors outside the Cox model (bilirubin and ascites are set in step 3a)


def calibrate_factors(rng, T, D, skip, group, cols, spp_days, event, steps=300) -> dict:
    """Step 3b: with the SPP times fixed, each other factor of Table 3 on its own: swaps of values within a
    group (marginals exact, Child-Pugh <= 8 kept) until the log-rank p is the printed one. Each step
    evaluates every swap that changes the factor, then every pair of them if no swap improves, and
    takes the best; a random swap when nothing improves."""
    cols = {c: v.copy() for c, v in cols.items()}
    for f in SPP_FACTORS:
        key, col = f"t3_uni_p_{f}", FACTOR_COLUMNS.get(f)
        if col is None or key not in T or key in skip:
            continue
        v = cols[col]
        for _ in range(steps):
            h = _factor_high(f, v)
            loss = distance(fs.logrank_p(spp_days, event, h)[0], T[key], D[key])
            if loss == 0:
                break
            pairs = np.array([(i, j) for g in (0, 1) for i in np.nonzero((group == g) & h)[0]
                              for j in np.nonzero((group == g) & ~h)[0]])
            best = None
            for moves in (pairs[:, None, :], _pairs_of(pairs)):
                trial = np.tile(v, (len(moves), 1))
                r = np.arange(len(moves))
                for m in range(moves.shape[1]):
                    I, J = moves[:, m, 0], moves[:, m, 1]
                    trial[r, I], trial[r, J] = trial[r, J], trial[r, I]
                ok = np.ones(len(moves), bool)
                if col in ("albumin", "prothrombin_activity"):
                    parts = {c: np.tile(cols[c].astype(float), (len(moves), 1))
                             for c in ("total_bilirubin", "albumin", "prothrombin_activity")}
                    parts[col] = trial.astype(float)
                    ok = (_cp_points(parts["total_bilirubin"], parts["albumin"], parts["prothrombin_activity"],
                                     np.tile(cols["ascites"] == "yes", (len(moves), 1))) <= 8).all(1)
                losses = np.where(ok, _distances(fs.logrank_p(spp_days, event, _factor_high(f, trial).T),
                                                 T[key], D[key]), np.inf)
                if losses.min() < loss - 1e-9:
                    best = trial[int(np.argmin(losses))]
                    break
            v = best if best is not None else trial[int(rng.choice(np.nonzero(ok)[0]))]
        cols[col] = v
    return cols


def _pairs_of(swaps) -> np.ndarray:
    """Every pair of two different swaps, shape (m, 2, 2)."""
    a, b = np.triu_indices(len(swaps), 1)
    return np.stack([swaps[a], swaps[b]], axis=1)


def _spp_days(rng, T, order, event, group) -> np.ndarray:
    """SPP days for patients in this time order: strictly increasing (no ties), the group medians
    (Kaplan-Meier) exactly on the printed ones, early times uniform, late times with an exponential tail."""
    n = len(order)
    S, E = (group[order] == 1)[None], event[order][None]
    pos_s, pos_o = _median_position(S, E)[0], _median_position(~S, E)[0]
    d_s, d_o = (int(round(T[k] * DAYS_PER_MONTH)) for k in ("spp_median_sor", "spp_median_oth"))
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
    """Step 3c: times to progression (21-240 days) for the OS log-rank test of the 38, the SPP/OS median
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
    s = _SppState()
    s.group, cols = _progression_values(rng, T, tt)
    order, s.event, cols, loss = calibrate_ranks(rng, T, D, skip, s.group, cols, log=log)
    log(f"SPP rank stage loss {loss:.3f}")
    order, s.event, cols, loss = calibrate_ranks(rng, T, D, skip, s.group, cols, sweeps=SPP_REFINE_SWEEPS,
                                                 temp0=0.3, temp1=0.01, init=(order, s.event, cols), log=log)
    log(f"SPP rank stage loss {loss:.3f}")
    best = polish_ranks(T, D, skip, s.group, order, s.event, cols)
    best_key = (not np.isfinite(best[3]), _rank_misses(T, D, skip, s.group, *best[:3]), best[3])
    log(f"SPP polish: {best_key[1]} numbers missed, loss {best[3]:.3f}")
    kick_rng = np.random.default_rng(rng.integers(2 ** 63))  # later steps do not depend on the number of kicks
    for _ in range(POLISH_KICKS):  # iterated local search: perturb the best state, search again
        cand = polish_ranks(T, D, skip, s.group, *_kick(kick_rng, s.group, *best[:3]))
        key = (not np.isfinite(cand[3]), _rank_misses(T, D, skip, s.group, *cand[:3]), cand[3])
        log(f"SPP polish after a kick: {key[1]} numbers missed, loss {cand[3]:.3f}")
        if key < best_key:
            best, best_key = cand, key
    order, s.event, cols, loss = best
    log(f"SPP rank stage loss {loss:.3f}")
    s.spp_days = _spp_days(rng, T, order, s.event, s.group)
    s.cols = calibrate_factors(rng, T, D, skip, s.group, cols, s.spp_days, s.event)
    s.high = _high(s.cols)
    s.ttp_days, tloss = calibrate_ttp(rng, T, D, skip, s.spp_days, s.event, s.group, int(T["flow_n_cp_excluded"]))
    log(f"TTP stage loss {tloss:.3f}")
    st = spp_statistics(s)
    return s, st, spp_loss(st, T, D, skip)


# --- step 4: overall survival of the other patients ---------------------------

def os_statistics(days, event, role) -> dict:
    """Published overall-survival statistics from OS days, events and response role."""
    m = days / DAYS_PER_MONTH
    curve = fs.km_curve(m, event)
    land = fs.curve_at(*curve, [12, 24, 36]) * 100
    dc, pd_ = role == "dc", (role == "pd") | (role == "excluded")
    return {"os_median_all": fs.curve_median(*curve), "os_1y_pct": land[0], "os_2y_pct": land[1],
            "os_3y_pct": land[2], "os_median_dc": fs.km_median(m[dc], event[dc]),
            "os_median_pd": fs.km_median(m[pd_], event[pd_])}


def calibrate_os(rng, T, D, skip, s, n_roles, iterations=OS_ITERATIONS, log=None):
    """Step 4: annealing over the OS times (and censoring) of the disease-control, not-evaluated and
    excluded patients, jointly with the SPP days of the 38 (order kept, the two median patients fixed,
    so step 3's statistics do not move) and their times to progression. Updates `s` in place."""
    n38 = len(s.group)
    role = np.r_[["pd"] * n38, ["excluded"] * n_roles["excluded"], ["dc"] * n_roles["dc"], ["ne"] * n_roles["ne"]]
    free = role != "pd"
    days = np.r_[s.spp_days + s.ttp_days, np.zeros(free.sum())].astype(float)
    event = np.r_[s.event, np.ones(free.sum(), bool)]
    med = {"excluded": T["os_median_pd"] * 0.6, "dc": T["os_median_dc"], "ne": T["os_median_all"]}
    for r in ("excluded", "dc", "ne"):
        k = role == r
        days[k] = np.round(rng.exponential(med[r] * DAYS_PER_MONTH / np.log(2), k.sum())) + 30
    max_days = (DATA_CUTOFF - ENROL_START).days - 30
    days = np.minimum(days, max_days)
    days[role == "excluded"] = np.minimum(days[role == "excluded"], 120)  # their liver function failed: they die early
    event[role == "dc"] = rng.random((role == "dc").sum()) < 0.6
    spp, ttp = s.spp_days.copy(), s.ttp_days.copy()
    order = np.argsort(spp, kind="stable")
    sor_sorted, ev_sorted = (s.group[order] == 1)[None], s.event[order][None]
    fixed = {order[_median_position(sor_sorted, ev_sorted)[0]], order[_median_position(~sor_sorted, ev_sorted)[0]]}
    movable = np.array([i for i in range(n38) if i not in fixed])
    rank = np.empty(n38, int)
    rank[order] = np.arange(n38)
    sor = s.group == 1

    last_38 = [None, None, None]  # SPP and TTP arrays (never changed in place) and the statistics of the 38

    def statistics_38(spp_, ttp_, e):
        """The OS log-rank p of the 38 and their SPP/OS median ratio; these depend on the 38's SPP and TTP
        only (the moves change no event of the 38), so half the moves, which change neither, reuse them."""
        if last_38[0] is not spp_ or last_38[1] is not ttp_:
            os38 = (spp_ + ttp_) / DAYS_PER_MONTH
            last_38[:] = spp_, ttp_, {
                "os38_logrank_p": fs.logrank_p(os38, e[:n38], sor)[0],
                "spp_over_os_median_sor_pct": 100 * fs.km_median(spp_[sor] / DAYS_PER_MONTH, e[:n38][sor])
                / fs.km_median(os38[sor], e[:n38][sor])}
        return last_38[2]

    def loss_of(spp_, ttp_, d, e):
        d = d.copy()
        d[:n38] = spp_ + ttp_
        st = {**os_statistics(d, e, role), **statistics_38(spp_, ttp_, e)}
        return sum(distance(v, T[k], D[k]) for k, v in st.items() if k in T and k not in skip), st

    # a response other than NE needs an assessment 4 weeks after the first session (validate rule 9)
    min_days = np.where(role == "ne", MIN_NE_DAYS, RESPONSE_ASSESSMENT_DAYS)
    loss, st = loss_of(spp, ttp, days, event)
    idx_free = np.nonzero(free)[0]
    for it in range(2 * iterations):  # a second pass only if the first one ends with a number missed
        if loss == 0 or all(abs(v - T[k]) <= RANK_MARGIN * 10.0 ** -D[k] for k, v in st.items()
                            if k in T and k not in skip):
            break
        temp0 = 2.0
        temp = temp0 * (0.01 / temp0) ** ((it % iterations) / iterations)
        spp2, ttp2, d2, e2 = spp, ttp, days, event
        u = rng.random()
        if u < 0.45:
            i = rng.choice(idx_free)
            d2 = days.copy()
            if rng.random() < 0.2:  # a jump anywhere
                d2[i] = float(rng.integers(min_days[i], max_days + 1))
            else:
                d2[i] = float(np.clip(d2[i] + np.round(rng.normal(0, 5 + 200 * temp)), min_days[i], max_days))
            if role[i] == "excluded":
                d2[i] = min(d2[i], 366)
        elif u < 0.55:
            i = rng.choice(idx_free)
            if role[i] == "excluded":
                continue
            e2 = event.copy()
            e2[i] = ~e2[i]
        elif u < 0.8:
            i = rng.choice(movable)
            r = rank[i]
            lo = spp[order[r - 1]] + 1 if r > 0 else MIN_SPP_DAYS
            hi = spp[order[r + 1]] - 1 if r < n38 - 1 else MAX_SPP_DAYS
            if hi <= lo:
                continue
            spp2 = spp.copy()
            if rng.random() < 0.2:  # anywhere between the neighbours
                spp2[i] = float(rng.integers(lo, hi + 1))
            else:
                spp2[i] = float(np.clip(spp[i] + np.round(rng.normal(0, 3 + 100 * temp)), lo, hi))
        else:
            i = rng.integers(n38)
            ttp2 = ttp.copy()
            v = rng.random()
            if v < 0.2:
                ttp2[i] = float(rng.integers(21, 241))
            elif v < 0.4:  # exchange with another patient
                j = rng.integers(n38)
                ttp2[[i, j]] = ttp2[[j, i]]
            else:
                ttp2[i] = float(np.clip(ttp[i] + np.round(rng.normal(0, 10)), 21, 240))
        new_loss, new_st = loss_of(spp2, ttp2, d2, e2)
        if new_loss <= loss or rng.random() < np.exp((loss - new_loss) / temp):
            spp, ttp, days, event, loss, st = spp2, ttp2, d2, e2, new_loss, new_st
        if log and it % 10000 == 0:
            log(f"  OS annealing {it:>6}: loss {loss:.2f}")
    s.spp_days, s.ttp_days = spp, ttp
    days[:n38] = spp + ttp
    return days, event, role, st, loss


# --- step 5: dates ------------------------------------------------------------

def _day(ts) -> int:
    return int((ts - ENROL_START).days)


def assign_dates(rng, kind, os_days, event, ttp_days=None, salvage=None, era=None) -> dict:
    """First HAIC, progression, salvage start and last follow-up dates of one patient.

    `kind` is the response role; `era` ("early"/"late") applies to other salvage options;
    censored patients are either alive at the data cut-off or lost to follow-up before it.
    """
    lo, hi = 0, _day(ENROL_END)
    cutoff = _day(DATA_CUTOFF)
    gap = 0 if salvage in (None, "bsc") else int(rng.integers(5, 21))
    if ttp_days is not None:
        gap = int(min(gap, os_days - ttp_days))
        start_offset = ttp_days + gap
        if salvage == "sorafenib":
            lo = max(lo, _day(SORAFENIB_APPROVAL) - int(start_offset) + 1)
        elif era == "early":
            hi = min(hi, _day(ERA_START) - int(start_offset) - 1)
        elif era == "late":
            lo = max(lo, _day(ERA_START) - int(start_offset))
    hi = min(hi, cutoff - int(os_days))
    if hi < lo:
        raise ValueError(f"no feasible first-HAIC date for a {kind} patient (OS {os_days} days)")
    alive_at_cutoff = (not event) and (cutoff - int(os_days) <= _day(ENROL_END)) and (cutoff - int(os_days) >= lo) \
        and rng.random() < 0.7
    first = cutoff - int(os_days) if alive_at_cutoff else int(rng.integers(lo, hi + 1))
    out = {"first_haic_date": ENROL_START + pd.Timedelta(days=first),
           "last_followup_date": ENROL_START + pd.Timedelta(days=first + int(os_days))}
    if ttp_days is not None:
        out["progression_date"] = out["first_haic_date"] + pd.Timedelta(days=int(ttp_days))
        out["salvage_start_date"] = out["progression_date"] + pd.Timedelta(days=gap)
    return out


# --- assembling the tables ----------------------------------------------------

def assign_sessions(sessions, span_days, preference) -> np.ndarray:
    """Give each patient one of the session counts so that n sessions fit in the patient's
    span ((n - 1) x 28 days from the first HAIC to progression or last follow-up; validate
    rule 8), larger counts to higher `preference` where the schedule allows.

    The largest counts are placed first, each on the most preferred patient still free whose
    span admits it: the patients admitting a count include those admitting any larger one, so
    this succeeds whenever any assignment exists."""
    sessions = np.sort(np.asarray(sessions, int))[::-1]
    capacity = 1 + np.floor(np.asarray(span_days, float) / MIN_SESSION_INTERVAL_DAYS).astype(int)
    out = np.zeros(len(capacity), int)
    order = np.argsort(-np.asarray(preference, float), kind="stable")
    for n in sessions:
        free = order[(out[order] == 0) & (capacity[order] >= n)]
        if not len(free):
            raise ValueError(f"no patient's follow-up leaves room for {n} HAIC sessions 4 weeks apart")
        out[free[0]] = n
    return out


def tumour_sizes(rng, small, prog_size):
    """Baseline largest-tumour sizes (mm) with the category counts of `small` (< 50 mm), not
    larger than the size at progression for the first len(prog_size) patients (who progressed,
    validate rule 10): those whose tumour is < 50 mm at progression are put among the small ones."""
    small = np.asarray(small, bool).copy()
    k, n = len(prog_size), len(small)
    prog_size = np.asarray(prog_size, int)
    need = np.zeros(n, bool)
    need[:k] = prog_size < 50
    rest = rng.permutation(np.nonzero(~need)[0])
    chosen = np.r_[np.nonzero(need)[0], rest[:max(0, small.sum() - need.sum())]]
    if need.sum() > small.sum():
        raise ValueError("more patients progressed with a small tumour than had one at baseline")
    small[:] = False
    small[chosen] = True
    hi = np.full(n, 150)
    hi[:k] = np.minimum(150, prog_size)
    return np.where(small, rng.integers(12, np.minimum(hi, 49) + 1), rng.integers(50, np.maximum(hi, 50) + 1))


def _salvage_plan(T) -> list[tuple[str, str]]:
    """(salvage option, era) of each 'other salvage' patient, from Figure 1 as corrected."""
    plan = []
    for opt in ("haic", "uft", "bsc"):
        early = int(T[f"flow_n_{opt}_2005_2008"])
        late = int(T[f"flow_n_other_{opt}"]) - early
        plan += [(opt, "early")] * early + [(opt, "late")] * late
    return plan


def _baseline_categoricals(rng, T, n):
    """Table 1 categorical columns with exact counts (shuffled)."""
    t = lambda k: int(T["t1_" + k])
    cols = {
        "etiology": counts_vector(rng, {"HBV": t("etiology_hbv"), "HCV": t("etiology_hcv"),
                                        "alcohol": t("etiology_alcohol"), "other": t("etiology_other")}),
        "initial_treatment": counts_vector(rng, {"resection": t("init_resection"), "rfa_pei": t("init_rfa_pei"),
                                                 "tace": t("init_tace"), "tace_rfa": t("init_tace_rfa"),
                                                 "none": t("init_none")}),
        "tumor_distribution": counts_vector(rng, {"unilateral": t("distribution_unilateral"),
                                                  "bilateral": t("distribution_bilateral")}),
    }
    cols["tumor_count"] = np.where(counts_vector(rng, {"lt": t("tumor_count_lt4"), "ge": t("tumor_count_ge4")}) == "lt",
                                   rng.integers(1, 4, n), rng.integers(4, 11, n))
    small = counts_vector(rng, {"lt": t("tumor_size_lt50"), "ge": t("tumor_size_ge50")}) == "lt"
    cols["max_tumor_size_mm"] = np.where(small, rng.integers(12, 50, n), rng.integers(50, 151, n))
    return cols


def _baseline_labs(rng, T, n, ascites):
    """Table 1 laboratory values (exact median/min/max) and a consistent Child-Pugh score."""
    spec = {"alt": ("alt", 0, True, None), "total_bilirubin": ("tbil", 1, False, None),
            "prothrombin_activity": ("pt", 0, False, None), "albumin": ("alb", 1, False, None),
            "platelets": ("plt", 1, False, None), "afp": ("afp", 0, True, (500, int(T["t1_afp_gt500"]))),
            "dcp": ("dcp", 0, True, (500, int(T["t1_dcp_gt500"])))}
    labs = {}
    for col, (k, dec, log, above) in spec.items():
        v = values_with_summary(rng, n, T[f"t1_{k}_median"], T[f"t1_{k}_min"], T[f"t1_{k}_max"], dec, log, above)
        labs[col] = rng.permutation(v)
    n_b = int(T["t1_cp_b"])
    for _ in range(2000):
        cp_min = child_pugh_min(labs["total_bilirubin"], labs["albumin"], labs["prothrombin_activity"], ascites)
        order = np.argsort(-cp_min + rng.random(n) * 0.5, kind="stable")
        is_b = np.zeros(n, bool)
        is_b[order[:n_b]] = True
        if (cp_min[~is_b] <= 6).all() and (cp_min[is_b] <= 9).all():
            labs["child_pugh_score"] = np.where(is_b, np.clip(cp_min, 7, 9), np.maximum(cp_min, 5)).astype(int)
            return labs
        for col in ("albumin", "total_bilirubin", "prothrombin_activity"):
            labs[col] = rng.permutation(labs[col])
    raise RuntimeError("could not make baseline Child-Pugh scores consistent with the laboratory values")


def _ages(rng, T, fixed_ages, n_free):
    """Baseline ages: the SPP patients' ages are given; the others are drawn so that
    the cohort has the published minimum, maximum and mean."""
    lo, hi, mean = int(T["t1_age_min"]), int(T["t1_age_max"]), T["t1_age_mean"]
    n = len(fixed_ages) + n_free
    target_sum = int(round(mean * n))
    need = target_sum - int(np.sum(fixed_ages))
    ages = np.clip(np.round(rng.normal(need / n_free, 8, n_free)), lo, hi).astype(int)
    ages[0], ages[1] = lo, min(hi, max(fixed_ages.max(), hi))
    for _ in range(10000):
        diff = need - ages.sum()
        if diff == 0:
            break
        k = rng.integers(2, n_free)
        ages[k] = int(np.clip(ages[k] + np.sign(diff), lo + 1, hi - 1))
    if ages.sum() != need:
        raise RuntimeError("could not match the mean age")
    return ages


def _adverse_events(rng, T, patient_ids):
    """Grade 3-4 events with the published frequencies, plus the rash that stopped HAIC."""
    n = len(patient_ids)
    rows = []
    for key, term in TOXICITY_TERMS.items():
        k = int(round(T[f"r_tox_{key}_pct"] * n / 100))
        for pid in rng.choice(patient_ids, k, replace=False):
            rows.append((pid, term, int(rng.choice([3, 3, 3, 4])) if key not in ("nausea", "diarrhea") else 3, 0))
        others = [p for p in patient_ids if p not in {r[0] for r in rows if r[1] == term}]
        for pid in rng.choice(others, int(rng.integers(2, 8)), replace=False):
            rows.append((pid, term, int(rng.integers(1, 3)), 0))
    for pid in rng.choice(patient_ids, int(T["r_discontinued_rash_n"]), replace=False):
        rows.append((pid, "Rash/desquamation", 2, 1))
    df = pd.DataFrame(rows, columns=["patient_id", "term", "grade", "led_to_discontinuation"])
    return df.sort_values(["patient_id", "term"]).reset_index(drop=True)


def build_cohort(seed=DEFAULT_SEED, published=None, log=None) -> dict[str, pd.DataFrame]:
    """Build the three tables of the synthetic cohort (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    T, D, skip = load_targets(published)
    log = log or (lambda msg: None)
    # step 2-3: the SPP cohort
    tt = calibrate_ttests(rng, T, D)
    s, st, loss = calibrate_spp(rng, T, D, skip, tt, log=log)
    log(f"SPP calibration loss {loss:.3f}")
    n38 = len(s.group)
    # roles of all patients
    n_ex, n_dc, n_ne = int(T["flow_n_cp_excluded"]), int(T["flow_n_disease_control"]), int(T["r_response_ne"])
    n_total = n38 + n_ex + n_dc + n_ne
    days, event, role, ost, oloss = calibrate_os(rng, T, D, skip, s, {"excluded": n_ex, "dc": n_dc, "ne": n_ne},
                                                 log=log)
    log(f"OS calibration loss {oloss:.3f}")
    # salvage options and eras
    plan = _salvage_plan(T)
    oth_idx = np.nonzero(s.group == 0)[0]
    salvage = np.array(["sorafenib"] * n38, dtype=object)
    era = np.array([None] * n38, dtype=object)
    order = rng.permutation(len(oth_idx))
    for k, (opt, e) in zip(order, plan):
        salvage[oth_idx[k]], era[oth_idx[k]] = opt, e
    # dates
    ttp = np.r_[s.ttp_days, np.round(rng.uniform(28, 70, n_ex)), [np.nan] * (n_dc + n_ne)]
    ttp[n38:n38 + n_ex] = np.minimum(ttp[n38:n38 + n_ex], days[n38:n38 + n_ex] - 7)
    recs = []
    for i in range(n_total):
        if i < n38:
            recs.append(assign_dates(rng, "pd", days[i], event[i], ttp[i], salvage[i], era[i]))
        elif role[i] == "excluded":
            recs.append(assign_dates(rng, "excluded", days[i], event[i], min(ttp[i], days[i] - 7), "bsc", None))
        else:
            recs.append(assign_dates(rng, role[i], days[i], event[i]))
    dates = pd.DataFrame(recs)
    # response
    dc_resp = counts_vector(rng, {"CR": T["r_response_cr"], "PR": T["r_response_pr"], "SD": T["r_response_sd"]})
    best = np.r_[["PD"] * (n38 + n_ex), dc_resp, ["NE"] * n_ne]
    # sessions: more sessions for disease control, fewer for PD and not evaluated, all 4 weeks apart
    sessions = np.repeat([int(i.split("_")[2]) for i in T if i.startswith("r_sessions_") and i.endswith("_n")],
                         [int(T[i]) for i in T if i.startswith("r_sessions_") and i.endswith("_n")])
    pref = rng.random(n_total) + np.where(role == "dc", 1.2, np.where(role == "ne", -0.5, 0))
    span = np.where(np.isnan(ttp), days, ttp)  # first HAIC to progression, else to the last follow-up
    n_sessions = assign_sessions(sessions, span, pref)
    # progression table values
    cols = s.cols
    prog_age = cols["age"].astype(int)
    ex_cols = _excluded_values(rng, n_ex)
    # baseline
    patients = pd.DataFrame({"row": np.arange(n_total)})
    patients["sex"] = np.r_[np.where(cols["sex"] == "male", "M", "F"),
                            counts_vector(rng, {"M": T["t1_sex_male"] - (cols["sex"] == "male").sum(),
                                                "F": T["t1_sex_female"] - (cols["sex"] == "female").sum()})]
    patients["age"] = np.r_[prog_age, _ages(rng, T, prog_age, n_total - n38)]
    ex_prog_age = patients["age"].to_numpy()[n38:n38 + n_ex]
    ps_prog = np.where(cols["ps"] == "0", 0, rng.choice([1, 1, 2], n38))
    for _ in range(1000):  # redraw until enough patients (PS 0, no PVTT) can be BCLC stage B
        patients["ecog_ps"] = _baseline_ps(rng, ps_prog, n_total, int(T["t1_ps_0"]))
        # ascites and PVTT at baseline: present at baseline only if present at progression for the PD patients
        patients["ascites"] = _subset_flags(rng, np.r_[cols["ascites"] == "yes", np.ones(n_total - n38, bool)],
                                            int(T["t1_ascites_yes"]))
        patients["pvtt"] = _subset_flags(rng, np.r_[cols["pvtt"] == "yes", np.ones(n_total - n38, bool)],
                                         int(T["t1_pvtt_yes"]))
        if ((patients["pvtt"] == "no") & (patients["ecog_ps"] == 0)).sum() >= int(T["t1_bclc_b"]):
            break
    patients["bclc_stage"], patients["tnm_stage"] = _stages(rng, T, patients)
    for c, v in _baseline_categoricals(rng, T, n_total).items():
        patients[c] = v
    for c, v in _baseline_labs(rng, T, n_total, patients["ascites"].to_numpy()).items():
        patients[c] = v
    patients = pd.concat([patients, dates[["first_haic_date"]]], axis=1)
    patients["n_haic_sessions"] = n_sessions
    patients["best_response"] = best
    patients["last_followup_date"] = dates["last_followup_date"]
    patients["death"] = event.astype(int)
    # identifiers in order of enrolment
    patients = patients.sort_values(["first_haic_date", "row"], kind="stable")
    patients["patient_id"] = [f"P{k:03d}" for k in range(1, n_total + 1)]
    id_of_row = dict(zip(patients["row"], patients["patient_id"]))
    # progression table
    prog = pd.DataFrame({"row": np.arange(n38 + n_ex)})
    prog["patient_id"] = prog["row"].map(id_of_row)
    prog["progression_date"] = dates["progression_date"].iloc[:n38 + n_ex].to_numpy()
    prog["age"] = np.r_[prog_age, ex_prog_age]
    prog["ecog_ps"] = np.r_[ps_prog, ex_cols.pop("ecog_ps")]
    for c in ("alt", "ast", "total_bilirubin", "albumin", "prothrombin_activity", "platelets", "afp", "dcp"):
        prog[c] = np.r_[cols[c], ex_cols[c]]
    prog["ascites"] = np.r_[cols["ascites"], ex_cols["ascites"]]
    prog["pvtt"] = np.r_[cols["pvtt"], ex_cols["pvtt"]]
    prog["tumor_distribution"] = np.r_[cols["distribution"], ex_cols["tumor_distribution"]]
    prog["tumor_count"] = np.r_[np.where(cols["tumor_count"] == "lt4", rng.integers(1, 4, n38), rng.integers(4, 11, n38)),
                                ex_cols["tumor_count"]]
    prog["max_tumor_size_mm"] = np.r_[np.where(cols["tumor_size"] == "lt50", rng.integers(15, 50, n38),
                                               rng.integers(50, 161, n38)), ex_cols["max_tumor_size_mm"]]
    by_row = patients.set_index("row").sort_index()
    patients["max_tumor_size_mm"] = pd.Series(tumour_sizes(rng, by_row["max_tumor_size_mm"].to_numpy() < 50,
                                                           prog["max_tumor_size_mm"].to_numpy()),
                                              index=by_row.index).reindex(patients["row"]).to_numpy()
    cp_min = child_pugh_min(prog["total_bilirubin"], prog["albumin"], prog["prothrombin_activity"], prog["ascites"])
    prog["child_pugh_score"] = np.r_[cp_min[:n38], np.maximum(cp_min[n38:], 9)].astype(int)
    prog["salvage_treatment"] = np.r_[salvage, ["bsc"] * n_ex]
    prog["salvage_start_date"] = dates["salvage_start_date"].iloc[:n38 + n_ex].to_numpy()
    prog = prog.sort_values("patient_id")
    patients = patients.drop(columns="row")[PATIENT_COLUMNS]
    prog = prog.drop(columns="row")[PROGRESSION_COLUMNS]
    ae = _adverse_events(rng, T, patients["patient_id"].to_numpy())
    return {"patients": patients.reset_index(drop=True), "progression": prog.reset_index(drop=True),
            "adverse_events": ae}


PATIENT_COLUMNS = ["patient_id", "sex", "age", "etiology", "tnm_stage", "bclc_stage", "ecog_ps", "initial_treatment",
                   "child_pugh_score", "alt", "total_bilirubin", "prothrombin_activity", "albumin", "platelets",
                   "afp", "dcp", "ascites", "pvtt", "tumor_distribution", "tumor_count", "max_tumor_size_mm",
                   "first_haic_date", "n_haic_sessions", "best_response", "last_followup_date", "death"]
PROGRESSION_COLUMNS = ["patient_id", "progression_date", "age", "ecog_ps", "child_pugh_score", "alt", "ast",
                       "total_bilirubin", "albumin", "prothrombin_activity", "platelets", "afp", "dcp", "ascites",
                       "pvtt", "tumor_distribution", "tumor_count", "max_tumor_size_mm", "salvage_treatment",
                       "salvage_start_date"]


def _excluded_values(rng, n):
    """Values at progression of the patients whose liver function worsened (Child-Pugh >= 9)."""
    return {"ecog_ps": rng.integers(1, 3, n), "alt": rng.integers(30, 120, n), "ast": rng.integers(60, 220, n),
            "total_bilirubin": np.round(rng.uniform(2.1, 2.9, n), 1), "albumin": np.round(rng.uniform(2.3, 2.7, n), 1),
            "prothrombin_activity": rng.integers(55, 75, n), "platelets": np.round(rng.uniform(4, 15, n), 1),
            "afp": np.round(np.exp(rng.uniform(3, 11, n))), "dcp": np.round(np.exp(rng.uniform(4, 11, n))),
            "ascites": np.array(["yes"] * n), "pvtt": np.array(["yes"] * n),
            "tumor_distribution": np.array(["bilateral"] * n), "tumor_count": rng.integers(4, 11, n),
            "max_tumor_size_mm": rng.integers(50, 160, n)}


def _subset_flags(rng, allowed, k) -> np.ndarray:
    """'yes' for exactly k patients chosen among `allowed`, 'no' elsewhere."""
    idx = rng.choice(np.nonzero(allowed)[0], k, replace=False)
    out = np.array(["no"] * len(allowed), dtype=object)
    out[idx] = "yes"
    return out


def _baseline_ps(rng, ps_prog, n_total, n0):
    """Baseline PS with exactly n0 patients at PS 0; never worse than at progression."""
    n38 = len(ps_prog)
    ps = np.r_[ps_prog, rng.choice([1, 1, 1, 2], n_total - n38)]
    ps[:n38] = np.minimum(ps[:n38], rng.choice([1, 1, 1, 2], n38))
    free = np.nonzero(ps > 0)[0]
    ps[rng.choice(free, n0 - (ps == 0).sum(), replace=False)] = 0
    return ps


def _stages(rng, T, patients):
    """BCLC and TNM stages with exact counts: BCLC B only without PVTT and with PS 0;
    TNM II only without PVTT."""
    n = len(patients)
    no_pvtt = (patients["pvtt"] == "no").to_numpy()
    ps0 = (patients["ecog_ps"] == 0).to_numpy()
    bclc = np.array(["C"] * n, dtype=object)
    cand = np.nonzero(no_pvtt & ps0)[0]
    bclc[rng.choice(cand, int(T["t1_bclc_b"]), replace=False)] = "B"
    tnm = np.array([None] * n, dtype=object)
    ii = rng.choice(np.nonzero(bclc == "B")[0], int(T["t1_tnm_ii"]), replace=False)
    tnm[ii] = "II"
    ivb = rng.choice(np.nonzero(bclc == "C")[0], int(T["t1_tnm_ivb"]), replace=False)
    tnm[ivb] = "IVB"
    rest = np.nonzero(tnm == None)[0]  # noqa: E711
    tnm[rest] = counts_vector(rng, {"III": T["t1_tnm_iii"], "IVA": T["t1_tnm_iva"]})
    return bclc, tnm


def write_cohort(tables: dict, out_dir) -> None:
    """Write the tables as CSV (ISO dates, no index, '\\n' line ends) and their checksum manifest
    (`privacy.write_manifest`: how a run recognises the bundled synthetic cohort by its content)."""
    privacy.write_manifest(write_cohort_tables(tables, out_dir))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src.synthetic.reconstruct", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", default=str(ROOT / "data"), help="folder to write the CSV tables into")
    parser.add_argument("--published", default=None, help="published_results.csv (default data/published_results.csv)")
    args = parser.parse_args(argv)
    t0 = _time.time()
    tables = build_cohort(args.seed, args.published, log=lambda m: print(m, flush=True))
    write_cohort(tables, args.out)
    print(f"wrote {', '.join(f'{k}.csv ({len(v)} rows)' for k, v in tables.items())} to {args.out} "
          f"in {_time.time() - t0:.0f} s (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())


# --- scoring a written cohort (for tests and the scorecard) --------------------

def state_from_tables(tables: dict, max_child_pugh: int = 8):
    """The SPP-analysis state (as used by the annealing) of a cohort given as tables."""
    prog = tables["progression"]
    prog = prog[prog["child_pugh_score"] <= max_child_pugh]
    df = prog.merge(tables["patients"][["patient_id", "sex", "first_haic_date", "last_followup_date", "death"]],
                    on="patient_id")
    s = _SppState()
    s.group = df["salvage_treatment"].eq("sorafenib").astype(int).to_numpy()
    s.spp_days = (df["last_followup_date"] - df["progression_date"]).dt.days.to_numpy(float)
    s.ttp_days = (df["progression_date"] - df["first_haic_date"]).dt.days.to_numpy(float)
    s.event = df["death"].eq(1).to_numpy()
    s.cols = {c: df[c].to_numpy() for c in [CONTINUOUS[k][0] for k in CONTINUOUS] + ["ascites", "pvtt"]}
    s.cols["sex"] = np.where(df["sex"].eq("M"), "male", "female")
    s.cols["ps"] = np.where(df["ecog_ps"].eq(0), "0", "1_2")
    s.high = _high(s.cols)
    return s


def spp_cohort_loss(tables: dict, published=None) -> float:
    """Calibration loss of the SPP analysis of a cohort (0 = every target met)."""
    T, D, skip = load_targets(published)
    return spp_loss(spp_statistics(state_from_tables(tables)), T, D, skip)


def move_granularity(tables: dict, published=None) -> tuple[pd.DataFrame, int]:
    """How finely the smallest changes of a cohort can move the numbers of the SPP rank stage.

    Takes the 38 SPP patients of `tables` (no two SPP times equal, as in the reconstructed cohort), applies
    every single move of the rank stage's local search (`_single_moves`: swap of two patients at most 4 apart
    in the time order, censoring flip, swap of bilirubin or ascites within a group) that keeps the data
    feasible, and refits. Returns one row per published number of the stage (the three log-rank p of the
    Cox model's factors, its hazard ratios, 95% CIs and p-values) with the change each move makes, in units
    of the printed last digit, and the number of moves after which more of these numbers match.
    """
    T, D, skip = load_targets(published)
    s = state_from_tables(tables)
    if len(np.unique(s.spp_days)) < len(s.spp_days):
        raise ValueError("move_granularity needs distinct survival-post-progression times (rank-stage model)")
    keys, target, unit, _ = _rank_targets(T, D, skip)
    order, sor = np.argsort(s.spp_days, kind="stable"), s.group == 1
    tb, asc = s.cols["total_bilirubin"].astype(float), s.cols["ascites"] == "yes"
    moves = _single_moves(s.group, order, tb, asc)
    moves = np.concatenate([np.zeros((1, 3), int), moves])[:, None, :]  # row 0: no move (the cohort itself)
    O, EV, TB, AS = _apply_moves(moves, order, s.event, tb, asc)
    alb, pt = (s.cols[c].astype(float) for c in ("albumin", "prothrombin_activity"))
    p, b, se, feasible = _fit_states(O, EV, TB, AS, alb, pt, sor, np.zeros((len(O), 3)), sorafenib_median_later(T),
                                     median_bounds(T))
    st = _rank_statistics(p, b, se)
    S = np.stack([st[k] for k in keys], axis=-1)
    matched = np.abs(S - target) <= 0.5 * unit  # printed precision (half-up rounding aside)
    change = np.abs(S[1:][feasible[1:]] - S[0]) / unit
    moved = change > 1e-9
    table = pd.DataFrame({
        "id": keys, "published": target, "this run": S[0], "matched": matched[0],
        "moves": int(feasible[1:].sum()), "moves that change it": moved.sum(0),
        "smallest change (last digits)": [c[m].min() if m.any() else np.nan for c, m in zip(change.T, moved.T)],
        "median change (last digits)": [np.median(c[m]) if m.any() else np.nan for c, m in zip(change.T, moved.T)],
        "moves after which it matches": matched[1:][feasible[1:]].sum(0)})
    better = int((matched[1:][feasible[1:]].sum(1) > matched[0].sum()).sum())
    return table, better
