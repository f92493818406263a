"""The baseline values of Table 1 (exact counts, medians, ranges and the mean age), the stages, and the
values at progression of the patients excluded for a worsened liver function.

Joint where the printed numbers or the clinical definitions tie values together: the Child-Pugh score is
the sum of its components' points (bilirubin, albumin, prothrombin activity, ascites; `baseline_labs`), so
its correlations with them are recovered; BCLC stage B only without PVTT and with PS 0, TNM stage II only
in stage B (`baseline_stages`); ascites and PVTT at baseline only where present at progression, and a
baseline tumour no larger than at progression, for the patients who progressed (`src/synthetic/assemble.py`).
Free (the reconstruction's choice, nothing printed constrains them): every other correlation between
baseline values, among them bilirubin with albumin and prothrombin activity beyond what the Child-Pugh
classes imply, AFP with DCP, tumour burden (AFP, DCP, count, size) with PVTT, and age with anything; these
are drawn independently, so an ensemble puts them near 0 whatever the truth."""
from __future__ import annotations

import numpy as np

from src.synthetic.marginals import child_pugh_points, counts_vector, values_with_summary


def baseline_categoricals(rng, T, n):
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


def baseline_labs(rng, T, n, ascites):
    """Table 1 laboratory values (exact median/min/max) and a Child-Pugh score that is the sum of its
    components' points (`_child_pugh_allocation`)."""
    spec = {"alt": ("alt", 0, True, None), "total_bilirubin": ("tbil", 1, False, None),
            "prothrombin_activity": ("pt", 0, False, None), "albumin": ("alb", 1, False, None),
            "platelets": ("plt", 1, False, None), "afp": ("afp", 0, True, (500, int(T["t1_afp_gt500"]))),
            "dcp": ("dcp", 0, True, (500, int(T["t1_dcp_gt500"])))}
    labs = {}
    for col, (k, dec, log, above) in spec.items():
        v = values_with_summary(rng, n, T[f"t1_{k}_median"], T[f"t1_{k}_min"], T[f"t1_{k}_max"], dec, log, above)
        labs[col] = rng.permutation(v)
    return _child_pugh_allocation(rng, labs, ascites, int(T["t1_cp_b"]))


CHILD_PUGH_LABS = ("total_bilirubin", "albumin", "prothrombin_activity")


def _child_pugh_allocation(rng, labs, ascites, n_b, steps=20000):
    """`labs` with bilirubin, albumin and prothrombin activity reallocated among the patients, and their
    Child-Pugh scores: n_b patients of class B (7-9), the others A (5-6).

    The score is the sum of the points of its components (`child_pugh_points`: the recorded ones, mild
    ascites and no encephalopathy), so it is not drawn on its own: swaps of one laboratory value between two
    patients (every marginal stays exact) until no sum exceeds 9 and as many sums reach 7 as there are class
    B patients (or as many as the values allow). The B patients whose components sum to less than 7 get 7
    (moderate ascites or encephalopathy, which the data do not record). The strength of the correlations
    among the components themselves is free (the reconstruction's choice): only the score is pinned to them.
    """
    n, asc = len(ascites), np.asarray(ascites) == "yes"
    normal = {"total_bilirubin": 1.0, "albumin": 4.0, "prothrombin_activity": 100.0}  # 1 point each
    pts = np.vstack([child_pugh_points(*(labs[c] if c == col else normal[c] for c in CHILD_PUGH_LABS), False) - 5
                     for col in CHILD_PUGH_LABS])  # each laboratory component's points above its lowest (1)
    total = 5 + asc + pts.sum(0)
    loss = lambda t: 10 * int((t > 9).sum()) + abs(int((t >= 7).sum()) - n_b)
    current = loss(total)
    for _ in range(steps):
        if current == 0:
            break
        c, (i, j) = rng.integers(3), rng.choice(n, 2, replace=False)
        d = pts[c, j] - pts[c, i]
        if d == 0:
            continue
        total[i] += d
        total[j] -= d
        new = loss(total)
        if new <= current:
            current = new
            pts[c, [i, j]] = pts[c, [j, i]]
            col = labs[CHILD_PUGH_LABS[c]]
            col[[i, j]] = col[[j, i]]
        else:
            total[i] -= d
            total[j] += d
    if (total > 9).any() or (total >= 7).sum() > n_b:
        raise RuntimeError("could not make baseline Child-Pugh scores consistent with the laboratory values")
    order = np.argsort(-total + rng.random(n) * 0.5, kind="stable")  # the highest sums are class B
    is_b = np.zeros(n, bool)
    is_b[order[:n_b]] = True
    labs["child_pugh_score"] = np.where(is_b, np.maximum(total, 7), total).astype(int)
    return labs


def baseline_ages(rng, T, fixed_ages, n_free):
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


def excluded_progression_values(rng, n):
    """Values at progression of the patients whose liver function worsened (Child-Pugh >= 9)."""
    return {"ecog_ps": rng.integers(1, 3, n), "alt": rng.integers(30, 120, n), "ast": rng.integers(60, 220, n),
            "total_bilirubin": np.round(rng.uniform(2.1, 2.9, n), 1), "albumin": np.round(rng.uniform(2.3, 2.7, n), 1),
            "prothrombin_activity": rng.integers(55, 75, n), "platelets": np.round(rng.uniform(4, 15, n), 1),
            "afp": np.round(np.exp(rng.uniform(3, 11, n))), "dcp": np.round(np.exp(rng.uniform(4, 11, n))),
            "ascites": np.array(["yes"] * n), "pvtt": np.array(["yes"] * n),
            "tumor_distribution": np.array(["bilateral"] * n), "tumor_count": rng.integers(4, 11, n),
            "max_tumor_size_mm": rng.integers(50, 160, n)}


def subset_flags(rng, allowed, k) -> np.ndarray:
    """'yes' for exactly k patients chosen among `allowed`, 'no' elsewhere."""
    idx = rng.choice(np.nonzero(allowed)[0], k, replace=False)
    out = np.array(["no"] * len(allowed), dtype=object)
    out[idx] = "yes"
    return out


def baseline_ps(rng, ps_prog, n_total, n0):
    """Baseline PS with exactly n0 patients at PS 0; never worse than at progression."""
    n38 = len(ps_prog)
    ps = np.r_[ps_prog, rng.choice([1, 1, 1, 2], n_total - n38)]
    ps[:n38] = np.minimum(ps[:n38], rng.choice([1, 1, 1, 2], n38))
    free = np.nonzero(ps > 0)[0]
    ps[rng.choice(free, n0 - (ps == 0).sum(), replace=False)] = 0
    return ps


def baseline_stages(rng, T, patients):
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
