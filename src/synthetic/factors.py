"""The values at progression of the 38 patients of the survival post-progression (SPP) analysis.

Step 2 (`calibrate_ttests`): per continuous variable of Table 2, values per group with the printed median,
minimum and maximum whose Student's t-test gives the printed p. Step 3c (`calibrate_factors`): with the SPP
times fixed, each factor of Table 3 outside the Cox model reallocated within each group until its log-rank
p is the printed one. Also the binary factors of Table 3 (`high_levels`).
"""
from __future__ import annotations

import numpy as np

from src.paper import audit
from src.stats import faststats as fs
from src.synthetic.design import CONTINUOUS, CUTOFFS
from src.synthetic.marginals import child_pugh_points, counts_vector, values_with_summary
from src.synthetic.targets import distance, distances

SPP_FACTORS = ["age", "sex", "ps", "plt", "alb", "tbil", "pt", "alt", "ast", "afp", "dcp", "ascites", "pvtt"]


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


def progression_values(rng, T, tt):
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


def high_levels(cols):
    """The binary factors of Table 3 (True = the level that is not the reference)."""
    h = {stem: cols[CONTINUOUS[stem][0]] >= CUTOFFS[stem] for stem in CUTOFFS}
    h["sex"] = cols["sex"] == "male"
    h["ps"] = cols["ps"] == "0"
    h["ascites"] = cols["ascites"] == "yes"
    h["pvtt"] = cols["pvtt"] == "yes"
    return h


def _factor_high(factor, values) -> np.ndarray:
    """The binary factor of Table 3 from its column's values (as `high_levels`)."""
    if factor in CUTOFFS:
        return values >= CUTOFFS[factor]
    return values == {"sex": "male", "ps": "0", "ascites": "yes", "pvtt": "yes"}[factor]


FACTOR_COLUMNS = {**{stem: CONTINUOUS[stem][0] for stem in CUTOFFS if stem != "tbil"}, "sex": "sex", "ps": "ps",
                  "pvtt": "pvtt"}  # the factors outside the Cox model (bilirubin and ascites are set in step 3a)


def calibrate_factors(rng, T, D, skip, group, cols, spp_days, event, steps=300) -> dict:
    """Step 3c: with the SPP times fixed, each other factor of Table 3 on its own: swaps of values within a
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
                    ok = (child_pugh_points(parts["total_bilirubin"], parts["albumin"], parts["prothrombin_activity"],
                                     np.tile(cols["ascites"] == "yes", (len(moves), 1))) <= 8).all(1)
                losses = np.where(ok, distances(fs.logrank_p(spp_days, event, _factor_high(f, trial).T),
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
