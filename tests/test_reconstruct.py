"""The reconstruction is deterministic, exact where it promises to be, and its loss means something."""
import numpy as np
import pytest

from src.synthetic import design, marginals, polish, ranked_fit, reconstruct as rc, scoring, targets
from src.stats import faststats as fs
from src.helpers import ROOT
from src.validate import load_and_validate

DATA = ROOT / "data"


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("rebuilt")
    rc.write_cohort(rc.build_cohort(rc.DEFAULT_SEED), out)
    return out


@pytest.mark.parametrize("name", ["patients", "progression", "adverse_events"])
def test_same_seed_gives_the_committed_bytes(rebuilt, name):
    # determinism, and the committed data are what `make data` writes
    assert (rebuilt / f"{name}.csv").read_bytes() == (DATA / f"{name}.csv").read_bytes()


def test_values_with_summary_is_exact():
    rng = np.random.default_rng(0)
    v = marginals.values_with_summary(rng, 19, median=1.0, lo=0.5, hi=2.8, decimals=1)
    assert (len(v), v.min(), np.median(v), v.max()) == (19, 0.5, 1.0, 2.8)
    v = marginals.values_with_summary(rng, 67, 690, 6, 584820, 0, log=True, above=(500, 37))
    assert (v.min(), np.median(v), v.max(), int((v > 500).sum())) == (6, 690, 584820, 37)


def test_child_pugh_min_by_hand():
    # bilirubin 2.2 -> 2 points, albumin 3.0 -> 2, prothrombin 65% -> 2, ascites -> 2, no encephalopathy -> 1
    assert marginals.child_pugh_min([2.2], [3.0], [65], ["yes"])[0] == 9
    # all normal, no ascites: 5 points
    assert marginals.child_pugh_min([0.8], [4.0], [95], ["no"])[0] == 5


def test_committed_data_pass_every_validation_rule():
    tables = load_and_validate(DATA)
    assert len(tables["patients"]) > 0


def test_a_perturbed_cohort_scores_worse():
    tables = load_and_validate(DATA)
    base = scoring.spp_cohort_loss(tables)
    rng = np.random.default_rng(1)
    prog = tables["progression"].copy()
    prog["salvage_treatment"] = rng.permutation(prog["salvage_treatment"].to_numpy())
    worse = scoring.spp_cohort_loss({**tables, "progression": prog})
    assert worse > base


def test_distance_is_zero_inside_the_rounding_interval():
    assert targets.distance(0.0412, 0.041, 3) == 0
    assert targets.distance(0.0430, 0.041, 3) == pytest.approx((0.002 - 0.0003) / 0.001)


def _spp_state():
    s = scoring.state_from_tables(load_and_validate(DATA))
    order = np.argsort(s.spp_days, kind="stable")
    return s, order, s.cols["total_bilirubin"].astype(float), s.cols["ascites"] == "yes"


def _lifelines_model(time, event, tbil_high, no_ascites, other):
    """HRs of the Table 3 model and the three log-rank p, refitted with lifelines (an independent implementation)."""
    import pandas as pd
    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test
    df = pd.DataFrame({"t": time, "e": event, "tbil": tbil_high, "no_ascites": no_ascites, "other": other}).astype(float)
    hr = CoxPHFitter().fit(df, "t", "e", fit_options={"precision": 1e-12}).hazard_ratios_[["tbil", "no_ascites", "other"]].to_numpy()
    p = [logrank_test(df.t[df[c] == 1], df.t[df[c] == 0], df.e[df[c] == 1], df.e[df[c] == 0]).p_value
         for c in ("tbil", "no_ascites", "other")]
    return hr, np.array(p)


def test_each_kind_of_single_move_does_what_it_says_and_refits_like_lifelines():
    s, order, tb, asc = _spp_state()
    moves = polish.single_moves(s.group, order, tb, asc)
    pick = [int(np.argmax(moves[:, 0] == kind)) for kind in range(4)]
    O, EV, TB, AS = polish.apply_moves(moves[pick][:, None, :], order, s.event, tb, asc)
    sor = s.group == 1
    for k, (kind, a, b) in enumerate(moves[pick]):
        expected = [order.copy(), s.event.copy(), tb.copy(), asc.copy()]
        if kind == 0:
            expected[0][[a, b]] = expected[0][[b, a]]
        elif kind == 1:
            expected[1][a] = not expected[1][a]
        else:
            assert s.group[a] == s.group[b]
            expected[kind][[a, b]] = expected[kind][[b, a]]
        for got, want in zip((O[k], EV[k], TB[k], AS[k]), expected):
            np.testing.assert_array_equal(got, want)
        time = np.empty(len(order))
        time[O[k]] = np.arange(1, len(order) + 1)  # the rank stage's times: positions in the order
        cov = np.stack([TB[k] >= design.CUTOFFS["tbil"], ~AS[k], ~sor], axis=1).astype(float)
        p, beta, _, ok = ranked_fit.ranked_statistics(cov[O[k]][None], EV[k][O[k]][None], np.zeros((1, 3)))
        hr_ll, p_ll = _lifelines_model(time, EV[k], *cov.T)
        assert ok[0]
        np.testing.assert_allclose(np.exp(beta[0]), hr_ll, rtol=1e-5)
        np.testing.assert_allclose(p[0], p_ll, rtol=1e-9)


def test_move_granularity_starts_from_the_committed_model():
    tables = load_and_validate(DATA)
    table, better = scoring.move_granularity(tables)
    s, order, tb, asc = _spp_state()
    hr_ll, p_ll = _lifelines_model(s.spp_days, s.event, tb >= design.CUTOFFS["tbil"], ~asc, s.group == 0)
    row = table.set_index("id")["this run"]
    np.testing.assert_allclose(row[["t3_multi_hr_tbil", "t3_multi_hr_ascites", "t3_multi_hr_sorafenib"]], hr_ll,
                               rtol=1e-5)
    np.testing.assert_allclose(row[["t3_uni_p_tbil", "t3_uni_p_ascites", "spp_logrank_p"]], p_ll, rtol=1e-9)
    assert (table["moves after which it matches"] <= table["moves"]).all()
    assert (table["smallest change (last digits)"] <= table["median change (last digits)"]).all()
    assert 0 <= better <= table["moves"].iloc[0]


def test_the_front_door_keeps_the_scorecards_name():
    # notebook 08 reads `reconstruct.move_granularity`; its home is the scoring room
    assert rc.move_granularity is scoring.move_granularity


def test_move_granularity_refuses_tied_times():
    tables = load_and_validate(DATA)
    prog = tables["progression"][tables["progression"]["child_pugh_score"] <= 8]  # the 38 of the SPP analysis
    patients = tables["patients"].copy()
    first, second = prog["patient_id"].iloc[:2]  # give the second patient the first one's SPP
    spp = patients.set_index("patient_id")["last_followup_date"] - prog.set_index("patient_id")["progression_date"]
    i = patients.index[patients["patient_id"].eq(second)][0]
    patients.loc[i, "last_followup_date"] = prog.set_index("patient_id").loc[second, "progression_date"] + spp[first]
    with pytest.raises(ValueError, match="distinct"):
        scoring.move_granularity({**tables, "patients": patients})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_sums_add_in_numpys_order(dtype):
    # the rank stage's fast sums must give NumPy's floats exactly (the annealing's decisions depend on them)
    rng = np.random.default_rng(2)
    for m in (*range(1, 30), 130):
        a = (rng.normal(size=(m, 50, 7)) * 10.0 ** rng.uniform(-6, 6, (m, 50, 7))).astype(dtype)
        keys_last = np.ascontiguousarray(np.moveaxis(a, 0, -1))  # as the loss had them: one row per state
        assert polish._sum_rows_pairwise(a).tobytes() == keys_last.sum(-1).tobytes()


def test_ranked_statistics_agree_with_the_per_patient_fits():
    # the rank stage's fits by covariate pattern give the log-rank p and Cox fits of faststats
    rng = np.random.default_rng(4)
    K, n = 40, 38
    X = (rng.random((K, n, 3)) < 0.5).astype(float)
    E = rng.random((K, n)) < 0.75
    p, beta, se, ok = ranked_fit.ranked_statistics(X, E, np.zeros((K, 3)))
    time = np.arange(n, dtype=float)  # rows are in time order
    for k in np.nonzero(ok)[0]:
        np.testing.assert_allclose(p[k], fs.logrank_p(time, E[k], X[k]), rtol=1e-10)
        b, s = fs.cox_fit(time, E[k], X[k])
        np.testing.assert_allclose(beta[k], b, rtol=0, atol=1e-10)
        np.testing.assert_allclose(se[k], s, rtol=1e-6)  # from the information before the last (< 1e-7) step
    assert ok.mean() > 0.9


def test_median_bounds_follow_the_printed_medians():
    # by hand: 1.7 and 1.8 months are round(51.74) = 52 and round(54.79) = 55 days: at most 3 positions apart,
    # and 52 - MIN_SPP_DAYS patients (one a day from day MIN_SPP_DAYS) before the earlier median
    T = {"spp_median_sor": 1.7, "spp_median_oth": 1.8}
    assert ranked_fit.median_bounds(T) == (3, 52 - design.MIN_SPP_DAYS)
    # far-apart medians (the paper's case, 8.0 vs 3.8 months): the constant limit applies
    T = {"spp_median_sor": 8.0, "spp_median_oth": 3.8}
    assert ranked_fit.median_bounds(T) == (ranked_fit.MAX_MEDIAN_GAP, 116 - design.MIN_SPP_DAYS)


def test_curves_cross_when_the_printed_median_and_hazard_ratio_disagree():
    later, earlier = {"spp_median_sor": 8.0, "spp_median_oth": 3.8}, {"spp_median_sor": 1.6, "spp_median_oth": 2.6}
    assert not ranked_fit.curves_cross({**later, "t3_multi_hr_sorafenib": 2.48})  # no sorafenib: HR > 1, agrees
    assert ranked_fit.curves_cross({**later, "t3_multi_hr_sorafenib": 0.7})
    assert ranked_fit.curves_cross({**earlier, "t3_multi_hr_sorafenib": 1.74})  # a truth of src/synthetic/truth.py
    assert not ranked_fit.curves_cross({**earlier, "t3_multi_hr_sorafenib": 0.8})
    assert not ranked_fit.curves_cross(earlier)  # no printed hazard ratio


def test_equal_printed_medians_give_the_two_median_patients_days_of_their_own():
    # a cohort can print the same median SPP for both groups (true cohort 8 of the validation: 1.7 and 1.7
    # months); the two median patients then take the first and the last day that still print as 1.7
    # (51 and 53 days: 1.68 and 1.74 months), by hand: 1.655 * 30.4375 = 50.4 -> 51, 1.745 * 30.4375 = 53.1 -> 53
    from src.synthetic.ranked_fit import median_bounds, median_days

    T = {"spp_median_sor": 1.7, "spp_median_oth": 1.7}
    assert median_days(T) == (53, 51)  # sorafenib (the later, as sorafenib_median_later says for equal ones), other
    assert all(f"{d / 30.4375:.1f}" == "1.7" for d in median_days(T))
    assert median_bounds(T) == (2, 51 - 7)  # one patient may lie between them
    # distinct printed medians keep their own days (the bundled cohort's: 5.5 and 3.8 months)
    assert median_days({"spp_median_sor": 5.5, "spp_median_oth": 3.8}) == (167, 116)
    assert median_days({"spp_median_sor": 3.8, "spp_median_oth": 5.5}) == (116, 167)
