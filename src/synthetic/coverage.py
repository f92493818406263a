"""How well an ensemble recovers a known truth: the validation table (`src/synthetic/truth.py`,
``make validate-reconstruction``) read for notebook 10.

- `read_validation`: the table, copied unchanged into a run's tables.
- `headline_coverage`, `headline_sentence`: the headline, coverage of the results the printed numbers determine
  (pinned or constrained) apart from the free ones, each with its binomial (Clopper-Pearson) 95% interval, beside
  the coverage a faithful reconstruction would have ((K - 1) / (K + 1): `expected_coverage`). A failed
  reconstruction covers nothing: the results of a truth that no seed reconstructed count as not covered
  (`failures_as_misses`), and the expected coverage is that of the K reconstructions tried.
- `coverage_table`: the same by kind of result and class, with the error of the ensemble's median;
  `validation_sentences`: what the validation found, in words; `failure_reasons`: why reconstructions failed;
  `plot_validation`: truth against the ensemble's median and range.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from src.synthetic.ensemble import KIND_WORDS, VALIDATION_NAME


def read_validation(folder, tables_dir=None) -> pd.DataFrame | None:
    """The validation table of an ensemble folder (None if absent), copied byte for byte into
    `tables_dir` (outputs/tables/, so that a run's outputs hold the committed table unchanged)."""
    path = Path(folder) / VALIDATION_NAME
    if not path.is_file():
        return None
    if tables_dir is not None:
        shutil.copyfile(path, Path(tables_dir) / VALIDATION_NAME)
    return pd.read_csv(path)


def unreconstructed(validation: pd.DataFrame) -> list[int]:
    """The true cohorts that no seed could reconstruct from their printed numbers (no member at all)."""
    members = validation.groupby("true_cohort")["members"].max()
    return [int(j) for j in members.index[members == 0]]


def failure_reasons(validation: pd.DataFrame) -> pd.DataFrame:
    """Why reconstructions failed: one row per reason (the reconstruction's error message) with the true
    cohorts and the number of seeds it stopped; empty when none failed or the table does not record them."""
    if "failures" not in validation:
        return pd.DataFrame(columns=["reason", "true_cohorts", "reconstructions"])
    rows = []
    for j, text in validation.drop_duplicates("true_cohort")[["true_cohort", "failures"]].itertuples(index=False):
        for part in filter(None, str(text if isinstance(text, str) else "").split("; ")):
            rows.append({"true_cohort": int(j), "reason": part.split(": ", 1)[-1]})
    if not rows:
        return pd.DataFrame(columns=["reason", "true_cohorts", "reconstructions"])
    d = pd.DataFrame(rows)
    out = d.groupby("reason", sort=False).agg(
        true_cohorts=("true_cohort", lambda c: ", ".join(map(str, sorted(set(c))))),
        reconstructions=("true_cohort", "size")).reset_index()
    return out.sort_values(["reconstructions", "reason"], ascending=[False, True]).reset_index(drop=True)


NO_RECONSTRUCTION = "no reconstruction"  # the class of a truth's results when every seed failed to reconstruct it


def failures_as_misses(validation: pd.DataFrame) -> pd.DataFrame:
    """The validation with the results of a true cohort that no seed reconstructed (:func:`unreconstructed`)
    classed `NO_RECONSTRUCTION` and not covered: a failed reconstruction covers nothing. (A truth that some seeds
    failed keeps its results, over the members that were built: a narrower range, judged against the coverage
    expected of the K tried.)"""
    v = validation.copy()
    none = v["true_cohort"].isin(unreconstructed(v))
    v.loc[none, "class"] = NO_RECONSTRUCTION
    v["covered"] = v["covered"].astype(bool) & ~none
    return v


def coverage_table(validation: pd.DataFrame) -> pd.DataFrame:
    """Per kind of quantity and class (over every true cohort and quantity): how often the ensemble range
    covered the truth and the median absolute error of the ensemble median. The results of a true cohort that
    no seed reconstructed are counted, as not covered, in the class `NO_RECONSTRUCTION` (`failures_as_misses`)."""
    v = failures_as_misses(validation)
    v["abs_error"] = v["error_of_median"].abs()
    out = (v.groupby(["kind", "class"]).agg(results=("quantity", "size"), covered=("covered", "mean"),
                                            median_abs_error=("abs_error", "median")).reset_index())
    out["covered"] = (100 * out["covered"]).round(0)
    return out.rename(columns={"covered": "covered_pct"})


def clopper_pearson(covered: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) binomial confidence interval of the share covered / n (scipy)."""
    from scipy import stats

    if n == 0:
        return np.nan, np.nan
    ci = stats.binomtest(int(covered), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


#: The headline's groups of classes: what the printed numbers determine (pinned or constrained) apart from what
#: the reconstruction decides (free); results of truths no seed reconstructed count apart, and in "all".
HEADLINE_GROUPS = {"pinned": "pinned or constrained", "constrained": "pinned or constrained", "free": "free",
                   "not estimable": "not estimable", NO_RECONSTRUCTION: NO_RECONSTRUCTION}


def headline_coverage(validation: pd.DataFrame) -> pd.DataFrame:
    """Coverage of the known truths by group of classes (`HEADLINE_GROUPS`) and over all: comparisons, covered,
    the share with its 95% Clopper-Pearson interval, and the share expected of a faithful reconstruction
    (:func:`expected_coverage` of the K reconstructions tried). Failed reconstructions are in the denominators
    (`failures_as_misses`). The interval treats the comparisons as independent; the results of one truth are not
    (they share its reconstructions), so it is if anything too narrow."""
    v = failures_as_misses(validation)
    v["group"] = v["class"].map(HEADLINE_GROUPS)
    groups = ["pinned or constrained", "free"] + [g for g in ("not estimable", NO_RECONSTRUCTION) if (v["group"] == g).any()]
    rows = []
    for group in groups + ["all"]:
        d = v if group == "all" else v[v["group"] == group]
        n, covered = len(d), int(d["covered"].sum())
        low, high = clopper_pearson(covered, n)
        rows.append({"results": group, "comparisons": n, "covered": covered, "coverage": covered / n if n else np.nan,
                     "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows).assign(expected=expected_coverage(reconstructions_tried(validation)))


def percent_interval(share: float, low: float, high: float) -> str:
    """'83% (95% CI 74-90%)', or 'no comparison' when there is none."""
    if not np.isfinite(share):
        return "no comparison"
    return f"{100 * share:.0f}% (95% CI {100 * low:.0f}-{100 * high:.0f}%)"


def headline_reader_table(headline: pd.DataFrame) -> pd.DataFrame:
    """`headline_coverage` in words."""
    return pd.DataFrame({
        "Results": headline["results"], "Comparisons": headline["comparisons"],
        "Truth within the range": headline["covered"],
        "Coverage": [percent_interval(*r) for r in headline[["coverage", "ci_low", "ci_high"]].itertuples(index=False)],
        "Expected of a faithful reconstruction, (K - 1) / (K + 1)": [f"{100 * e:.0f}%" for e in headline["expected"]]})


def failed_count(validation: pd.DataFrame) -> int:
    """The reconstructions that failed, over every true cohort."""
    return int(validation.drop_duplicates("true_cohort")["failed"].sum())


HEADLINE_WORDS = {"pinned or constrained": "pinned or constrained results", "free": "free results",
                  "not estimable": "results not estimable", NO_RECONSTRUCTION: "results of truths no seed reconstructed",
                  "all": "results in all"}


def headline_sentence(validation: pd.DataFrame, short: bool = False) -> str:
    """The validation's headline in words, from the table: coverage of pinned or constrained results apart from
    free ones, each with its interval, beside the coverage of a faithful reconstruction; failures counted.
    `short`: the abstract's wording (fewer words, the same numbers)."""
    h = headline_coverage(validation).set_index("results")
    m, k = validation["true_cohort"].nunique(), reconstructions_tried(validation)
    failed, none = failed_count(validation), unreconstructed(validation)
    if short:
        return _short_headline(h, m, k, failed, none)
    failures = (f"{failed} of the {m * k} failed: a truth's range spans only the reconstructions built" if failed
                else f"none of the {m * k} failed")
    if none:
        failures += f"; no seed reconstructed true cohort{'s' if len(none) > 1 else ''} {', '.join(map(str, none))}"
    shown = ["pinned or constrained", "free"] + ([NO_RECONSTRUCTION, "all"] if none else [])
    parts = [f"in {_percents(r)[0]} of {int(r['comparisons'])} {HEADLINE_WORDS[group]} (95% CI {_percents(r)[1]})"
             if r["comparisons"] else f"no {HEADLINE_WORDS[group]}" for group, r in h.loc[shown].iterrows()]
    return (f"Against {m} known truths ({k} reconstructions tried for each; {failures}), the ensemble's range covered "
            f"the true value {', '.join(parts[:-1])} and {parts[-1]}; ranges of {k} draws from the truth's own "
            f"distribution would cover it in about {100 * h['expected'].iloc[0]:.0f}% ((K - 1) / (K + 1)).")


def _percents(r) -> tuple[str, str]:
    """A headline row's coverage and its interval as printed: ("71%", "63-78%")."""
    return f"{100 * r['coverage']:.0f}%", f"{100 * r['ci_low']:.0f}-{100 * r['ci_high']:.0f}%"


def _short_headline(h: pd.DataFrame, m: int, k: int, failed: int, none: list) -> str:
    """The abstract's headline: coverage of pinned or constrained and of free results with their intervals."""
    def part(group, first):
        r = h.loc[group]
        if not r["comparisons"]:
            return f"no {HEADLINE_WORDS[group]}"
        share, interval = _percents(r)
        return f"{share} ({'95% CI ' if first else ''}{interval}) of {int(r['comparisons'])} {HEADLINE_WORDS[group]}"
    failures = f"{failed} failed" if failed else "none failed"
    if none:
        failures += f", {len(none)} never rebuilt"
    return (f"Against {m} truths ({m * k} reconstructions, {failures}), ranges covered "
            f"{part('pinned or constrained', True)} and {part('free', False)} (expected: "
            f"{100 * h['expected'].iloc[0]:.0f}%).")


RECOVERY_SLACK = 10  # percentage points below the coverage expected of a faithful reconstruction: "not recovered"
RECOVERY_MIN_RESULTS = 5  # ... judged only on at least this many comparisons


def reconstructions_tried(validation: pd.DataFrame) -> int:
    """K, the reconstructions tried for each true cohort (those built plus those that failed)."""
    return int((validation["members"] + validation["failed"]).max())


def expected_coverage(k: int) -> float:
    """The chance that the truth lies within the min-max range of k members when the truth and the members
    are exchangeable draws of one distribution (a reconstruction as uncertain as the printed numbers leave
    it): (k - 1) / (k + 1)."""
    return (k - 1) / (k + 1)


def validation_sentences(validation: pd.DataFrame) -> str:
    """What the validation against known truths found, in words: the headline (:func:`headline_sentence`), the
    coverage by kind and class, and the classes it does not recover (more than `RECOVERY_SLACK` points below the
    coverage of a faithful reconstruction, on at least `RECOVERY_MIN_RESULTS` comparisons)."""
    cov = coverage_table(validation)
    expected = expected_coverage(reconstructions_tried(validation))
    text = (headline_sentence(validation) + " By kind and class: "
            + "; ".join(f"{r['class']} {r['kind']} {r['covered_pct']:.0f}% of {r['results']}" for _, r in cov.iterrows())
            + ".")
    low = cov[(cov["covered_pct"] < 100 * expected - RECOVERY_SLACK) & (cov["results"] >= RECOVERY_MIN_RESULTS)
              & (cov["class"] != NO_RECONSTRUCTION)]
    if len(low):
        text += (" Not recovered (coverage more than " f"{RECOVERY_SLACK} points below that): "
                 + "; ".join(f"{r['class']} {r['kind']}" for _, r in low.iterrows())
                 + ". For these, a value on a synthetic cohort says nothing about the study, however narrow its range.")
    return text


def plot_validation(validation: pd.DataFrame, kind: str = "p", ax=None, **kwargs):
    """Truth (x) against the ensemble's median (y) with its min-max range, one point per true cohort
    and quantity of `kind`; on the diagonal the reconstruction recovers the truth."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    d = validation[(validation["kind"] == kind) & (validation["members"] > 0)]
    colours = {"pinned": "0.2", "constrained": "tab:blue", "free": "tab:red", "not estimable": "0.7"}
    for cls, g in d.groupby("class"):
        x, y = g["truth"].to_numpy(float), g["median"].to_numpy(float)
        err = np.vstack([y - g["min"].to_numpy(float), g["max"].to_numpy(float) - y])
        ax.errorbar(x, y, yerr=err, fmt="o", ms=2.5, lw=0.6, color=colours.get(cls, "0.5"), label=cls, **kwargs)
    # the axes show the truths and the ensembles' medians (a range running beyond them is cut at the frame)
    values = np.r_[d["truth"].to_numpy(float), d["median"].to_numpy(float)]
    values = values[np.isfinite(values) & (values > 0)] if kind in ("p", "hr") else values[np.isfinite(values)]
    if kind in ("p", "hr"):
        ax.set_xscale("log")
        ax.set_yscale("log")
        lo, hi = values.min() / 1.5, values.max() * 1.5
    else:
        pad = 0.1 * (values.max() - values.min() or 1.0)
        lo, hi = values.min() - pad, values.max() + pad
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    if kind == "hr":  # hazard ratios read as plain numbers at doublings, not as powers of ten
        from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, StrMethodFormatter

        ticks = [t for t in (0.125, 0.25, 0.5, 1, 2, 4, 8) if lo <= t <= hi]
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(FixedLocator(ticks))
            axis.set_major_formatter(StrMethodFormatter("{x:g}"))
            axis.set_minor_locator(NullLocator())
            axis.set_minor_formatter(NullFormatter())
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls=":")
    ax.set_xlabel(f"truth ({kind})")
    ax.set_ylabel(f"reconstructions ({kind}): median, min-max")
    ax.legend(fontsize=7, frameon=False)
    return ax


def coverage_reader_table(coverage: pd.DataFrame) -> pd.DataFrame:
    """`coverage_table` in words."""
    return pd.DataFrame({"Kind of result": coverage["kind"].map(KIND_WORDS), "Class": coverage["class"],
                         "Comparisons": coverage["results"], "Truth within the range (%)": coverage["covered_pct"],
                         "Median absolute error of the ensemble's median": coverage["median_abs_error"].round(3)})
