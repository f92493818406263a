"""Checks of the audit on the words around the numbers: the same number printed in several places, what the
text calls significant against the printed p, the entry rule of the Cox model, and the labels and units
against the Methods (the time axis of each survival figure, the Child-Pugh exclusion, the platelet unit).

The printed labels and units are small data here (`TIME_AXES`, `CHILD_PUGH_STATEMENTS`, `PRINTED_UNITS`), each
with its source. Each check takes the published numbers (`published.published_by_id`) and returns findings
(`src/paper/audit.py` describes them)."""
from __future__ import annotations

import re

import pandas as pd

from src.cohort import child_pugh_class
from src.paper.audit_pvalues import _cox_names
from src.paper.published import ALPHA, _finding, _has, _ids_matching, _p, _relation, _v


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
