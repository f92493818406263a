"""Tests of src/stats/cutoffs.py: the cost of choosing a cut-off by its p-value.

Seeded expectations: under no effect, the smallest log-rank p over the candidate cut-offs falls below
0.05 in far more than 5% of studies, the same share for the same seed bit for bit, while one cut-off
fixed in advance keeps the nominal 5% within binomial error. The per-cut-off p-values are checked
against lifelines' log-rank test.
"""
import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import logrank_test

from src.stats import cutoffs


def test_min_p_cutoff_inflates_false_positives():
    result = cutoffs.simulate_min_p(replicates=500, seed=21)
    assert result["nominal_alpha"] == 0.05 and result["replicates"] == 500
    assert result["share_min_p_below_alpha"] > 0.15  # about 0.4 with 38 patients and ~30 cut-offs tried
    assert result["cutoffs_tried"] > 20


def test_simulation_is_reproducible_bit_for_bit():
    a, b = cutoffs.simulate_min_p(replicates=200, seed=7), cutoffs.simulate_min_p(replicates=200, seed=7)
    assert a == b
    assert cutoffs.simulate_min_p(replicates=200, seed=8) != a


def test_one_prespecified_cutoff_keeps_the_nominal_rate():
    replicates, alpha = 4000, 0.05
    share = cutoffs.simulate_min_p(replicates=replicates, alpha=alpha, seed=3)["share_prespecified_below_alpha"]
    tolerance = 3.5 * np.sqrt(alpha * (1 - alpha) / replicates)  # binomial standard error, 3.5 of them
    assert abs(share - alpha) < tolerance


def test_candidate_cutoffs_lie_between_the_percentiles():
    x = np.arange(1, 101, dtype=float)  # 10th percentile 10.9, 90th 90.1
    cuts = cutoffs.candidate_cutoffs(x)
    assert cuts[0] == 11 and cuts[-1] == 90 and len(cuts) == 80
    assert len(cutoffs.candidate_cutoffs([np.nan, np.nan])) == 0
    assert len(cutoffs.candidate_cutoffs([5.0, 5.0, 5.0])) == 0  # one value: no split


def test_p_by_cutoff_equals_lifelines_logrank():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"t": rng.exponential(10, 40).round(1), "e": rng.random(40) < 0.7, "x": rng.normal(50, 10, 40).round()})
    table = cutoffs.logrank_by_cutoff(df, "t", "e", "x")
    for row in table.iloc[[0, len(table) // 2, -1]].itertuples():
        above = df["x"] >= row.cutoff
        ref = logrank_test(df.loc[above, "t"], df.loc[~above, "t"], df.loc[above, "e"], df.loc[~above, "e"]).p_value
        assert row.p == pytest.approx(ref, rel=1e-9)
        assert (row.n_below, row.n_above) == ((~above).sum(), above.sum())


def test_missing_column_values_are_left_out():
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6.0] * 3, "e": [1, 0, 1, 1, 0, 1] * 3, "x": [1, 2, np.nan, 4, 5, 6.0] * 3})
    table = cutoffs.logrank_by_cutoff(df, "t", "e", "x")
    assert (table["n_below"] + table["n_above"] == 15).all()
