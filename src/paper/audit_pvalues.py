"""Checks of the audit on tests: Table 2's p-values against Fisher's exact test and chi-square on its printed
counts (and the completions of rows short of a patient), and Table 3's Cox model: each hazard ratio against
its confidence interval, each p against the Wald p they imply, and each direction against the text; also
Table 3 in the one direction this project reports (`cox_in_one_direction`).

Each check takes the published numbers (`published.published_by_id`) and returns findings
(`src/paper/audit.py` describes them)."""
from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
from scipy import stats

from src.formats import format_number
from src.paper.published import _finding, _has, _ids_matching, _p, _v
from src.stats.faststats import Z975
from src.stats.groups import categorical_p
from src.study import TABLE2_LEVEL_IDS


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
