"""Reconstruct a synthetic cohort whose analysis reproduces the paper's aggregates.

The individual records of the study are not public. This module writes
`patients.csv`, `progression.csv` and `adverse_events.csv` for 67 synthetic
patients, deterministically from a seed, so that the notebooks reproduce the
published numbers read from `data/published_results.csv` (no published value is
typed here). Where printed numbers contradict each other, it follows the
best-supported reading of `src.audit`.

How (`python -m src.reconstruct --seed 20130101 --out data`):
1. Exact construction of every marginal: counts of Table 1, of the response
   and session distributions, of the grade 3-4 toxicities, of Figure 1 and of
   Table 2; continuous variables with the exact median, minimum and maximum
   (`values_with_summary`), and the mean age.
2. A seeded search over the free values of each continuous variable of Table 2
   so that Student's t-test gives the printed p (`calibrate_ttests`).
3. A seeded simulated annealing over the 38 patients of the survival
   post-progression (SPP) analysis: their SPP and time to progression, their
   censoring, and the allocation of the measured values among the patients of
   each group (swaps keep every marginal exact), against a loss that counts,
   for every published number, how far the computed value lies outside the
   rounding interval of the printed one (`calibrate_spp`).
4. A second annealing over the overall-survival times of the other 29
   patients for the medians and 1/2/3-year survival (`calibrate_os`).
5. Dates: first HAIC within the enrolment period, sorafenib only after its
   approval and after progression, BSC and other options in the era given by
   the flow diagram, every timeline ordered (`assign_dates`).
Plausibility rules (laboratory ranges, Child-Pugh score consistent with its
components, date order) are those of `src/validate.py`; the written data pass them.
"""
from __future__ import annotations

import argparse
import sys
import time as _time
from pathlib import Path

import numpy as np
import pandas as pd

from src import audit
from src import faststats as fs
from src.helpers import DAYS_PER_MONTH, ROOT
from src.validate import child_pugh_points_range

DEFAULT_SEED = 20130101

# Design choices of the reconstruction (assumptions, not published results)
ENROL_START, ENROL_END = pd.Timestamp("2005-04-01"), pd.Timestamp("2011-08-31")  # Methods: study period
SORAFENIB_APPROVAL = pd.Timestamp("2009-05-20")  # approval in Japan (the paper: "May 2009")
ERA_START = pd.Timestamp("2009-01-01")           # Figure 1: "from 2005 to 2008" / "from 2009"
DATA_CUTOFF = pd.Timestamp("2013-03-31")         # assumed end of follow-up (not stated in the paper)
CUTOFFS = {"age": 70, "plt": 12.5, "alb": 3.8, "tbil": 1.0, "pt": 94, "alt": 50, "ast": 84,
           "afp": 2000, "dcp": 1800}             # the paper's Table 3 cut-offs (also notebook 06's defaults)
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
SPP_CHAINS, SPP_CHAIN_ITERATIONS, SPP_REFINE_ITERATIONS = 4, 12000, 30000  # annealing budget (< 2 min)
MARGIN = 0.3  # aim at the central 40% of each rounding interval


# --- targets ---------------------------------------------------------------

def load_targets(path=None) -> tuple[dict, dict, dict]:
    """Published values (id -> float), decimals, and the ids not to calibrate to.

    Values are the best-supported reading of `src.audit` (corrected counts);
    ids the audit proves inconsistent with the others are left out of the loss.
    """
    pub = audit.read_published(path)
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


def _cp_ok(cols) -> bool:
    asc = np.where(cols["ascites"] == "yes", "yes", "no")
    m = child_pugh_min(cols["total_bilirubin"], cols["albumin"], cols["prothrombin_activity"], asc)
    return bool((m <= 8).all())


SWAP_COLUMNS = [CONTINUOUS[s][0] for s in CONTINUOUS] + ["sex", "ps", "ascites", "pvtt"]


def initial_spp_state(rng, T, tt):
    """A random starting state of the SPP annealing with every marginal exact."""
    s = _SppState()
    s.group, s.cols = _progression_values(rng, T, tt)
    while not _cp_ok(s.cols):  # repair the Child-Pugh constraint by shuffling within groups
        for c in ("total_bilirubin", "albumin", "ascites"):
            for g in (0, 1):
                idx = np.nonzero(s.group == g)[0]
                s.cols[c][idx] = rng.permutation(s.cols[c][idx])
    s.high = _high(s.cols)
    s.spp_days, s.event = _initial_spp(rng, T, s)
    s.ttp_days = np.round(rng.uniform(28, 75, len(s.group)))
    _untie(s, rng)
    return s


def calibrate_spp(rng, T, D, skip, tt, iterations=40000, log=None, state=None, temp0=3.0):
    """Simulated annealing over the SPP cohort; returns (state, statistics, loss).

    Without `state`, starts from `initial_spp_state`; with it, refines that state.
    """
    s = state or initial_spp_state(rng, T, tt)
    n = len(s.group)
    st = spp_statistics(s)
    loss = spp_loss(st, T, D, skip)
    temp1 = 0.003
    for it in range(iterations):
        if loss == 0:
            break
        temp = temp0 * (temp1 / temp0) ** (it / iterations)
        saved = (s.spp_days.copy(), s.ttp_days.copy(), s.event.copy(), None)
        u = rng.random()
        i = rng.integers(n)
        if u < 0.15:
            j = rng.integers(n)
            s.spp_days[[i, j]] = s.spp_days[[j, i]]
            if _tied(s, i) or _tied(s, j):
                s.spp_days = saved[0]
                continue
        elif u < 0.45:
            step = max(1.0, abs(rng.normal(0, 1 + 30 * temp / temp0)))
            s.spp_days[i] = min(MAX_SPP_DAYS, max(3, s.spp_days[i] + np.sign(rng.normal()) * np.round(step)))
            if _tied(s, i):
                s.spp_days[i] += 1
                if _tied(s, i):
                    s.spp_days = saved[0]
                    continue
        elif u < 0.55:
            s.ttp_days[i] = float(np.clip(s.ttp_days[i] + np.round(rng.normal(0, 10)), 21, 240))
        elif u < 0.60:
            if s.event.sum() - s.event[i] < 0.5 * n and s.event[i]:
                continue
            s.event[i] = ~s.event[i]
            if _tied(s, i):
                s.event = saved[2]
                continue
        else:
            col = SWAP_COLUMNS[rng.integers(len(SWAP_COLUMNS))]
            same = np.nonzero(s.group == s.group[i])[0]
            j = rng.choice(same)
            if s.cols[col][i] == s.cols[col][j]:
                continue
            s.cols[col][[i, j]] = s.cols[col][[j, i]]
            if col in ("total_bilirubin", "albumin", "ascites") and not _cp_ok(s.cols):
                s.cols[col][[i, j]] = s.cols[col][[j, i]]
                continue
            saved = saved[:3] + ((col, i, j),)
            s.high = _high(s.cols)
        new_st = spp_statistics(s)
        new_loss = spp_loss(new_st, T, D, skip)
        if new_loss <= loss or rng.random() < np.exp((loss - new_loss) / temp):
            st, loss = new_st, new_loss
        else:
            s.spp_days, s.ttp_days, s.event = saved[0], saved[1], saved[2]
            if saved[3]:
                col, i, j = saved[3]
                s.cols[col][[i, j]] = s.cols[col][[j, i]]
                s.high = _high(s.cols)
        if log and it % 5000 == 0:
            log(f"  SPP annealing {it:>6}: loss {loss:.2f}")
    return s, spp_statistics(s), loss


def _initial_spp(rng, T, s):
    """Starting SPP times drawn from the paper's own multivariable model: exponential
    times with hazard ratios of Table 3, scaled so the group medians land on the
    published ones, and about a quarter censored."""
    lp = (np.log(T["t3_multi_hr_tbil"]) * s.high["tbil"] + np.log(T["t3_multi_hr_ascites"]) * ~s.high["ascites"]
          + np.log(T["t3_multi_hr_sorafenib"]) * (s.group == 0))
    raw = rng.exponential(1.0, len(lp)) / np.exp(lp)
    days = np.empty(len(lp))
    for g, key in ((1, "spp_median_sor"), (0, "spp_median_oth")):
        k = s.group == g
        days[k] = raw[k] * T[key] * DAYS_PER_MONTH / np.median(raw[k])
    event = rng.random(len(lp)) < 0.75
    return np.clip(np.round(days), 7, MAX_SPP_DAYS), event


def _tied(s, i) -> bool:
    """Would patient i's SPP event time tie with another event time (Efron = Breslow only without ties)?"""
    if not s.event[i]:
        return False
    others = np.delete(np.nonzero(s.event)[0], np.nonzero(np.nonzero(s.event)[0] == i)[0])
    return bool(np.any(s.spp_days[others] == s.spp_days[i]))


def _untie(s, rng):
    for i in range(len(s.spp_days)):
        while _tied(s, i):
            s.spp_days[i] += 1


# --- step 4: overall survival of the other patients ---------------------------

def os_statistics(days, event, role) -> dict:
    """Published overall-survival statistics from OS days, events and response role."""
    m = days / DAYS_PER_MONTH
    land = fs.km_at(m, event, [12, 24, 36]) * 100
    dc, pd_ = role == "dc", np.isin(role, ["pd", "excluded"])
    return {"os_median_all": fs.km_median(m, event), "os_1y_pct": land[0], "os_2y_pct": land[1],
            "os_3y_pct": land[2], "os_median_dc": fs.km_median(m[dc], event[dc]),
            "os_median_pd": fs.km_median(m[pd_], event[pd_])}


def calibrate_os(rng, T, D, spp_os_days, spp_event, n_roles, iterations=30000, log=None):
    """Annealing over OS times of the disease-control, not-evaluated and excluded patients."""
    role = np.r_[["pd"] * len(spp_os_days), ["excluded"] * n_roles["excluded"], ["dc"] * n_roles["dc"],
                 ["ne"] * n_roles["ne"]]
    free = role != "pd"
    days = np.r_[spp_os_days, np.zeros(free.sum())].astype(float)
    event = np.r_[spp_event, np.ones(free.sum(), bool)]
    med = {"excluded": T["os_median_pd"] * 0.6, "dc": T["os_median_dc"], "ne": T["os_median_all"]}
    for r in ("excluded", "dc", "ne"):
        k = role == r
        days[k] = np.round(rng.exponential(med[r] * DAYS_PER_MONTH / np.log(2), k.sum())) + 30
    max_days = (DATA_CUTOFF - ENROL_START).days - 30
    days = np.minimum(days, max_days)
    event[role == "dc"] = rng.random((role == "dc").sum()) < 0.6
    def loss_of(d, e):
        st = os_statistics(d, e, role)
        return sum(distance(v, T[k], D[k]) for k, v in st.items()), st
    loss, st = loss_of(days, event)
    idx_free = np.nonzero(free)[0]
    for it in range(iterations):
        if loss == 0:
            break
        temp = 2.0 * (0.01 / 2.0) ** (it / iterations)
        i = rng.choice(idx_free)
        d2, e2 = days.copy(), event.copy()
        if rng.random() < 0.85:
            d2[i] = float(np.clip(d2[i] + np.round(rng.normal(0, 5 + 200 * temp)), 14, max_days))
            if role[i] == "excluded":
                d2[i] = min(d2[i], 366)
        elif role[i] != "excluded":
            e2[i] = ~e2[i]
        new_loss, new_st = loss_of(d2, e2)
        if new_loss <= loss or rng.random() < np.exp((loss - new_loss) / temp):
            days, event, loss, st = d2, e2, new_loss, new_st
        if log and it % 10000 == 0:
            log(f"  OS annealing {it:>6}: loss {loss:.2f}")
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
    chains = [calibrate_spp(rng, T, D, skip, tt, iterations=SPP_CHAIN_ITERATIONS) for _ in range(SPP_CHAINS)]
    log(f"SPP chains: losses {', '.join(f'{c[2]:.1f}' for c in chains)}")
    best = min(chains, key=lambda c: c[2])
    s, st, loss = calibrate_spp(rng, T, D, skip, tt, iterations=SPP_REFINE_ITERATIONS, state=best[0], temp0=0.5,
                                log=log)
    log(f"SPP calibration loss {loss:.3f}")
    n38 = len(s.group)
    # roles of all patients
    n_ex, n_dc, n_ne = int(T["flow_n_cp_excluded"]), int(T["flow_n_disease_control"]), int(T["r_response_ne"])
    n_total = n38 + n_ex + n_dc + n_ne
    days, event, role, ost, oloss = calibrate_os(rng, T, D, s.spp_days + s.ttp_days, s.event,
                                                 {"excluded": n_ex, "dc": n_dc, "ne": n_ne}, log=log)
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
    # sessions: more sessions for disease control, fewer for PD and not evaluated
    sessions = np.repeat([int(i.split("_")[2]) for i in T if i.startswith("r_sessions_") and i.endswith("_n")],
                         [int(T[i]) for i in T if i.startswith("r_sessions_") and i.endswith("_n")])
    pref = rng.random(n_total) + np.where(role == "dc", 1.2, np.where(role == "ne", -0.5, 0))
    n_sessions = np.empty(n_total, int)
    n_sessions[np.argsort(-pref, kind="stable")] = np.sort(sessions)[::-1]
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
    patients["ecog_ps"] = _baseline_ps(rng, ps_prog, n_total, int(T["t1_ps_0"]))
    # ascites and PVTT at baseline: present at baseline only if present at progression for the PD patients
    patients["ascites"] = _subset_flags(rng, np.r_[cols["ascites"] == "yes", np.ones(n_total - n38, bool)],
                                        int(T["t1_ascites_yes"]))
    patients["pvtt"] = _subset_flags(rng, np.r_[cols["pvtt"] == "yes", np.ones(n_total - n38, bool)],
                                     int(T["t1_pvtt_yes"]))
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
    """Write the tables as CSV (ISO dates, no index, '\\n' line ends)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False, lineterminator="\n", date_format="%Y-%m-%d",
                  float_format="%.10g")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src.reconstruct", description=__doc__.split("\n\n")[0])
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
