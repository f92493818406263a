"""The fast statistics of the calibration agree with lifelines and scipy (independent implementations)."""
import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy import stats

from src.stats import faststats as fs


@pytest.fixture
def cohort():
    rng = np.random.default_rng(7)
    n = 40
    time = rng.permutation(np.arange(5, 700))[:n].astype(float)  # distinct times: Efron = Breslow
    event = rng.random(n) < 0.8
    X = (rng.random((n, 3)) < 0.5).astype(float)
    return time, event, X


def test_km_median_and_landmark_by_hand():
    # times 1,2,3,4,5 (3 censored): S = 4/5 after 1, 3/5 after 2, after 4: 3/5 * 1/2 = 0.3 -> median 4
    t = np.array([1, 2, 3, 4, 5.0])
    e = np.array([1, 1, 0, 1, 1], bool)
    assert fs.km_median(t, e) == 4
    assert fs.km_at(t, e, [0.5, 2.5, 4]) == pytest.approx([1.0, 0.6, 0.3])


def test_km_matches_lifelines(cohort):
    t, e, _ = cohort
    km = KaplanMeierFitter().fit(t, e)
    assert fs.km_median(t, e) == km.median_survival_time_
    at = [30, 150, 400]
    assert fs.km_at(t, e, at) == pytest.approx(km.survival_function_at_times(at).to_numpy())


def test_logrank_matches_lifelines(cohort):
    t, e, X = cohort
    p = fs.logrank_p(t, e, X)
    for j in range(X.shape[1]):
        g = X[:, j] == 1
        ref = logrank_test(t[g], t[~g], e[g], e[~g]).p_value
        assert p[j] == pytest.approx(ref, rel=1e-9)


def test_logrank_with_ties_matches_lifelines():
    t = np.array([1, 1, 2, 2, 3, 3, 4, 5, 5, 6], float)
    e = np.array([1, 1, 1, 0, 1, 1, 0, 1, 1, 1], bool)
    g = np.array([1, 0, 1, 0, 0, 1, 1, 0, 1, 0], bool)
    ref = logrank_test(t[g], t[~g], e[g], e[~g]).p_value
    assert fs.logrank_p(t, e, g.astype(float))[0] == pytest.approx(ref, rel=1e-9)


def test_cox_matches_lifelines(cohort):
    t, e, X = cohort
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(t=t, e=e)
    ref = CoxPHFitter().fit(df, "t", "e")
    beta, se = fs.cox_fit(t, e, X)
    assert beta == pytest.approx(ref.params_.to_numpy(), abs=1e-6)
    assert se == pytest.approx(ref.standard_errors_.to_numpy(), abs=1e-6)


def test_student_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 19), rng.normal(0.5, 2, 19)
    assert fs.student_p(a, b) == pytest.approx(stats.ttest_ind(a, b).pvalue, rel=1e-10)


def test_runs_are_numpys_unique():
    # the calibration's decisions depend on these floats: the lean version must equal np.unique's
    for values in ([], [3.0], [1, 1, 2, 5, 5, 5, 9], np.sort(np.random.default_rng(3).integers(0, 20, 60)).astype(float)):
        v = np.asarray(values, float)
        distinct, counts, first = fs._runs(v)
        ref, ref_first, ref_counts = np.unique(v, return_index=True, return_counts=True)
        for got, want in ((distinct, ref), (counts, ref_counts), (first, ref_first)):
            assert got.tobytes() == want.tobytes()


def test_no_event_gives_no_median():
    t = np.array([1, 2, 3.0])
    assert fs.km_median(t, np.zeros(3, bool)) == np.inf
    assert np.isnan(fs.logrank_p(t, np.zeros(3, bool), np.array([1, 0, 1.0]))[0])
