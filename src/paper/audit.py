"""Audit of the paper's printed numbers: which of them contradict each other.

Every check takes the table of published numbers (`data/published_results.csv`,
read with `published_by_id`) and returns findings, one dict each:

- `check`: the name of the check (the function that made it is listed in `CHECKS`);
- `ids`: the ids of `published_results.csv` involved, joined by ';' (or, for a
  check of words rather than numbers, the places in the paper);
- `printed`: what the paper prints; `implied`: what the other printed numbers imply;
- `correction`: the smallest numeric correction that makes them agree, as
  `id=value, id=value`, when the reconstruction can follow it (else empty);
- `consistent`: True when the printed numbers agree;
- `reason`: one sentence a reader can verify by hand.

A check that does not find its ids in the table (another paper, a small test
table) gives no finding. The printed labels, units and the directions the text
gives to the hazard ratios are small data in this module (`HR_LABELS`,
`TIME_AXES`, `CHILD_PUGH_STATEMENTS`, `PRINTED_UNITS`, ...), each with its source.

The reconstruction follows the best-supported reading (`best_reading`: the
numeric corrections) and the scorecard marks the ids of `unreproducible` as
"not reproducible", with the reason. Findings about labels, units, directions,
claims of the text and plausibility never make a number unreproducible.
"""
from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pandas as pd
from scipy import stats

from src.stats.faststats import Z975
from src.cohort import child_pugh_class
from src.config import read_published_results
from src.formats import format_number
from src.study import DAYS_PER_MONTH, RESPONSE_ASSESSMENT_DAYS, TABLE2_LEVEL_IDS
from src.stats.survival import categorical_p

ALPHA = 0.05          # Methods: "Variables that reached a P value of <0.05 in a univariate analysis ..."
COHORT = "flow_n_total"  # the id of the number of patients (the denominator of the cohort's percentages)


# --- reading the published numbers ------------------------------------------

def published_by_id(path=None) -> pd.DataFrame:
    """The published numbers, indexed by id, `value` as float and as printed (`printed`)."""
    df = read_published_results(path)
    df["printed"] = df["value"]
    df["value"] = df["value"].astype(float)
    return df.set_index("id")


def empty_published() -> pd.DataFrame:
    """A table of published numbers with no rows (for a data folder without published results)."""
    cols = ["value", "decimals", "relation", "statistic", "source", "notebook", "printed"]
    return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))


def _has(pub, *ids) -> bool:
    return all(i in pub.index for i in ids)


def _v(pub, key) -> float:
    return float(pub.loc[key, "value"])


def _p(pub, key) -> str:
    return str(pub.loc[key, "printed"])


def _half(pub, key) -> float:
    """Half a rounding unit of a printed number (0.05 for one decimal, 5 for 'about 80')."""
    return 0.5 * 10.0 ** -int(pub.loc[key, "decimals"])


def _relation(pub, key) -> str:
    return str(pub.loc[key, "relation"]) if "relation" in pub.columns else "="


def _ids_matching(pub, pattern) -> list[str]:
    return [i for i in pub.index if re.fullmatch(pattern, i)]


def _finding(check, ids, printed, implied, consistent, reason, correction="") -> dict:
    return {"check": check, "ids": ";".join(ids), "printed": str(printed), "implied": str(implied),
            "correction": correction, "consistent": bool(consistent), "reason": reason}


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


# --- Table 2: two-by-two counts against their group size and printed p ------

TABLE2_CATEGORICAL = TABLE2_LEVEL_IDS  # key -> level tokens of the ids (from `study.TABLE2_ROWS`)
TABLE2_GROUPS = {"sor": "flow_n_sorafenib", "oth": "flow_n_other"}  # column of Table 2 -> id of its group size
TEST_NAMES = {"fisher": "Fisher's exact test", "chi2": "chi-square without correction",
              "chi2_yates": "chi-square with Yates' correction"}
TEST_SHORT = {"fisher": "Fisher", "chi2": "chi-square", "chi2_yates": "chi-square with Yates"}  # in `implied`


def fisher_p(table) -> float:
    """Two-sided Fisher exact p of a 2x2 table."""
    return categorical_p(table, "fisher")


def categorical_p_values(table) -> dict:
    """p of a 2x2 table under Fisher's exact test and chi-square with/without Yates."""
    return {test: categorical_p(table, test) for test in ("fisher", "chi2", "chi2_yates")}


def _table2_row(pub, var, levels):
    """ids, printed counts and the number missing per group of one Table 2 row (None if absent)."""
    ids = {(g, lev): f"t2_{var}_{lev}_{g}" for g in TABLE2_GROUPS for lev in levels}
    if not _has(pub, f"t2_{var}_p", *ids.values(), *TABLE2_GROUPS.values()):
        return None
    n = {g: int(_v(pub, i)) for g, i in TABLE2_GROUPS.items()}
    counts = {k: int(_v(pub, i)) for k, i in ids.items()}
    short = {g: n[g] - sum(counts[(g, lev)] for lev in levels) for g in n}
    return ids, counts, n, short


def _table(counts, levels):
    return [[counts[(g, lev)] for lev in levels] for g in TABLE2_GROUPS]


def _completions(counts, levels, short, p_printed) -> list[dict]:
    """Completions (one patient added per group short of one) whose Fisher p prints as `p_printed`."""
    options = []
    per_group = [[(g, lev) for lev in levels] if short[g] == 1 else [None] for g in TABLE2_GROUPS]
    for combo in itertools.product(*per_group):
        fixed = dict(counts)
        for key in filter(None, combo):
            fixed[key] += 1
        if format_number(fisher_p(_table(fixed, levels)), 3) == p_printed:
            options.append({k: fixed[k] for k in combo if k})
    return options


def table2_completions(pub) -> list[dict]:
    """For each Table 2 row whose counts do not add up to the group size, the
    completions (one added patient per short group) whose Fisher p, printed at
    3 decimals, equals the printed p."""
    findings = []
    for var, levels in TABLE2_CATEGORICAL.items():
        row = _table2_row(pub, var, levels)
        if row is None:
            continue
        ids, counts, n, short = row
        if not any(short.values()):
            continue
        p_printed = _p(pub, f"t2_{var}_p")
        options = _completions(counts, levels, short, p_printed)
        p_now = categorical_p_values(_table(counts, levels))
        printed = "; ".join(f"{ids[k]}={counts[k]}" for k in ids) + f"; p={p_printed}"
        implied = (f"rows sum to {', '.join(str(n[g] - short[g]) for g in n)} for groups of "
                   f"{', '.join(str(n[g]) for g in n)}; Fisher p of the printed counts {p_now['fisher']:.3f}")
        named = [{ids[k]: v for k, v in o.items()} for o in options]
        correction = " or ".join(", ".join(f"{k}={v}" for k, v in o.items()) for o in named) or "none found"
        reason = ("counts do not add up to the group size; "
                  + ("the completion reproducing the printed Fisher p is " + correction if len(options) == 1
                     else "no unique completion reproduces the printed p"))
        findings.append(_finding("table2_counts_vs_group_size", list(ids.values()) + [f"t2_{var}_p"],
                                 printed, implied, False, reason, correction if len(options) == 1 else ""))
    return findings


def table2_tests(pub) -> pd.DataFrame:
    """One row per Table 2 categorical row: printed p and the p of each test, on the
    printed counts and (rows short of patients) on the unique completion, if any."""
    rows = []
    for var, levels in TABLE2_CATEGORICAL.items():
        row = _table2_row(pub, var, levels)
        if row is None:
            continue
        ids, counts, n, short = row
        p_printed = _p(pub, f"t2_{var}_p")
        rows.append({"variable": var, "counts": "printed", "table": _table(counts, levels), "p_printed": p_printed,
                     **categorical_p_values(_table(counts, levels))})
        options = _completions(counts, levels, short, p_printed) if any(short.values()) else []
        if len(options) == 1:
            fixed = {**counts, **options[0]}
            rows.append({"variable": var, "counts": "completed", "table": _table(fixed, levels),
                         "p_printed": p_printed, **categorical_p_values(_table(fixed, levels))})
    return pd.DataFrame(rows, columns=["variable", "counts", "table", "p_printed", *TEST_NAMES])


def table2_p_vs_tests(pub) -> list[dict]:
    """Each Table 2 categorical p recomputed from the printed counts by Fisher's exact
    test and by chi-square with and without Yates' correction: which test reproduces it?"""
    tests = table2_tests(pub)
    findings = []
    for var, rows in tests.groupby("variable", sort=False):
        levels = TABLE2_CATEGORICAL[var]
        p_printed = rows["p_printed"].iloc[0]
        found, implied = [], []
        for r in rows.itertuples():
            shown = {t: format_number(getattr(r, t), 3) or "n/a" for t in TEST_NAMES}
            implied.append(f"{r.counts} counts {r.table}: " + ", ".join(f"{TEST_SHORT[t]} {v}" for t, v in shown.items()))
            found += [f"{TEST_NAMES[t]} on the {r.counts} counts" for t, v in shown.items() if v == p_printed]
        ids = [f"t2_{var}_p"] + [f"t2_{var}_{lev}_{g}" for g in TABLE2_GROUPS for lev in levels]
        reason = (f"p={p_printed} is reproduced by " + "; ".join(found) if found else
                  f"no test reproduces p={p_printed} from the printed counts"
                  + (" or from a completion" if len(rows) > 1 else ""))
        findings.append(_finding("table2_p_vs_tests", ids, f"p={p_printed}", "; ".join(implied), bool(found), reason))
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


def _cox_names(pub) -> list[str]:
    return sorted(i[len("t3_multi_hr_"):] for i in _ids_matching(pub, r"t3_multi_hr_\w+"))


def cox_consistency(pub) -> list[dict]:
    """Each multivariable HR against its CI (geometric mean) and the printed p against the CI."""
    findings = []
    for name in _cox_names(pub):
        ids = [f"t3_multi_{s}_{name}" for s in ("hr", "ci_low", "ci_high", "p")]
        if not _has(pub, *ids):
            continue
        hr, lo, hi, p = (_v(pub, i) for i in ids)
        gm = np.sqrt(lo * hi)
        ok = abs(gm - hr) <= 0.002
        findings.append(_finding(
            "cox_hr_vs_ci", ids[:3], f"HR {hr:.3f}", f"geometric mean of the CI {gm:.3f}", ok,
            f"a Wald CI is symmetric on the log scale, so the HR is sqrt({lo:.3f} x {hi:.3f}) = {gm:.3f}; "
            + ("the printed HR agrees" if ok else "the printed HR is not the geometric mean of its CI")))
        p_lo, p_hi = wald_p_range(hr, lo, hi)
        ok = p_lo - 0.0005 <= p < p_hi + 0.0005
        se = (np.log(hi) - np.log(lo)) / (2 * Z975)
        findings.append(_finding(
            "cox_p_vs_ci", ids, f"p={_p(pub, ids[3])}",
            f"Wald p implied by HR and CI {wald_p_from_ci(hr, lo, hi):.4f} (between {p_lo:.4f} and {p_hi:.4f} "
            "given their rounding)", ok,
            f"SE = (ln {hi:.3f} - ln {lo:.3f}) / (2 x 1.96) = {se:.3f}, z = ln {hr:.3f} / SE = {np.log(hr) / se:.2f}, "
            f"two-sided p = {wald_p_from_ci(hr, lo, hi):.4f}; "
            + ("the printed p agrees" if ok else
               "the printed p-value cannot come from a Wald test with this HR and 95% CI")))
    return findings


HR_LABELS = {  # Table 3 multivariable factors: the printed label, and the level the text says does better;
    # `shown`: the factor and direction this project reports (notebook 06: the printed HRs make sense as "second
    # level vs first"), `invert`: the printed HR is the inverse of that direction (sorafenib: printed as other
    # salvage vs sorafenib, reported as sorafenib vs other salvage, HR < 1 favouring sorafenib)
    "sorafenib": {
        "label": "Sorafenib (yes vs. no)", "compared": "yes", "reference": "no", "better": "yes",
        "source": "Table 3", "shown": "Sorafenib vs other salvage", "invert": True,
        "text": "Abstract and Results: sorafenib use had 'a superior statistical significance with regard to "
                "the SPP'; Results and Figure 2B: SPP significantly longer with sorafenib",
        "medians": ("spp_median_sor", "spp_median_oth")},  # median SPP of the compared / the reference level
    "ascites": {
        "label": "Ascites (yes vs. no)", "compared": "yes", "reference": "no", "better": "no",
        "source": "Table 3", "shown": "Ascites (no ascites vs ascites)", "invert": False,
        "text": "Abstract and Results: 'the absence of ascites (P=0.003)' had a superior statistical "
                "significance with regard to the SPP",
        "medians": None},
    "tbil": {
        "label": "Total bilirubin (<1.0 vs. >=1.0 mg/dL)", "compared": "<1.0 mg/dL", "reference": ">=1.0 mg/dL",
        "better": None, "source": "Table 3", "shown": "Total bilirubin (≥1.0 vs <1.0 mg/dL)", "invert": False,
        "text": "the text does not say which bilirubin level did better", "medians": None},
}


def cox_in_one_direction(pub, labels=None) -> pd.DataFrame:
    """Table 3's multivariable HRs in the direction this project reports (`HR_LABELS`: `shown`), one row per
    factor: `factor` (the direction in words), `hr`, `ci_low`, `ci_high` (inverted, limits swapped, where the
    paper printed the inverse: `inverted`), `printed_p` (unchanged by the inversion), `wald_p` (implied by HR
    and CI), `wald_p_low` and `wald_p_high` (its range given the printing's rounding), `printed_label`,
    `printed_hr`, `printed_ci_low`, `printed_ci_high` (as printed), `places` (where p is printed)."""
    rows = []
    known = list(HR_LABELS if labels is None else labels)
    for name in sorted(_cox_names(pub), key=lambda n: known.index(n) if n in known else len(known)):
        ids = [f"t3_multi_{s}_{name}" for s in ("hr", "ci_low", "ci_high", "p")]
        if not _has(pub, *ids):
            continue
        hr, lo, hi, p = (_v(pub, i) for i in ids)
        lab = (HR_LABELS if labels is None else labels).get(name, {})
        invert = bool(lab.get("invert", False))
        p_lo, p_hi = wald_p_range(hr, lo, hi)
        source = str(pub.loc[ids[3], "source"]) if "source" in pub.columns else ""
        rows.append({"key": name, "factor": lab.get("shown", name), "inverted": invert,
                     "hr": 1 / hr if invert else hr, "ci_low": 1 / hi if invert else lo,
                     "ci_high": 1 / lo if invert else hi, "printed_p": _p(pub, ids[3]),
                     "wald_p": wald_p_from_ci(hr, lo, hi), "wald_p_low": p_lo, "wald_p_high": p_hi,
                     "printed_label": lab.get("label", name), "printed_hr": _p(pub, ids[0]),
                     "printed_ci_low": _p(pub, ids[1]), "printed_ci_high": _p(pub, ids[2]),
                     "places": " and ".join(sorted(set(re.findall(r"Abstract|Table \d", source)))) or "Table 3"})
    return pd.DataFrame(rows, columns=["key", "factor", "inverted", "hr", "ci_low", "ci_high", "printed_p", "wald_p",
                                       "wald_p_low", "wald_p_high", "printed_label", "printed_hr", "printed_ci_low",
                                       "printed_ci_high", "places"])


def cox_p_misfits(pub) -> pd.DataFrame:
    """The rows of `cox_in_one_direction` whose printed p is not the Wald p of the printed HR and CI (given
    their rounding), as `cox_consistency` judges them."""
    cox = cox_in_one_direction(pub)
    bad = [(p := float(r.printed_p)) < r.wald_p_low - 0.0005 or p >= r.wald_p_high + 0.0005
           for r in cox.itertuples()]
    return cox[bad].reset_index(drop=True) if len(cox) else cox


def cox_p_sentence(pub) -> str:
    """One sentence on the printed Cox p-values that do not fit their HR and CI, from the printed numbers:
    "The multivariable Cox p-values of the Abstract and Table 3 (sorafenib 0.010, ascites 0.003) do not fit the printed
    hazard ratios and 95% confidence intervals, which imply p of about 0.025 and 0.013 (Wald test)"; "" if
    all fit."""
    bad = cox_p_misfits(pub)
    if bad.empty:
        return ""
    names = [HR_LABELS.get(k, {}).get("label", k).split(" (")[0].lower() for k in bad["key"]]
    places = " and ".join(sorted(set(" and ".join(bad["places"]).split(" and "))))
    printed = ", ".join(f"{n} {p}" for n, p in zip(names, bad["printed_p"]))
    implied = " and ".join(f"{p:.3f}" for p in bad["wald_p"])
    one = len(bad) == 1
    return (f"The multivariable Cox p-value{'' if one else 's'} of the {places} ({printed}) do{'es' if one else ''} not fit "
            f"the printed hazard ratio{'' if one else 's'} and 95% confidence interval{'' if one else 's'}, which "
            f"imply p of about {implied} (Wald test)")


def hr_direction_vs_text(pub, labels=None) -> list[dict]:
    """The direction of each hazard ratio against what the text says the factor does.

    A hazard ratio 'A vs. B' is the hazard of A divided by that of B: below 1 when A
    does better. If the text says the compared level does better, the HR must be
    below 1; if it says the reference level does better, above 1."""
    findings = []
    for name, lab in (HR_LABELS if labels is None else labels).items():
        ids = [f"t3_multi_{s}_{name}" for s in ("hr", "ci_low", "ci_high")]
        if not _has(pub, *ids):
            continue
        hr, lo, hi = (_v(pub, i) for i in ids)
        label, a, b = lab["label"], lab["compared"], lab["reference"]
        medians = lab.get("medians")
        if medians and _has(pub, *medians):
            ids += list(medians)
        if lab["better"] is None:
            findings.append(_finding(
                "hr_direction_vs_text", ids, f"{lab['source']}: {label}, HR {hr:.3f}", "no direction stated in the text", True,
                f"{lab['text']}, so the direction of '{label}' cannot be checked; if the table's HRs are all "
                f"'{b} vs. {a}' like the factors whose direction the text gives, the HR of '{b} vs. {a}' is {hr:.3f}"))
            continue
        expect_below = lab["better"] == a
        ok = (hr < 1) == expect_below
        extra = ""
        if medians and _has(pub, *medians):
            m_a, m_b = _v(pub, medians[0]), _v(pub, medians[1])
            extra = (f"; the printed medians ({a} {_p(pub, medians[0])} vs. {b} {_p(pub, medians[1])} months) "
                     f"also say that {a if m_a > m_b else b} does better")
        if ok:
            reason = (f"{lab['text']}: '{lab['better']}' does better, so the HR of '{label}' must be "
                      f"{'below' if expect_below else 'above'} 1, and it is {hr:.3f}{extra}")
            implied = f"HR {'<' if expect_below else '>'} 1"
        else:
            reason = (f"{lab['text']}: '{lab['better']}' does better, so the HR of '{label}' must be "
                      f"{'below' if expect_below else 'above'} 1, but it is {hr:.3f}{extra}; the printed HR only "
                      f"makes sense as '{b} vs. {a}' (as '{a} vs. {b}' it would be {1 / hr:.3f}, "
                      f"95% CI {1 / hi:.3f}-{1 / lo:.3f}; the p-value does not change)")
            implied = f"HR {'<' if expect_below else '>'} 1 for '{a} vs. {b}'; label should read '{b} vs. {a}'"
        findings.append(_finding("hr_direction_vs_text", ids, f"{lab['source']}: {label}, HR {hr:.3f}", implied, ok, reason))
    return findings


# --- survival: medians against landmarks and against each other -------------

SURVIVAL_LANDMARKS = {"os_median_all": r"os_(\d+)y_pct"}  # median id -> landmark survival ids (years)
GROUP_MEDIANS = {"os_median_dc": "flow_n_disease_control", "os_median_pd": "r_response_pd"}  # median -> group size


def _landmarks(pub, pattern) -> list[tuple[str, float]]:
    ids = _ids_matching(pub, pattern)
    return sorted(((i, 12.0 * int(re.fullmatch(pattern, i).group(1))) for i in ids), key=lambda x: x[1])


def median_vs_landmark(pub) -> list[dict]:
    """Kaplan-Meier median against landmark survival: the median is the first time the
    curve reaches 50%, so survival is at most 50% after it and above 50% before it."""
    findings = []
    for median_id, pattern in SURVIVAL_LANDMARKS.items():
        if not _has(pub, median_id):
            continue
        m = _v(pub, median_id)
        for pct_id, t in _landmarks(pub, pattern):
            s, half = _v(pub, pct_id), _half(pub, pct_id)
            if m < t:
                ok, need = s - half <= 50, "at most 50%"
            elif m > t:
                ok, need = s + half >= 50, "above 50%"
            else:
                continue
            findings.append(_finding(
                "median_vs_landmark", [pct_id, median_id], f"{_p(pub, pct_id)}% at {t:g} months",
                f"{need} (median {_p(pub, median_id)} months)", ok,
                f"the median {_p(pub, median_id)} months is {'before' if m < t else 'after'} {t:g} months, so "
                f"survival at {t:g} months must be {need}; the printed {_p(pub, pct_id)}% "
                f"{'agrees' if ok else 'does not'}"))
    return findings


def landmarks_decreasing(pub) -> list[dict]:
    """Landmark survival percentages cannot increase with time."""
    findings = []
    for median_id, pattern in SURVIVAL_LANDMARKS.items():
        marks = _landmarks(pub, pattern)
        if len(marks) < 2:
            continue
        values = [_v(pub, i) for i, _ in marks]
        ok = all(a >= b for a, b in zip(values, values[1:]))
        printed = " >= ".join(f"{_p(pub, i)}% ({t:g} mo)" for i, t in marks)
        findings.append(_finding("landmarks_decreasing", [i for i, _ in marks], printed, "non-increasing", ok,
                                 "a survival curve never goes up: " + printed
                                 + (" holds" if ok else " does not hold")))
    return findings


def landmark_vs_group_medians(pub) -> list[dict]:
    """Plausibility: overall landmark survival against the medians of the response groups.

    A group whose median is beyond the landmark has more than half its patients alive
    there, a group whose median is before it at most half; groups without a median (not
    evaluated) may have all or none alive. Exact without censoring before the landmark,
    approximate otherwise."""
    findings = []
    groups = {m: n for m, n in GROUP_MEDIANS.items() if _has(pub, m, n)}
    if not groups or not _has(pub, COHORT):
        return findings
    total = _v(pub, COHORT)
    for median_id, pattern in SURVIVAL_LANDMARKS.items():
        for pct_id, t in _landmarks(pub, pattern):
            above = sum(_v(pub, n) for m, n in groups.items() if _v(pub, m) > t)
            below = sum(_v(pub, n) for m, n in groups.items() if _v(pub, m) < t)
            lo, hi = 100 * above / 2 / total, 100 * (total - below / 2) / total
            s, half = _v(pub, pct_id), _half(pub, pct_id)
            ok = lo <= s + half and s - half <= hi
            findings.append(_finding(
                "landmark_vs_group_medians", [pct_id, *groups, *groups.values(), COHORT],
                f"{_p(pub, pct_id)}% at {t:g} months", f"{lo:.1f}%-{hi:.1f}%", ok,
                f"groups with a median beyond {t:g} months ({above:.0f} patients) keep more than half alive and "
                f"groups with a median before it ({below:.0f} patients) at most half, so of {total:.0f} patients "
                f"between {lo:.1f}% and {hi:.1f}% survive {t:g} months (ignoring censoring); the printed "
                f"{_p(pub, pct_id)}% {'fits' if ok else 'does not fit'}"))
    return findings


SPP_OVER_OS = ("spp_over_os_median_sor_pct", "spp_median_sor")  # Discussion: "about 80%", sorafenib group
FIRST_ASSESSMENT_WEEKS = RESPONSE_ASSESSMENT_DAYS // 7  # Methods: response assessed "at 4 weeks after each HAIC session"


def spp_over_os_ratio(pub) -> list[dict]:
    """Plausibility of 'median SPP is about X% of median OS' (sorafenib group).

    With the printed median SPP and X known to its rounding, the implied median OS is
    SPP / X and median OS minus median SPP (the paper's own definition of what precedes
    progression) must be at least the time to the first response assessment."""
    ratio_id, spp_id = SPP_OVER_OS
    if not _has(pub, ratio_id, spp_id):
        return []
    r, half, spp = _v(pub, ratio_id), _half(pub, ratio_id), _v(pub, spp_id)
    r_lo, r_hi = max(r - half, 1e-9), min(r + half, 100)
    os_lo, os_hi = spp / (r_hi / 100), spp / (r_lo / 100)
    before_lo, before_hi = os_lo - spp, os_hi - spp
    first = FIRST_ASSESSMENT_WEEKS * 7 / DAYS_PER_MONTH
    ok = r - half <= 100 and before_hi >= first
    return [_finding(
        "spp_over_os_ratio", [ratio_id, spp_id], f"median SPP about {_p(pub, ratio_id)}% of median OS",
        f"median OS {os_lo:.1f}-{os_hi:.1f} months; OS minus SPP {before_lo:.1f}-{before_hi:.1f} months", ok,
        f"a median SPP of {_p(pub, spp_id)} months that is {r - half:g}-{min(r + half, 100):g}% of the median OS "
        f"means a median OS of {os_lo:.1f}-{os_hi:.1f} months, so progression came about {before_lo:.1f}-"
        f"{before_hi:.1f} months after the first HAIC; the first assessment was {FIRST_ASSESSMENT_WEEKS} weeks "
        f"({first:.1f} months) after the first session, so this is {'plausible' if ok else 'not possible'}")]


SPP_GROUPS = {"spp_median_sor": "flow_n_sorafenib", "spp_median_oth": "flow_n_other"}  # median SPP -> group size
OS_OF_PROGRESSORS = ("os_median_pd", "r_response_pd")  # median OS and size of the group that contains them


def spp_median_vs_os_median(pub) -> list[dict]:
    """Each group's median SPP against the median OS of the patients who progressed.

    OS = time to progression + SPP, so a patient alive t months after progression is
    alive t months after the first HAIC. A group whose median SPP exceeds the progressors'
    median OS m keeps more than half its patients (floor(n/2)+1) alive at m, and at most
    floor(N/2) of the N progressors are alive at m (exact without censoring)."""
    os_id, n_id = OS_OF_PROGRESSORS
    groups = {m: n for m, n in SPP_GROUPS.items() if _has(pub, m, n)}
    if not groups or not _has(pub, os_id, n_id):
        return []
    m, big_n = _v(pub, os_id), int(_v(pub, n_id))
    need = sum(int(_v(pub, n)) // 2 + 1 for g, n in groups.items() if _v(pub, g) > m)
    allowed = big_n // 2
    ok = need <= allowed
    beyond = [f"{g} ({_p(pub, g)} months, n={int(_v(pub, n))})" for g, n in groups.items() if _v(pub, g) > m]
    return [_finding(
        "spp_median_vs_os_median", [*groups, *groups.values(), os_id, n_id],
        "; ".join(f"{g}={_p(pub, g)}" for g in groups) + f"; {os_id}={_p(pub, os_id)}",
        f"at least {need} alive at {_p(pub, os_id)} months, at most {allowed} allowed", ok,
        (f"median SPP beyond the progressors' median OS of {_p(pub, os_id)} months: {', '.join(beyond)}; "
         if beyond else f"no group's median SPP exceeds the progressors' median OS of {_p(pub, os_id)} months; ")
        + f"at least {need} patients must then be alive at {_p(pub, os_id)} months after the first HAIC, and at most "
          f"{allowed} of the {big_n} progressors can be (ignoring censoring): "
        + ("possible" if ok else "impossible"))]


# --- the same statement in several places; claims of the text ----------------

SAME_NUMBER = [  # (what, {place in the paper: id}); one id for several places means the paper prints one value
    ("log-rank p of SPP, sorafenib vs other options",
     {"Abstract": "spp_logrank_p", "Results": "spp_logrank_p", "Figure 2B": "spp_logrank_p",
      "Table 3 (univariate, sorafenib)": "spp_logrank_p"}),
    ("log-rank p of OS of the SPP cohort", {"Results": "os38_logrank_p", "Figure 2A": "os38_logrank_p"}),
    ("multivariate p of sorafenib", {"Abstract": "t3_multi_p_sorafenib", "Table 3": "t3_multi_p_sorafenib"}),
    ("multivariate p of ascites", {"Abstract": "t3_multi_p_ascites", "Table 3": "t3_multi_p_ascites"}),
    ("best supportive care before sorafenib", {"Results": "flow_n_bsc_before_2009", "Figure 1": "flow_n_bsc_2005_2008"}),
    ("best supportive care after sorafenib", {"Results": "flow_n_bsc_from_2009", "Figure 1": "flow_n_bsc_from_2009_fig"}),
]


def same_number_in_several_places(pub, statements=None) -> list[dict]:
    """Numbers the paper states in several places (text, tables, figures) must agree."""
    findings = []
    for what, places in (SAME_NUMBER if statements is None else statements):
        ids = list(dict.fromkeys(places.values()))
        if not _has(pub, *ids):
            continue
        values = {place: _p(pub, i) for place, i in places.items()}
        ok = len(set(values.values())) == 1
        printed = "; ".join(f"{place}: {v}" for place, v in values.items())
        reason = (f"{what}: " + (f"the paper prints {next(iter(values.values()))} in each place"
                                 + (" (the list of published numbers holds it once)" if len(ids) == 1 else "")
                                 if ok else f"the places disagree ({printed})"))
        findings.append(_finding("same_number_in_several_places", ids, printed, "one value", ok, reason))
    return findings


SIGNIFICANCE_CLAIMS = [  # (ids or a regex of ids, the text says significant?, where and what the text says)
    (["spp_logrank_p"], True, "Abstract, Results, Figure 2B: SPP 'significantly longer' with sorafenib"),
    (["os38_logrank_p"], False, "Results, Figure 2A: OS with sorafenib 'tended to be longer ... not statistically significant'"),
    (["os_logrank_p_dc_vs_pd"], True, "Results: OS of disease control vs PD 'significantly different'"),
    (["t3_multi_p_sorafenib", "t3_multi_p_ascites"], True,
     "Abstract, Results: sorafenib and absence of ascites 'superior statistical significance'"),
    (r"t2_\w+_p", False, "Results: 'No significant differences were observed between the two groups' (Table 2)"),
]


def significance_vs_text(pub, claims=None) -> list[dict]:
    """What the text calls significant (or not) against the printed p and the level ALPHA."""
    findings = []
    for ids, significant, text in (SIGNIFICANCE_CLAIMS if claims is None else claims):
        ids = _ids_matching(pub, ids) if isinstance(ids, str) else ids
        if not ids or not _has(pub, *ids):
            continue
        below = {i: _v(pub, i) < ALPHA or (_relation(pub, i) == "<" and _v(pub, i) <= ALPHA) for i in ids}
        ok = all(below.values()) if significant else not any(below.values())
        shown = ", ".join(("<" if _relation(pub, i) == "<" else "") + _p(pub, i) for i in ids)
        wrong = [i for i, b in below.items() if b != significant]
        findings.append(_finding(
            "significance_vs_text", ids, f"p = {shown}", f"{'all' if significant else 'none'} below {ALPHA}", ok,
            f"{text}; " + (f"{'every' if len(ids) > 1 else 'the'} p is {'below' if significant else 'at least'} {ALPHA}"
                           if ok else f"but {', '.join(wrong)} {'is not' if significant else 'is'} below {ALPHA}")))
    return findings


UNIVARIATE_P = r"t3_uni_p_(\w+)"
UNIVARIATE_P_ELSEWHERE = {"sorafenib": "spp_logrank_p"}  # Table 3's univariate p of sorafenib is the Figure 2B log-rank p


def multivariate_entry_rule(pub) -> list[dict]:
    """Methods: variables with univariate p < ALPHA entered the multivariate model; are
    the factors of the model exactly those?"""
    uni = {re.fullmatch(UNIVARIATE_P, i).group(1): i for i in _ids_matching(pub, UNIVARIATE_P)}
    uni.update({k: v for k, v in UNIVARIATE_P_ELSEWHERE.items() if _has(pub, v)})
    multi = set(_cox_names(pub))
    if not uni or not multi:
        return []
    significant = {k for k, i in uni.items() if _v(pub, i) < ALPHA}
    ok = significant == multi
    shown = ", ".join(f"{k} {_p(pub, uni[k])}" for k in sorted(significant))
    reason = (f"univariate p < {ALPHA}: {shown or 'none'}; in the multivariate model: {', '.join(sorted(multi))}"
              + ("; they are the same factors, as the Methods state" if ok else
                 f"; they differ ({', '.join(sorted(significant ^ multi))}), against the Methods' rule"))
    return [_finding("multivariate_entry_rule", [*uni.values(), *(f"t3_multi_p_{m}" for m in sorted(multi))],
                     shown, ", ".join(sorted(multi)), ok, reason)]


# --- labels and units against the Methods -----------------------------------

TIME_AXES = {  # the x axis printed on each survival figure, and the time origin it names
    "Figure 2A": {"printed": "Months from the start of HAIC", "origin": "first HAIC session",
                  "endpoint": "overall survival"},
    "Figure 2B": {"printed": "Months from the start of HAIC", "origin": "first HAIC session",
                  "endpoint": "survival post-progression"},
}
ENDPOINT_ORIGINS = {  # endpoint -> (time origin, where the paper defines it)
    "overall survival": ("first HAIC session", "Methods (Statistical analysis) and Figure 2A legend: 'calculated from "
                         "the date of the first HAIC session with cisplatin powder'"),
    "survival post-progression": ("radiological progression", "Methods (Statistical analysis) and Figure 2B legend: "
                                  "'calculated from the date of the first sign of radiological progression'"),
}


def axis_label_vs_definition(pub, axes=None) -> list[dict]:
    """The time origin named on each survival figure's x axis against the endpoint's definition."""
    findings = []
    if pub.empty:  # no published numbers: nothing of this paper to check
        return findings
    for where, ax in (TIME_AXES if axes is None else axes).items():
        origin, source = ENDPOINT_ORIGINS[ax["endpoint"]]
        ok = ax["origin"] == origin
        findings.append(_finding(
            "axis_label_vs_definition", [f"{where} x axis", source.split(":")[0]], ax["printed"],
            f"time from the {origin}", ok,
            f"{where} plots {ax['endpoint']}, which {source} defines from the {origin}; its x axis "
            f"'{ax['printed']}' counts from the {ax['origin']}" + ("" if ok else
            f", so the label is wrong (the curves must be in months from the {origin})")))
    return findings


CHILD_PUGH_STATEMENTS = {  # how each place states who left the SPP analysis for liver function
    "Figure 1": {"printed": "Patients with Child-Pugh grade C after HAIC (N=3)", "excluded": ("grade", "C")},
    "Results": {"printed": "3 patients developed a Child-Pugh score 9 or more during HAIC treatment and were excluded",
                "excluded": ("score_at_least", 9)},
    "Abstract": {"printed": "the 38 PD patients who had a Child-Pugh score 8 or less during HAIC",
                 "excluded": ("score_at_least", 9)},
}
CHILD_PUGH_SCORES = range(5, 16)


def _excluded_scores(rule) -> set:
    kind, value = rule
    scores = pd.Series(list(CHILD_PUGH_SCORES))
    if kind == "grade":
        return set(scores[child_pugh_class(scores).eq(value)])
    return set(scores[scores >= value])


def child_pugh_label_vs_text(pub, statements=None) -> list[dict]:
    """The Child-Pugh exclusion of Figure 1 against the text (scores 7-9 are grade B, 10-15 grade C)."""
    if pub.empty:  # no published numbers: nothing of this paper to check
        return []
    statements = CHILD_PUGH_STATEMENTS if statements is None else statements
    sets = {where: _excluded_scores(s["excluded"]) for where, s in statements.items()}
    first, *others = sets
    ids = list(statements) + (["flow_n_cp_excluded"] if _has(pub, "flow_n_cp_excluded") else [])
    ok = all(sets[o] == sets[first] for o in others)
    show = {w: f"scores {min(s)}-{max(s)}" for w, s in sets.items()}
    differ = sorted(set.union(*sets.values()) - set.intersection(*sets.values()))
    grades = child_pugh_class(differ).tolist() if differ else []
    reason = ("; ".join(f"{w} ('{statements[w]['printed']}') excludes {show[w]}" for w in statements)
              + ("" if ok else f"; they disagree on score {', '.join(map(str, differ))} (grade "
                 f"{', '.join(dict.fromkeys(grades))}), so the two texts and the figure cannot all be right; "
                 "the text says it twice and the SPP cohort is defined by it, so scores of 9 or more are excluded"))
    return [_finding("child_pugh_label_vs_text", ids, "; ".join(f"{w}: {statements[w]['printed']}" for w in statements),
                     "; ".join(f"{w}: {show[w]}" for w in statements), ok, reason)]


PRINTED_UNITS = {  # platelet unit printed in each table (the superscript 4 of 10^4 is lost in the PDF text)
    "Table 1": {"printed": "Platelet count (10^4/L)", "unit": "10^4/L", "ids": ["t1_plt_median", "t1_plt_min", "t1_plt_max"]},
    "Table 2": {"printed": "Platelet count (x10^4/L)", "unit": "10^4/L",
                "ids": ["t2_plt_median_sor", "t2_plt_min_sor", "t2_plt_max_sor",
                        "t2_plt_median_oth", "t2_plt_min_oth", "t2_plt_max_oth"]},
    "Table 3": {"printed": "Platelet count (<12.5 x 10^4 vs. >=12.5 x 10^4/uL)", "unit": "10^4/uL", "ids": []},
}
PER_MICROLITRE = {"10^4/L": 1e4 / 1e6, "10^4/uL": 1e4}  # platelets per microlitre in one unit
PLATELETS_POSSIBLE = (5e3, 1.5e6)  # platelets per microlitre a living patient can have (normal 150,000-400,000)


def unit_vs_magnitude(pub, units=None) -> list[dict]:
    """Each printed platelet unit against the magnitude of the printed values: which unit makes them possible?"""
    findings = []
    for where, u in (PRINTED_UNITS if units is None else units).items():
        if not u["ids"] or not _has(pub, *u["ids"]):
            continue
        values = [_v(pub, i) for i in u["ids"]]
        fits = [unit for unit, f in PER_MICROLITRE.items()
                if all(PLATELETS_POSSIBLE[0] <= v * f <= PLATELETS_POSSIBLE[1] for v in values)]
        ok = u["unit"] in fits
        med = values[0] * PER_MICROLITRE[u["unit"]]
        reason = (f"{where} prints '{u['printed']}': its values ({min(values):g}-{max(values):g}) are "
                  f"{min(values) * PER_MICROLITRE[u['unit']]:,.4g}-{max(values) * PER_MICROLITRE[u['unit']]:,.4g} "
                  f"platelets per microlitre in that unit" + (
                      ", which is possible" if ok else
                      f", impossible for a living patient (about {PLATELETS_POSSIBLE[0]:,.0f}-"
                      f"{PLATELETS_POSSIBLE[1]:,.0f}/uL); in {' or '.join(fits) or 'no listed unit'} they are "
                      f"usual counts in cirrhosis, and Table 3 prints {PRINTED_UNITS['Table 3']['unit']}"))
        findings.append(_finding("unit_vs_magnitude", u["ids"], u["printed"],
                                 f"unit {' or '.join(fits) or 'none'}; median {med:,.4g}/uL as printed", ok, reason))
    return findings


# --- summary ---------------------------------------------------------------

CHECKS = (percent_vs_count, percent_integer_count, mean_integer_count, breakdown_vs_total, count_above_vs_median,
          summary_within_range, flow_era_totals, sessions_total, sessions_range, table2_completions,
          table2_p_vs_tests, cox_consistency, hr_direction_vs_text, median_vs_landmark, landmarks_decreasing,
          landmark_vs_group_medians, spp_over_os_ratio, spp_median_vs_os_median, same_number_in_several_places,
          significance_vs_text, multivariate_entry_rule, axis_label_vs_definition, child_pugh_label_vs_text,
          unit_vs_magnitude)

CHECK_GROUPS = {  # check -> the kind of check (used to group findings; only "numbers" can flag ids)
    "percent_vs_count": "numbers", "percent_integer_count": "numbers", "mean_integer_count": "numbers",
    "breakdown_vs_total": "numbers", "count_above_vs_median": "numbers", "summary_within_range": "numbers",
    "flow_eras_vs_text": "numbers", "sessions_total_vs_distribution": "numbers",
    "sessions_mean_vs_distribution": "numbers", "sessions_range_vs_distribution": "numbers",
    "table2_counts_vs_group_size": "numbers", "same_number_in_several_places": "numbers",
    "table2_p_vs_tests": "tests", "cox_hr_vs_ci": "tests", "cox_p_vs_ci": "tests",
    "hr_direction_vs_text": "directions", "significance_vs_text": "claims", "multivariate_entry_rule": "claims",
    "median_vs_landmark": "survival", "landmarks_decreasing": "survival", "landmark_vs_group_medians": "plausibility",
    "spp_over_os_ratio": "plausibility", "spp_median_vs_os_median": "plausibility",
    "axis_label_vs_definition": "labels", "child_pugh_label_vs_text": "labels", "unit_vs_magnitude": "labels",
}
CHECK_LABELS = {  # check -> what it checks, in words (figures, the summary table and the list of findings)
    "percent_vs_count": "Percentage vs its count",
    "percent_integer_count": "Percentage is a whole count of n",
    "mean_integer_count": "Mean is a whole total / n (GRIM)",
    "breakdown_vs_total": "Parts add up to their total",
    "count_above_vs_median": "Count above a cut-off vs median",
    "summary_within_range": "Median or mean within its range",
    "flow_eras_vs_text": "Figure 1 era boxes vs the text",
    "sessions_total_vs_distribution": "Total sessions vs distribution",
    "sessions_mean_vs_distribution": "Mean sessions vs distribution",
    "sessions_range_vs_distribution": "Range of sessions vs distribution",
    "table2_counts_vs_group_size": "Table 2 counts vs group size",
    "table2_p_vs_tests": "Table 2 p vs tests of its counts",
    "cox_hr_vs_ci": "Cox HR vs its 95% CI",
    "cox_p_vs_ci": "Cox p vs its 95% CI",
    "hr_direction_vs_text": "HR direction vs the text",
    "median_vs_landmark": "Median survival vs landmarks",
    "landmarks_decreasing": "Landmark survival never rises",
    "landmark_vs_group_medians": "Landmarks vs response groups",
    "spp_over_os_ratio": "SPP as a share of OS",
    "spp_median_vs_os_median": "Median SPP vs median OS",
    "same_number_in_several_places": "Same number, several places",
    "significance_vs_text": "'Significant' in the text vs p",
    "multivariate_entry_rule": "Entry rule of the Cox model",
    "axis_label_vs_definition": "Figure time axis vs definition",
    "child_pugh_label_vs_text": "Child-Pugh grade vs the text",
    "unit_vs_magnitude": "Platelet unit vs magnitude",
}


def check_label(check: str) -> str:
    """What `check` checks, in words (`CHECK_LABELS`; the check's name if it has none)."""
    return CHECK_LABELS.get(check, check)


FLAGGED_ID = {  # numeric checks whose failure, without a correction, leaves one id unmatched: its position in `ids`
    "cox_p_vs_ci": -1, "sessions_total_vs_distribution": 0, "sessions_mean_vs_distribution": 0,
    "percent_vs_count": 0, "percent_integer_count": 0, "mean_integer_count": 0, "breakdown_vs_total": 0,
    "count_above_vs_median": 0, "summary_within_range": 0, "sessions_range_vs_distribution": 0,
    "table2_p_vs_tests": 0, "median_vs_landmark": 0, "landmarks_decreasing": 0, "same_number_in_several_places": 0,
}


def run_audit(pub=None) -> pd.DataFrame:
    """All findings, one row per check and group of ids."""
    pub = published_by_id() if pub is None else pub
    columns = ["check", "ids", "printed", "implied", "correction", "consistent", "reason"]
    # `consistent` is boolean also without findings (an empty object column would make `findings[~...]` select columns)
    return pd.DataFrame([f for check in CHECKS for f in check(pub)], columns=columns).astype({"consistent": bool})


def write_audit(out_csv, pub=None) -> pd.DataFrame:
    """Write the findings of `run_audit(pub)` to `out_csv` and return them."""
    findings = run_audit(pub)
    findings.to_csv(out_csv, index=False, lineterminator="\n")
    return findings


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

    For a corrected count, the printed (uncorrected) value; for an inconsistent
    p-value, the p itself (the HR and CI are kept); for other numeric checks, the
    number derived from the others (`FLAGGED_ID`). Labels, units, directions,
    claims of the text and plausibility checks never flag a number.
    """
    out = {}
    for f in run_audit(pub).itertuples():
        if f.consistent:
            continue
        if f.correction:
            for part in f.correction.split(", "):
                out[part.split("=")[0]] = f.reason
        elif f.check in FLAGGED_ID:
            out.setdefault(f.ids.split(";")[FLAGGED_ID[f.check]], f.reason)
    return out


def summary_by_check(findings: pd.DataFrame) -> pd.DataFrame:
    """Number of findings and of inconsistent ones per check (with `what is checked`, in words), in the
    order of `CHECKS`."""
    order = list(dict.fromkeys(findings["check"]))
    out = (findings.assign(group=findings["check"].map(CHECK_GROUPS), inconsistent=~findings["consistent"])
           .groupby(["group", "check"], sort=False).agg(findings=("ids", "size"), inconsistent=("inconsistent", "sum")))
    out = out.reset_index().sort_values("check", key=lambda c: c.map(order.index)).reset_index(drop=True)
    out.insert(2, "what is checked", out["check"].map(check_label))
    return out


def findings_in(findings: pd.DataFrame, *names, only_inconsistent: bool = False) -> pd.DataFrame:
    """The findings of some groups (see `CHECK_GROUPS`) or checks, optionally only the inconsistent ones."""
    keep = findings["check"].isin(names) | findings["check"].map(CHECK_GROUPS).isin(names)
    out = findings[keep]
    return (out[~out["consistent"]] if only_inconsistent else out).reset_index(drop=True)


def reading_table(pub=None) -> pd.DataFrame:
    """Ids the reconstruction reads differently from the print: printed value, value
    followed (corrected, or left out of the calibration) and why."""
    pub = published_by_id() if pub is None else pub
    best, skip = best_reading(pub), unreproducible(pub)
    rows = [{"id": i, "printed": _p(pub, i) if i in pub.index else "",
             "followed": format_number(best[i], 0) if i in best else "not matched (left out of the calibration)",
             "reason": skip.get(i, "")} for i in dict.fromkeys([*best, *skip])]
    return pd.DataFrame(rows, columns=["id", "printed", "followed", "reason"])


def found_markdown(findings: pd.DataFrame, words=None) -> str:
    """A Markdown list: how many checks passed, then one bullet per inconsistent finding (what is checked, and
    its reason passed through `words`, e.g. `paper.in_words` to put the ids in words; without it, the ids
    involved are named)."""
    bad = findings[~findings["consistent"]]
    checks, n_bad = findings["check"].nunique(), len(bad)
    lines = [f"- {len(findings)} finding{'' if len(findings) == 1 else 's'} from {checks} check{'' if checks == 1 else 's'}; "
             f"{n_bad} inconsistent."]
    if words is None:
        lines += [f"- **{check_label(f.check)}** ({f.ids if len(f.ids) < 80 else f.ids.split(';')[0] + '; ...'}): {f.reason}."
                  for f in bad.itertuples()]
    else:
        lines += [f"- **{check_label(f.check)}**: {words(f.reason)}." for f in bad.itertuples()]
    return "\n".join(lines)


# --- plots -----------------------------------------------------------------

def plot_summary(findings: pd.DataFrame, ax=None, **kwargs):
    """Horizontal bars: consistent and inconsistent findings per check."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    s = summary_by_check(findings).iloc[::-1]
    ok = s["findings"] - s["inconsistent"]
    labels = s["what is checked"]
    ax.barh(labels, ok, color=kwargs.pop("color", "#4C72B0"), label="consistent", **kwargs)
    ax.barh(labels, s["inconsistent"], left=ok, color="#C44E52", label="inconsistent", **kwargs)
    ax.set_xlabel("Findings (number)")
    if len(s):
        ax.legend(loc="lower right", frameon=False)
    return ax


def plot_table2_tests(pub, ax=None, **kwargs):
    """Printed p of each Table 2 categorical row against the p of each test (printed and
    completed counts); points on the diagonal reproduce the print."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    tests = table2_tests(pub)
    markers = {"fisher": "o", "chi2": "s", "chi2_yates": "^"}
    for t, name in TEST_NAMES.items():
        for counts in ("printed", "completed"):
            d = tests[tests["counts"].eq(counts)]
            style = {"facecolors": "none", "edgecolors": f"C{list(TEST_NAMES).index(t)}"} if counts == "completed" else {}
            if len(d):
                ax.scatter(d["p_printed"].astype(float), d[t], marker=markers[t], color=f"C{list(TEST_NAMES).index(t)}",
                           label=f"{name} ({counts} counts)", **style, **kwargs)
    ax.plot([0, 1.02], [0, 1.02], color="grey", linewidth=0.8, linestyle="--")
    ax.set(xlabel="p printed in Table 2", ylabel="p recomputed from the counts", xlim=(0, 1.05), ylim=(0, 1.05))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    return ax


def plot_cox_p(pub, ax=None, **kwargs):
    """Printed multivariable p against the Wald p implied by HR and CI (log scales); each factor labelled in
    the direction this project reports (`HR_LABELS`: `shown`; inverting an HR leaves its p unchanged)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    names = [n for n in _cox_names(pub) if _has(pub, *(f"t3_multi_{s}_{n}" for s in ("hr", "ci_low", "ci_high", "p")))]
    for i, n in enumerate(names):
        hr, lo, hi, p = (_v(pub, f"t3_multi_{s}_{n}") for s in ("hr", "ci_low", "ci_high", "p"))
        ax.scatter([p], [i], marker="x", color="#C44E52", label="printed p" if i == 0 else None, **kwargs)
        ax.scatter([wald_p_from_ci(hr, lo, hi)], [i], marker="o", color="#4C72B0",
                   label="Wald p from HR and 95% CI" if i == 0 else None, **kwargs)
    ax.set_yticks(range(len(names)), [HR_LABELS[n].get("shown", HR_LABELS[n]["label"]) if n in HR_LABELS else n
                                      for n in names])
    ax.set_xscale("log")
    ax.axvline(ALPHA, color="grey", linestyle=":", linewidth=1, label=f"level {ALPHA}")
    ax.set(xlabel="Two-sided p (log scale)", ylim=(-0.7, len(names) - 0.3))
    if names:
        ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax
