"""Known truths (`src/synthetic/truth.py`) as real cohorts have them, and the reconstruction's marginals and
Child-Pugh scores where the validation once failed (issue 22). Fast: no publication, no calibration."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from src import cohort, validate
from src.stats import survival
from src.synthetic import baseline, ensemble, marginals, truth
from src.synthetic.marginals import counts_vector

TRUTHS = (1, 2, 3)  # a few true cohorts (seeds TRUTH_SEED0 + j)


@pytest.fixture(scope="module")
def true_tables(tmp_path_factory):
    """True cohorts 1-3, written and read back through the validator in strict mode (every warning an error:
    the protocol rules 8-10, sorafenib after its approval, Child-Pugh scores their components allow)."""
    out = {}
    for j in TRUTHS:
        folder = tmp_path_factory.mktemp(f"truth_{j}")
        ensemble.write_tables(truth.true_cohort(truth.TRUTH_SEED0 + j), folder)
        tables, warnings_ = validate.check_data(folder, strict=True)
        assert len(warnings_) == 0
        out[j] = tables
    return out


def spearman(a, b) -> float:
    return float(pd.Series(np.asarray(a, float)).rank().corr(pd.Series(np.asarray(b, float)).rank()))


# --- values with a printed median, range and count above a threshold -----------------------------------

def test_count_above_a_threshold_above_the_median_used_to_raise():
    # 5 values, minimum 1, median 4, maximum 11, and 2 of them > 10: the maximum and one value above the
    # median, which can only be 11 (integers). The old code drew the missing value between the threshold and
    # the median (log(11) > log(4): "high - low < 0", as seeds 20130205 and 20130207 met on three truths).
    v = marginals.values_with_summary(np.random.default_rng(0), 5, 4, 1, 11, 0, log=True, above=(10, 2))
    assert v[0] == 1 and v[2] == 4 and list(v[3:]) == [11, 11] and 1 <= v[1] <= 4
    # the case of the committed validation (true cohort 4: AFP median 452 below the printed threshold of 500)
    for seed in range(20):
        v = marginals.values_with_summary(np.random.default_rng(seed), 67, 452, 10, 40063, 0, log=True,
                                          above=(500, 32))
        assert (v.min(), np.median(v), v.max(), int((v > 500).sum())) == (10, 452, 40063, 32)


def test_a_count_above_the_threshold_that_cannot_fit_is_said():
    # 5 values with median 4 below the threshold 10: at most 2 (the maximum and the value above the median)
    with pytest.raises(ValueError, match="3 values above 10"):
        marginals.values_with_summary(np.random.default_rng(0), 5, 4, 1, 11, 0, log=True, above=(10, 3))
    # a threshold between two rounded values: 2.95 at one decimal; 3.0 is the first value above it
    v = marginals.values_with_summary(np.random.default_rng(0), 9, 3.0, 1.0, 9.0, 1, above=(2.95, 6))
    assert np.median(v) == 3.0 and int((v > 2.95).sum()) == 6


# --- the truth: Child-Pugh by construction, correlations, salvage by era, follow-up ----------------------

def test_true_child_pugh_score_is_the_sum_of_its_points_by_hand():
    labs = {"total_bilirubin": np.array([2.2, 0.8, 0.8]), "albumin": np.array([3.0, 4.0, 4.0]),
            "prothrombin_activity": np.array([65, 95, 95]), "ascites": np.array(["yes", "no", "no"]),
            "moderate_ascites": np.array([True, True, False]), "encephalopathy": np.array([True, False, True])}
    # 2 + 2 + 2 + moderate ascites 3 + encephalopathy 2; 1 + 1 + 1 + no ascites 1 (moderate needs ascites) + 1;
    # the same + encephalopathy 2
    assert truth._child_pugh(labs).tolist() == [11, 5, 6]


def test_true_cohorts_pass_the_protocol_and_child_pugh_rules_in_strict_mode(true_tables):
    for tables in true_tables.values():
        assert validate.check_rule_warnings(tables).empty  # rules 5 and 7-10 on the typed tables too
        assert set(tables["patients"]["child_pugh_score"]) <= set(range(5, 10))  # Child-Pugh A or B at baseline


def test_truth_builds_in_the_correlations_of_a_real_cohort(true_tables):
    for tables in true_tables.values():
        p = tables["patients"]
        assert spearman(p["child_pugh_score"], p["albumin"]) < -0.4
        assert spearman(p["child_pugh_score"], p["total_bilirubin"]) > 0.2
        assert spearman(p["child_pugh_score"], p["ascites"].eq("yes")) > 0.4
        assert spearman(p["pvtt"].eq("yes"), p["afp"]) > 0  # through the latent tumour burden


def test_sorafenib_share_rises_with_the_years_since_approval():
    dates = pd.Series(pd.to_datetime(["2009-05-20", "2010-05-20", "2011-05-20", "2020-01-01"]))
    share = truth._sorafenib_share(truth.TRUTH, dates)
    assert share[0] == truth.TRUTH["sorafenib_share"]["at_approval"]
    assert (np.diff(share) > 0).all() and share[-1] == truth.TRUTH["sorafenib_share"]["max"]


def test_truth_follow_up_ends_mostly_at_the_data_cut_off(true_tables):
    for tables in true_tables.values():
        p = tables["patients"]
        censored = p[p["death"] == 0]
        at_cutoff = censored["last_followup_date"] == pd.Timestamp(truth.TRUTH["cutoff"])
        assert len(censored) >= 4 and at_cutoff.mean() >= 0.5
        os_ = cohort.overall_survival_frame(tables)
        median = survival.followup_summary(os_["os_time"], os_["death"])["median"]
        assert 20 <= median <= 96  # tens of months (enrolment 2005-2011, cut-off 2013), not one patient's time


# --- the reconstruction recovers what the clinical definition pins -------------------------------------

def table1_targets(p: pd.DataFrame) -> dict:
    """The Table 1 numbers `baseline.baseline_labs` reads, printed from a cohort's baseline table."""
    T = {}
    for k, col in {"alt": "alt", "tbil": "total_bilirubin", "pt": "prothrombin_activity", "alb": "albumin",
                   "plt": "platelets", "afp": "afp", "dcp": "dcp"}.items():
        T[f"t1_{k}_median"], T[f"t1_{k}_min"], T[f"t1_{k}_max"] = p[col].median(), p[col].min(), p[col].max()
    T["t1_afp_gt500"], T["t1_dcp_gt500"] = (p["afp"] > 500).sum(), (p["dcp"] > 500).sum()
    T["t1_cp_b"] = (p["child_pugh_score"] >= 7).sum()
    return T


def test_reconstruction_recovers_the_child_pugh_albumin_correlation(true_tables):
    for j, tables in true_tables.items():
        p = tables["patients"]
        T, n = table1_targets(p), len(p)
        rng = np.random.default_rng(20130201 + j)
        ascites = counts_vector(rng, {"yes": p["ascites"].eq("yes").sum(), "no": p["ascites"].eq("no").sum()})
        labs = baseline.baseline_labs(rng, T, n, ascites)
        low, high = validate.child_pugh_points_range(*(pd.Series(x) for x in (
            labs["total_bilirubin"], labs["albumin"], labs["prothrombin_activity"], ascites)))
        score = labs["child_pugh_score"]
        assert ((score >= low.to_numpy(int)) & (score <= high.to_numpy(int))).all()
        assert int((score >= 7).sum()) == T["t1_cp_b"]
        assert spearman(p["child_pugh_score"], p["albumin"]) < -0.4  # the truth's
        assert spearman(score, labs["albumin"]) < -0.3  # recovered: the score is the sum of its points
