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
gives to the hazard ratios are small data in the checks' modules (`HR_LABELS`,
`TIME_AXES`, `CHILD_PUGH_STATEMENTS`, `PRINTED_UNITS`, ...), each with its source.

The reconstruction follows the best-supported reading (`best_reading`: the
numeric corrections) and the scorecard marks the ids of `unreproducible` as
"not reproducible", with the reason. Findings about labels, units, directions,
claims of the text and plausibility never make a number unreproducible.

The checks live beside this module, by kind: `audit_counts` (percentages, means, breakdowns, sessions),
`audit_pvalues` (Table 2's tests, Table 3's Cox model), `audit_survival` (medians and landmarks) and
`audit_text` (the words around the numbers), all reading the numbers with `published`. This module runs
them all (`run_audit`), reads the findings (the best reading, the unreproducible ids, summaries) and draws
them; it also offers every check and its small data under one name (`audit.cox_consistency`).
"""
from __future__ import annotations

import pandas as pd

from src.formats import format_number
from src.paper.audit_counts import (VARIABLES, breakdown_vs_total, count_above_vs_median,  # noqa: F401
                                    flow_era_totals, mean_integer_count, percent_integer_count, percent_vs_count,
                                    sessions_range, sessions_total, summary_within_range)
from src.paper.audit_pvalues import (HR_LABELS, TABLE2_CATEGORICAL, TEST_NAMES, TEST_SHORT,  # noqa: F401
                                     _cox_names, categorical_p_values, cox_consistency, cox_in_one_direction,
                                     cox_p_misfits, cox_p_sentence, fisher_p, hr_direction_vs_text,
                                     table2_completions, table2_p_vs_tests, table2_tests, wald_p_from_ci,
                                     wald_p_range)
from src.paper.audit_survival import (FIRST_ASSESSMENT_WEEKS, landmark_vs_group_medians,  # noqa: F401
                                      landmarks_decreasing, median_vs_landmark, spp_median_vs_os_median,
                                      spp_over_os_ratio)
from src.paper.audit_text import (axis_label_vs_definition, child_pugh_label_vs_text,  # noqa: F401
                                  multivariate_entry_rule, same_number_in_several_places, significance_vs_text,
                                  unit_vs_magnitude)
from src.paper.published import ALPHA, _has, _p, _v, empty_published, published_by_id  # noqa: F401


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
