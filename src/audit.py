"""Audit of the paper's printed numbers: which of them contradict each other.

Every check takes the table of published numbers (`data/published_results.csv`,
read with `read_published`) and returns findings: the ids involved, what is
printed, what the other printed numbers imply, and, where one exists, the
smallest correction that makes them agree. The reconstruction follows the
best-supported reading (`best_reading`) and the scorecard marks the ids of
`unreproducible` as "not reproducible", with the reason.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from src.helpers import ROOT

Z975 = stats.norm.ppf(0.975)


def read_published(path=None) -> pd.DataFrame:
    """The published numbers, indexed by id, `value` as float and as printed (`printed`)."""
    df = pd.read_csv(path or ROOT / "data" / "published_results.csv", dtype={"value": str})
    df["printed"] = df["value"]
    df["value"] = df["value"].astype(float)
    return df.set_index("id")


def _v(pub, key):
    return pub.loc[key, "value"]


def _finding(check, ids, printed, implied, correction, reason):
    return {"check": check, "ids": ";".join(ids), "printed": printed, "implied": implied,
            "correction": correction, "consistent": not reason, "reason": reason}


# --- Table 2: two-by-two counts against their group size and printed p ------

TABLE2_CATEGORICAL = {"sex": ("male", "female"), "ps": ("0", "1_2"), "ascites": ("yes", "no"),
                      "pvtt": ("yes", "no"), "distribution": ("unilateral", "bilateral"),
                      "tumor_count": ("lt4", "ge4"), "tumor_size": ("lt50", "ge50")}


def fisher_p(table) -> float:
    """Two-sided Fisher exact p of a 2x2 table."""
    return float(stats.fisher_exact(np.asarray(table))[1])


def categorical_p_values(table) -> dict:
    """p of a 2x2 table under Fisher's exact test and chi-square with/without Yates."""
    t = np.asarray(table)
    out = {"fisher": fisher_p(t)}
    for name, corr in (("chi2", False), ("chi2_yates", True)):
        out[name] = float(stats.chi2_contingency(t, correction=corr)[1]) if (t.sum(0) > 0).all() and (t.sum(1) > 0).all() else np.nan
    return out


def table2_completions(pub) -> list[dict]:
    """For each Table 2 row whose counts do not add up to the group size, the
    completions (one added patient per short group) whose Fisher p, printed at
    3 decimals, equals the printed p."""
    n = {"sor": _v(pub, "flow_n_sorafenib"), "oth": _v(pub, "flow_n_other")}
    findings = []
    for var, levels in TABLE2_CATEGORICAL.items():
        ids = {(g, lev): f"t2_{var}_{lev}_{g}" for g in n for lev in levels}
        counts = {k: int(_v(pub, i)) for k, i in ids.items()}
        p_printed = pub.loc[f"t2_{var}_p", "printed"]
        short = {g: int(n[g] - sum(counts[(g, lev)] for lev in levels)) for g in n}
        table = [[counts[(g, lev)] for lev in levels] for g in n]
        p_now = categorical_p_values(table)
        if not any(short.values()):
            continue
        options = []
        per_group = [[(g, lev) for lev in levels] if short[g] == 1 else [None] for g in n]
        for combo in itertools.product(*per_group):
            fixed = dict(counts)
            for key in combo:
                if key:
                    fixed[key] += 1
            p = fisher_p([[fixed[(g, lev)] for lev in levels] for g in n])
            if f"{p:.3f}" == p_printed:
                options.append({ids[k]: fixed[k] for k in combo if k})
        printed = "; ".join(f"{ids[k]}={counts[k]}" for k in ids) + f"; p={p_printed}"
        implied = (f"rows sum to {', '.join(str(int(n[g] - short[g])) for g in n)} for groups of "
                   f"{', '.join(str(int(n[g])) for g in n)}; Fisher p of the printed counts {p_now['fisher']:.3f}")
        correction = " or ".join(", ".join(f"{k}={v}" for k, v in o.items()) for o in options) or "none found"
        reason = ("counts do not add up to the group size; "
                  + ("the completion reproducing the printed Fisher p is " + correction if len(options) == 1
                     else "no unique completion reproduces the printed p"))
        findings.append(_finding("table2_counts_vs_group_size", list(ids.values()) + [f"t2_{var}_p"],
                                 printed, implied, correction if len(options) == 1 else "", reason))
    return findings


# --- Figure 1: salvage options by era against the totals in the text --------

def flow_era_totals(pub) -> list[dict]:
    """Figure 1 era boxes against the per-option totals of the Results text."""
    findings = []
    for opt in ("haic", "uft", "bsc"):
        early = f"flow_n_{opt}_2005_2008"
        late = f"flow_n_{opt}_from_2009" + ("_fig" if opt == "bsc" else "")
        total = f"flow_n_other_{opt}"
        a, b, t = (int(_v(pub, i)) for i in (early, late, total))
        if a + b == t:
            findings.append(_finding("flow_eras_vs_text", [early, late, total], f"{a} + {b}", f"{t}", "", ""))
            continue
        # the text states that HAIC and tegafur-uracil were mainly used before sorafenib's approval,
        # so the early-era box is kept and the later one corrected to the text's total
        fixed = t - a
        findings.append(_finding(
            "flow_eras_vs_text", [early, late, total], f"{early}={a}, {late}={b}",
            f"{total}={t} implies {late}={fixed}", f"{late}={fixed}",
            f"the two era boxes add up to {a + b}, the text gives {t} in all; the text says this option was "
            f"mainly used before sorafenib's approval, so the 2005-2008 box is kept and the later one is {fixed}"))
    return findings


# --- Results: sessions -----------------------------------------------------

def sessions_total(pub) -> list[dict]:
    """Printed total and mean of sessions against the printed distribution."""
    k = [int(i.split("_")[2]) for i in pub.index if i.startswith("r_sessions_") and i.endswith("_n")]
    counts = {s: int(_v(pub, f"r_sessions_{s}_n")) for s in k}
    total = sum(s * c for s, c in counts.items())
    n = sum(counts.values())
    findings = []
    printed_total = int(_v(pub, "r_sessions_total"))
    reason = "" if total == printed_total else (
        f"the printed distribution (patients per number of sessions) adds up to {total} sessions, "
        f"not {printed_total}; the percentages agree with the counts, so the distribution is kept")
    findings.append(_finding("sessions_total_vs_distribution", ["r_sessions_total"] + [f"r_sessions_{s}_n" for s in k],
                             str(printed_total), str(total), "", reason))
    mean = total / n
    printed_mean = pub.loc["r_sessions_mean", "printed"]
    ok = f"{mean:.1f}" == printed_mean
    findings.append(_finding("sessions_mean_vs_distribution", ["r_sessions_mean"], printed_mean, f"{mean:.2f}", "",
                             "" if ok else f"the distribution gives a mean of {mean:.2f} sessions per patient "
                             f"({total}/{n}); the printed mean matches the printed total instead"))
    return findings


# --- Table 3: Cox hazard ratios against their confidence intervals ----------

def wald_p_from_ci(hr, lo, hi) -> float:
    """Two-sided Wald p implied by a hazard ratio and its 95% CI (Altman and Bland 2011)."""
    se = (np.log(hi) - np.log(lo)) / (2 * Z975)
    return float(2 * stats.norm.sf(abs(np.log(hr) / se)))


def wald_p_range(printed_hr, printed_lo, printed_hi, decimals=3) -> tuple[float, float]:
    """Range of Wald p compatible with an HR and CI known only to `decimals` decimals."""
    h = 0.5 * 10.0 ** -decimals
    b = np.log(np.linspace(printed_hr - h, printed_hr + h, 201))[:, None]
    lo_b, hi_b = np.log(printed_lo - h), np.log(printed_lo + h)
    lo_t, hi_t = np.log(printed_hi - h), np.log(printed_hi + h)
    se = np.linspace((lo_t - hi_b) / (2 * Z975), (hi_t - lo_b) / (2 * Z975), 801)[None, :]
    ok = (b - Z975 * se >= lo_b) & (b - Z975 * se < hi_b) & (b + Z975 * se >= lo_t) & (b + Z975 * se < hi_t)
    p = 2 * stats.norm.sf(np.abs(b / se))
    return (float(p[ok].min()), float(p[ok].max())) if ok.any() else (np.nan, np.nan)


def cox_consistency(pub) -> list[dict]:
    """Each multivariable HR against its CI (geometric mean) and the printed p against the CI."""
    findings = []
    names = sorted({i.rsplit("_", 1)[1] for i in pub.index if i.startswith("t3_multi_hr_")})
    for name in names:
        ids = [f"t3_multi_{s}_{name}" for s in ("hr", "ci_low", "ci_high", "p")]
        hr, lo, hi, p = (_v(pub, i) for i in ids)
        gm = np.sqrt(lo * hi)
        findings.append(_finding("cox_hr_vs_ci", ids[:3], f"HR {hr:.3f}", f"geometric mean of the CI {gm:.3f}", "",
                                 "" if abs(gm - hr) <= 0.002 else "the HR is not the geometric mean of its CI"))
        p_lo, p_hi = wald_p_range(hr, lo, hi)
        ok = p_lo - 0.0005 <= p < p_hi + 0.0005
        findings.append(_finding(
            "cox_p_vs_ci", ids, f"p={pub.loc[ids[3], 'printed']}",
            f"Wald p implied by HR and CI {wald_p_from_ci(hr, lo, hi):.4f} (between {p_lo:.4f} and {p_hi:.4f} "
            "given their rounding)", "",
            "" if ok else "the printed p-value cannot come from a Wald test with this HR and 95% CI"))
    return findings


# --- summary ---------------------------------------------------------------

CHECKS = (table2_completions, flow_era_totals, sessions_total, cox_consistency)


def run_audit(pub=None) -> pd.DataFrame:
    """All findings, one row per check and group of ids."""
    pub = read_published() if pub is None else pub
    return pd.DataFrame([f for check in CHECKS for f in check(pub)])


def best_reading(pub=None) -> dict:
    """Corrected values (id -> value) of the best-supported reading of the paper."""
    out = {}
    for f in run_audit(pub).itertuples():
        for part in filter(None, str(f.correction).split(", ")):
            if "=" in part and " or " not in part:
                key, value = part.split("=")
                out[key] = float(value)
    return out


def unreproducible(pub=None) -> dict:
    """Ids that cannot all be matched together with the others -> reason.

    For a corrected count, the printed (uncorrected) value; for an
    inconsistent p-value, the p itself (the HR and CI are kept).
    """
    out = {}
    for f in run_audit(pub).itertuples():
        if f.consistent:
            continue
        if f.correction:
            for part in f.correction.split(", "):
                out[part.split("=")[0]] = f.reason
        elif f.check == "cox_p_vs_ci":
            out[f.ids.split(";")[-1]] = f.reason
        elif f.check.startswith("sessions"):
            out[f.ids.split(";")[0]] = f.reason
    return out
