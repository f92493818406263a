"""Checks of the audit on counts: percentages against their counts (GRIM-like), means of whole numbers (GRIM),
counts against the totals they break down, counts above a cut-off against the median, summaries within their
range, Figure 1's era boxes against the text, and the HAIC sessions against their distribution.

Each check takes the published numbers (`published.published_by_id`) and returns findings
(`src/paper/audit.py` describes them)."""
from __future__ import annotations

import math
import re

from src.formats import format_number
from src.paper.published import COHORT, _finding, _half, _has, _ids_matching, _p, _v


# --- percentages against their counts (GRIM-like) ---------------------------

PERCENT_OF_COUNTS = {  # percentage id -> the count ids it is the percentage of, out of COHORT (source: Methods, Results)
    "m_etiology_hbv_pct": ["t1_etiology_hbv"], "m_etiology_hcv_pct": ["t1_etiology_hcv"],
    "m_etiology_alcohol_pct": ["t1_etiology_alcohol"], "m_cp_a_pct": ["t1_cp_a"], "m_cp_b_pct": ["t1_cp_b"],
    "m_pvtt_yes_pct": ["t1_pvtt_yes"],
    "r_dcr_pct": ["r_response_cr", "r_response_pr", "r_response_sd"],  # disease-control rate = (CR+PR+SD)/all
}
SESSION_PERCENT = r"r_sessions_(\d+)_pct"  # Results: "1 in 29 patients (43.3%)": percent of the cohort
PERCENT_WITHOUT_COUNT = r"r_tox_\w+_pct"   # Results, toxicity: percentages of the cohort, no count printed


def _percent_pairs(pub) -> dict:
    pairs = dict(PERCENT_OF_COUNTS)
    for pct in _ids_matching(pub, SESSION_PERCENT):
        pairs[pct] = [pct[:-len("pct")] + "n"]
    return pairs


def _counts_giving(percent, half, n) -> list[int]:
    """Whole numbers k of n patients whose percentage 100 k / n rounds to `percent`."""
    return [k for k in range(int(n) + 1) if abs(100 * k / n - percent) <= half + 1e-9]


def percent_vs_count(pub) -> list[dict]:
    """Each percentage against its count and the cohort size (Methods, sessions, disease-control rate)."""
    findings = []
    for pct, counts in _percent_pairs(pub).items():
        if not _has(pub, pct, COHORT, *counts):
            continue
        k, n = int(sum(_v(pub, c) for c in counts)), int(_v(pub, COHORT))
        exact, half = 100 * k / n, _half(pub, pct)
        ok = abs(exact - _v(pub, pct)) <= half + 1e-9
        what = "+".join(str(int(_v(pub, c))) for c in counts) + f" = {k}" if len(counts) > 1 else str(k)
        reason = f"{what} of {n} patients is {exact:.2f}%, " + (
            f"which rounds to the printed {_p(pub, pct)}%" if ok else
            f"not the printed {_p(pub, pct)}%; "
            + (f"{' or '.join(map(str, _counts_giving(_v(pub, pct), half, n)))} patients would give it"
               if _counts_giving(_v(pub, pct), half, n) else f"no whole number of {n} patients gives it"))
        findings.append(_finding("percent_vs_count", [pct, *counts, COHORT], f"{_p(pub, pct)}%",
                                 f"{k}/{n} = {exact:.2f}%", ok, reason))
    return findings


def percent_integer_count(pub) -> list[dict]:
    """Each percentage printed without its count must be k/n for a whole number k (the toxicities)."""
    if not _has(pub, COHORT):
        return []
    n = int(_v(pub, COHORT))
    findings = []
    for pct in _ids_matching(pub, PERCENT_WITHOUT_COUNT):
        ks = _counts_giving(_v(pub, pct), _half(pub, pct), n)
        if ks:
            reason = f"{ks[0]} of {n} patients is {100 * ks[0] / n:.2f}%, which rounds to the printed {_p(pub, pct)}%"
            implied = " or ".join(f"{k}/{n}" for k in ks)
        else:
            below = math.floor(_v(pub, pct) * n / 100)
            reason = (f"no whole number of {n} patients gives {_p(pub, pct)}%: {below}/{n} is "
                      f"{100 * below / n:.2f}% and {below + 1}/{n} is {100 * (below + 1) / n:.2f}%")
            implied = "no whole count"
        findings.append(_finding("percent_integer_count", [pct, COHORT], f"{_p(pub, pct)}%", implied, bool(ks), reason))
    return findings


MEANS_OF_WHOLE_NUMBERS = {  # mean id -> id of the number of values averaged; the values are whole numbers
    "t1_age_mean": COHORT,      # Table 1 / Methods: age in whole years (its range is printed in whole years)
    "r_sessions_mean": COHORT,  # Results: average number of HAIC sessions per patient
}


def mean_integer_count(pub) -> list[dict]:
    """GRIM test: a mean of n whole numbers is (whole total) / n; is there a total that gives the printed mean?"""
    findings = []
    for mean_id, n_id in MEANS_OF_WHOLE_NUMBERS.items():
        if not _has(pub, mean_id, n_id):
            continue
        m, half, n = _v(pub, mean_id), _half(pub, mean_id), int(_v(pub, n_id))
        totals = list(range(math.ceil((m - half) * n - 1e-9), math.floor((m + half) * n + 1e-9) + 1))
        if totals:
            implied = f"totals {totals[0]}-{totals[-1]}" if len(totals) > 1 else f"total {totals[0]}"
            reason = (f"a mean of {n} whole numbers printed as {_p(pub, mean_id)} needs a total between "
                      f"{(m - half) * n:.2f} and {(m + half) * n:.2f}: {implied.replace('totals', 'the totals')} "
                      f"fit ({totals[0]}/{n} = {totals[0] / n:.3f})")
        else:
            implied = "no whole total"
            reason = (f"a mean of {n} whole numbers is a multiple of 1/{n}; none rounds to {_p(pub, mean_id)} "
                      f"(the total would have to lie between {(m - half) * n:.2f} and {(m + half) * n:.2f})")
        findings.append(_finding("mean_integer_count", [mean_id, n_id], _p(pub, mean_id), implied, bool(totals), reason))
    return findings


# --- counts against the totals they break down ------------------------------

VARIABLES = {  # variable token of the ids -> (the variable in words, its unit); `paper.describe` reads ids with it
    "sex": ("sex", ""), "age": ("age", "years"), "etiology": ("etiology", ""), "tnm": ("TNM stage", ""),
    "bclc": ("BCLC stage", ""), "ps": ("performance status", ""), "init": ("initial treatment", ""),
    "cp": ("Child-Pugh grade", ""), "alt": ("ALT", "U/L"), "ast": ("AST", "U/L"),
    "tbil": ("total bilirubin", "mg/dL"), "pt": ("prothrombin activity", "%"), "alb": ("albumin", "g/dL"),
    "plt": ("platelet count", "×10⁴/µL"), "afp": ("AFP", "ng/mL"), "dcp": ("DCP", "mAU/mL"),
    "ascites": ("ascites", ""), "pvtt": ("portal vein tumour thrombosis", ""),
    "distribution": ("tumour distribution", ""), "tumor_count": ("tumour count", ""),
    "tumor_size": ("maximum tumour size", ""), "sorafenib": ("sorafenib", "")}
TABLE1_ROWS = {  # Table 1 rows whose counts break down the whole cohort: variable -> levels (ids t1_<var>_<level>)
    "sex": ["male", "female"], "etiology": ["hbv", "hcv", "alcohol", "other"], "tnm": ["ii", "iii", "iva", "ivb"],
    "bclc": ["b", "c"], "ps": ["0", "1_2"], "init": ["resection", "rfa_pei", "tace", "tace_rfa", "none"],
    "cp": ["a", "b"], "ascites": ["yes", "no"], "pvtt": ["yes", "no"], "distribution": ["unilateral", "bilateral"],
    "tumor_count": ["lt4", "ge4"], "tumor_size": ["lt50", "ge50"]}
BREAKDOWNS = [  # (total id, part ids, where the paper prints them)
    *[(COHORT, [f"t1_{var}_{lev}" for lev in levels], f"Table 1, {VARIABLES[var][0]}")
      for var, levels in TABLE1_ROWS.items()],
    (COHORT, ["flow_n_disease_control", "r_response_pd", "r_response_ne"],
     "Figure 1: disease control + progressive disease + not evaluated"),
    ("flow_n_disease_control", ["r_response_cr", "r_response_pr", "r_response_sd"],
     "Results: the disease-control group (CR+PR+SD)"),
    ("r_response_pd", ["flow_n_cp_excluded", "flow_n_spp"], "Figure 1 and Results: PD = excluded for Child-Pugh + SPP cohort"),
    ("flow_n_spp", ["flow_n_sorafenib", "flow_n_other"], "Figure 1 and Results: sorafenib + other salvage options"),
    ("flow_n_other", ["flow_n_other_haic", "flow_n_other_uft", "flow_n_other_bsc"],
     "Results: continuous HAIC + tegafur-uracil + best supportive care"),
    ("flow_n_other_bsc", ["flow_n_bsc_before_2009", "flow_n_bsc_from_2009"], "Results: BSC before + after sorafenib's approval"),
]
SESSION_COUNT = r"r_sessions_(\d+)_n"


def _breakdowns(pub) -> list:
    sessions = sorted(_ids_matching(pub, SESSION_COUNT), key=lambda i: int(i.split("_")[2]))
    return BREAKDOWNS + ([(COHORT, sessions, "Results: patients by number of HAIC sessions")] if sessions else [])


def breakdown_vs_total(pub) -> list[dict]:
    """Counts against the total they break down (Table 1 rows, Figure 1 boxes, responses, sessions)."""
    findings = []
    for total, parts, where in _breakdowns(pub):
        if not _has(pub, total, *parts):
            continue
        values = [int(_v(pub, i)) for i in parts]
        t = int(_v(pub, total))
        ok = sum(values) == t
        printed = " + ".join(map(str, values))
        reason = (f"{where}: {printed} = {sum(values)}" + (f", the printed total" if ok else
                  f", but the printed total is {t}; the parts are kept, so the total cannot be matched"))
        findings.append(_finding("breakdown_vs_total", [total, *parts], printed, f"{total}={t}", ok, reason))
    return findings


COUNTS_ABOVE = {  # count id -> (stem of its median/min/max ids, threshold, printed label)
    "t1_afp_gt500": ("t1_afp", 500, "Table 1: AFP >500 ng/mL (n)"),
    "t1_dcp_gt500": ("t1_dcp", 500, "Table 1: DCP >500 mAU/mL (n)"),
}


def count_above_vs_median(pub) -> list[dict]:
    """A count above a threshold against the median and range of the same variable.

    If the median exceeds the threshold, at least half of the n patients (ceil(n/2))
    do; if it does not, at most floor(n/2) do."""
    findings = []
    for count_id, (stem, threshold, label) in COUNTS_ABOVE.items():
        ids = [count_id, f"{stem}_median", f"{stem}_min", f"{stem}_max", COHORT]
        if not _has(pub, *ids):
            continue
        n, k, med = int(_v(pub, COHORT)), int(_v(pub, count_id)), _v(pub, f"{stem}_median")
        lo = math.ceil(n / 2) if med > threshold else 0
        hi = n - math.ceil(n / 2) if med <= threshold else n
        lo = max(lo, 1 if _v(pub, f"{stem}_max") > threshold else 0)
        hi = min(hi, n - 1 if _v(pub, f"{stem}_min") <= threshold else n)
        ok = lo <= k <= hi
        reason = (f"{label}: the median {_p(pub, f'{stem}_median')} is {'above' if med > threshold else 'not above'} "
                  f"{threshold} and the range is {_p(pub, f'{stem}_min')}-{_p(pub, f'{stem}_max')}, so between {lo} "
                  f"and {hi} of {n} patients lie above {threshold}; {k} {'does' if ok else 'does not'} fit")
        findings.append(_finding("count_above_vs_median", ids, str(k), f"{lo}-{hi}", ok, reason))
    return findings


SUMMARY = r"(t[12]_\w+?)_(median|mean)(_sor|_oth)?"  # medians and means printed with a range


def summary_within_range(pub) -> list[dict]:
    """Each printed median or mean lies within its printed range (min <= summary <= max)."""
    findings = []
    for sid in pub.index:
        m = re.fullmatch(SUMMARY, sid)
        if not m:
            continue
        stem, stat, group = m.group(1), m.group(2), m.group(3) or ""
        lo_id, hi_id = f"{stem}_min{group}", f"{stem}_max{group}"
        if not _has(pub, lo_id, hi_id):
            continue
        lo, x, hi = _v(pub, lo_id), _v(pub, sid), _v(pub, hi_id)
        ok = lo <= x <= hi
        findings.append(_finding(
            "summary_within_range", [sid, lo_id, hi_id], f"{stat} {_p(pub, sid)}",
            f"range {_p(pub, lo_id)}-{_p(pub, hi_id)}", ok,
            f"the {stat} {_p(pub, sid)} {'lies' if ok else 'does not lie'} within the printed range "
            f"{_p(pub, lo_id)}-{_p(pub, hi_id)}"))
    return findings


# --- Figure 1: salvage options by era against the totals in the text --------

def flow_era_totals(pub) -> list[dict]:
    """Figure 1 era boxes against the per-option totals of the Results text."""
    findings = []
    for opt in ("haic", "uft", "bsc"):
        early = f"flow_n_{opt}_2005_2008"
        late = f"flow_n_{opt}_from_2009" + ("_fig" if opt == "bsc" else "")
        total = f"flow_n_other_{opt}"
        if not _has(pub, early, late, total):
            continue
        a, b, t = (int(_v(pub, i)) for i in (early, late, total))
        if a + b == t:
            findings.append(_finding("flow_eras_vs_text", [early, late, total], f"{a} + {b}", f"{t}", True,
                                     f"the two era boxes of Figure 1 add up to {t}, the total the text gives"))
            continue
        # the text states that HAIC and tegafur-uracil were mainly used before sorafenib's approval,
        # so the early-era box is kept and the later one corrected to the text's total
        fixed = t - a
        findings.append(_finding(
            "flow_eras_vs_text", [early, late, total], f"{early}={a}, {late}={b}",
            f"{total}={t} implies {late}={fixed}", False,
            f"the two era boxes add up to {a + b}, the text gives {t} in all; the text says this option was "
            f"mainly used before sorafenib's approval, so the 2005-2008 box is kept and the later one is {fixed}",
            f"{late}={fixed}"))
    return findings


# --- Results: sessions -----------------------------------------------------

def _session_counts(pub) -> dict:
    return {int(i.split("_")[2]): int(_v(pub, i)) for i in _ids_matching(pub, SESSION_COUNT)}


def sessions_total(pub) -> list[dict]:
    """Printed total and mean of sessions against the printed distribution."""
    counts = _session_counts(pub)
    if not counts or not _has(pub, "r_sessions_total", "r_sessions_mean"):
        return []
    k = sorted(counts)
    total = sum(s * c for s, c in counts.items())
    n = sum(counts.values())
    findings = []
    printed_total = int(_v(pub, "r_sessions_total"))
    terms = " + ".join(f"{s}x{counts[s]}" for s in k)
    reason = (f"sessions x patients: {terms} = {total}, the printed total" if total == printed_total else
              f"the printed distribution (patients per number of sessions) adds up to {total} sessions "
              f"({terms}), not {printed_total}; the percentages agree with the counts, so the distribution is kept")
    findings.append(_finding("sessions_total_vs_distribution", ["r_sessions_total"] + [f"r_sessions_{s}_n" for s in k],
                             str(printed_total), str(total), total == printed_total, reason))
    mean = total / n
    printed_mean = _p(pub, "r_sessions_mean")
    ok = format_number(mean, int(pub.loc["r_sessions_mean", "decimals"])) == printed_mean
    findings.append(_finding("sessions_mean_vs_distribution", ["r_sessions_mean"], printed_mean, f"{mean:.2f}", ok,
                             f"the distribution gives {total}/{n} = {mean:.2f} sessions per patient, "
                             + ("which rounds to the printed mean" if ok else
                                "not the printed mean; the printed mean matches the printed total instead")))
    return findings


def sessions_range(pub) -> list[dict]:
    """Printed range of sessions against the smallest and largest numbers of sessions in the distribution."""
    counts = {s: c for s, c in _session_counts(pub).items() if c > 0}
    if not counts or not _has(pub, "r_sessions_min", "r_sessions_max"):
        return []
    lo, hi = int(_v(pub, "r_sessions_min")), int(_v(pub, "r_sessions_max"))
    ok = (lo, hi) == (min(counts), max(counts))
    return [_finding("sessions_range_vs_distribution", ["r_sessions_min", "r_sessions_max"], f"{lo}-{hi}",
                     f"{min(counts)}-{max(counts)}", ok,
                     f"the distribution has patients with {min(counts)} to {max(counts)} sessions; the printed range "
                     f"is {lo}-{hi}")]
