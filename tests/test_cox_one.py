"""Tests of src/stats/cox_one.py: the Cox fit of one 0/1 covariate against lifelines (CoxPHFitter and
CoxTimeVaryingFitter, data with tied death times), against R's survival package on a small hand-made data set,
its not-estimable cases against `appraisal.cox_hr` / `appraisal.td_cox`, and the immortal-time simulation of
notebook 07 against the lifelines path it replaced."""
import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter

from src.course import teaching
from src.stats import appraisal, cox_one
from src.study import DAYS_PER_MONTH

TOLERANCE = 1e-6


def _tied_right_censored(rng, n):
    """Whole-number times from 1 to 12 (many ties), about 70% deaths, x = 1 in about 40%."""
    return (rng.integers(1, 13, n).astype(float), (rng.random(n) < 0.7).astype(float),
            (rng.random(n) < 0.4).astype(float))


def _estimable_sets(make, count, seed):
    """`count` data sets from `make(rng)` with deaths in both groups (lifelines' fits are then finite)."""
    rng, found = np.random.default_rng(seed), []
    while len(found) < count:
        time, event, x = make(rng)
        if min(event[x == 0].sum(), event[x == 1].sum()) > 0:
            found.append((time, event, x))
    return found


def _stacked(sets):
    """The data sets as one set of arrays with each row's data set number."""
    group = np.repeat(np.arange(len(sets)), [len(s[0]) for s in sets])
    return (group, *(np.concatenate(column) for column in zip(*sets)))


def _lifelines_row(fitter, frame, **columns):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fitter.fit(frame, **columns).summary.loc["x"]


def _assert_matches(fitted, i, summary):
    assert fitted["coef"][i] == pytest.approx(summary["coef"], abs=TOLERANCE)
    assert fitted["se"][i] == pytest.approx(summary["se(coef)"], abs=TOLERANCE)
    assert fitted["p"][i] == pytest.approx(summary["p"], abs=TOLERANCE)
    assert fitted["ci_low"][i] == pytest.approx(summary["exp(coef) lower 95%"], rel=TOLERANCE)
    assert fitted["ci_high"][i] == pytest.approx(summary["exp(coef) upper 95%"], rel=TOLERANCE)


# --- against lifelines ------------------------------------------------------------------------

def test_right_censored_fits_match_coxphfitter_with_ties():
    sets = _estimable_sets(lambda rng: _tied_right_censored(rng, int(rng.integers(10, 60))), 8, seed=11)
    group, time, event, x = _stacked(sets)
    fitted = cox_one.cox_hr_many(group, time, event, x)  # all eight at once
    assert list(fitted["note"]) == [""] * 8
    for i, (t, e, xi) in enumerate(sets):
        frame = pd.DataFrame({"T": t, "E": e, "x": xi})
        summary = _lifelines_row(CoxPHFitter(), frame, duration_col="T", event_col="E")
        _assert_matches(fitted, i, summary)


def _tied_counting_process(rng, n):
    """Rows entering at 0 to 4 and leaving 1 to 9 whole units later (tied stops and entries)."""
    start = rng.integers(0, 5, n).astype(float)
    return start, start + rng.integers(1, 10, n), (rng.random(n) < 0.7).astype(float), (rng.random(n) < 0.5) * 1.0


def test_counting_process_fits_match_coxtimevaryingfitter_with_ties():
    rng, sets = np.random.default_rng(12), []
    while len(sets) < 8:
        start, stop, event, x = _tied_counting_process(rng, int(rng.integers(10, 60)))
        if min(event[x == 0].sum(), event[x == 1].sum()) > 0:
            sets.append((start, stop, event, x))
    group, start, stop, event, x = _stacked(sets)
    fitted = cox_one.fit_many(group, start, stop, event, x, rules=cox_one.TIME_VARYING)
    for i, (s0, s1, e, xi) in enumerate(sets):
        frame = pd.DataFrame({"id": np.arange(len(e)), "start": s0, "stop": s1, "event": e, "x": xi})
        summary = _lifelines_row(CoxTimeVaryingFitter(), frame, id_col="id", event_col="event", start_col="start",
                                 stop_col="stop")
        _assert_matches(fitted, i, summary)


def _switching_cohort(rng, n):
    time = rng.integers(2, 15, n).astype(float)  # whole numbers: tied deaths and switches
    return pd.DataFrame({"time": time, "death": (rng.random(n) < 0.7).astype(float),
                         "switch": rng.integers(0, 10, n).astype(float), "intends": rng.random(n) < 0.5})


def test_switch_rows_and_time_varying_fits_match_appraisal():
    rng = np.random.default_rng(13)
    cohorts = [_switching_cohort(rng, int(rng.integers(15, 50))) for _ in range(6)]
    group = np.repeat(np.arange(6), [len(c) for c in cohorts])
    both = pd.concat(cohorts)
    rows = cox_one.switch_on_rows(group, both["time"], both["death"], np.where(both["intends"], both["switch"], np.nan))
    fitted = cox_one.td_cox_many(rows["group"], rows["start"], rows["stop"], rows["event"], rows["x"])
    for i, cohort in enumerate(cohorts):
        long = appraisal.td_cox_data(cohort, "time", "death", "switch", "intends")
        mine = rows["group"] == i
        for column, name in (("start", "start"), ("stop", "stop"), ("event", "event"), ("on_treatment", "x")):
            assert long[column].tolist() == rows[name][mine].tolist()
        old = appraisal.td_cox(long)  # lifelines' CoxTimeVaryingFitter
        assert fitted["note"][i] == old["note"]
        for key in ("hr", "ci_low", "ci_high", "p"):
            assert fitted[key][i] == pytest.approx(old[key], rel=TOLERANCE, nan_ok=True)


def test_many_at_once_equal_one_at_a_time():
    sets = _estimable_sets(lambda rng: _tied_right_censored(rng, 30), 5, seed=14)
    together = cox_one.cox_hr_many(*_stacked(sets))
    for i, s in enumerate(sets):
        alone = cox_one.cox_hr_many(np.zeros(len(s[0]), int), *s)
        assert alone["hr"][0] == pytest.approx(together["hr"][i], rel=1e-12)
        assert alone["p"][0] == pytest.approx(together["p"][i], rel=1e-12)


# --- against R ---------------------------------------------------------------------------------

# Fourteen rows of ten patients (five switch to x = 1 at their first row's stop); tied deaths at 5 (three), 7 and 8.
HAND_MADE = pd.DataFrame({"start": [0, 0, 3, 0, 0, 4, 0, 0, 5, 0, 0, 0, 2, 0],
                          "stop": [2, 3, 5, 5, 4, 7, 6, 5, 8, 7, 9, 2, 5, 8],
                          "event": [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1],
                          "x": [0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0]})
# R 4, survival 3.5.3, with d <- data.frame(start = ..., stop = ..., event = ..., x = ...) as HAND_MADE:
#   fit <- coxph(Surv(start, stop, event) ~ x, data = d, ties = "efron"); s <- summary(fit)
#   sprintf("%.10g", c(coef(fit), sqrt(vcov(fit)), s$coefficients[, "Pr(>|z|)"],
#                      s$conf.int[, c("lower .95", "upper .95")]))
#   -0.2553906109  0.7398138432  0.7299370359  0.1816998555  3.302295647
#   fit2 <- coxph(Surv(stop, event) ~ x, data = d, ties = "efron")   (every row from 0: right-censored)
#   -0.4430204944  0.7181419662  0.5373018668  0.1571502564  2.623506798
R_COUNTING_PROCESS = {"coef": -0.2553906109, "se": 0.7398138432, "p": 0.7299370359, "ci_low": 0.1816998555,
                      "ci_high": 3.302295647}
R_RIGHT_CENSORED = {"coef": -0.4430204944, "se": 0.7181419662, "p": 0.5373018668, "ci_low": 0.1571502564,
                    "ci_high": 2.623506798}


@pytest.mark.parametrize("rules", [cox_one.COXPH, cox_one.TIME_VARYING])
def test_hand_made_counting_process_matches_r(rules):
    d = HAND_MADE.astype(float)
    fitted = cox_one.fit_many(np.zeros(len(d), int), d["start"], d["stop"], d["event"], d["x"], rules=rules)
    for key, value in R_COUNTING_PROCESS.items():
        assert fitted[key][0] == pytest.approx(value, rel=TOLERANCE)


def test_hand_made_right_censored_matches_r():
    d = HAND_MADE.astype(float)
    fitted = cox_one.cox_hr_many(np.zeros(len(d), int), d["stop"], d["event"], d["x"])
    for key, value in R_RIGHT_CENSORED.items():
        assert fitted[key][0] == pytest.approx(value, rel=TOLERANCE)


# --- not estimable ----------------------------------------------------------------------------

NOT_ESTIMABLE = {  # time, death, x: the Cox model of x cannot give a hazard ratio
    "no death": ([1, 2, 3, 4], [0, 0, 0, 0], [0, 1, 0, 1]),
    "one group": ([1, 2, 3, 4], [1, 0, 1, 1], [1, 1, 1, 1]),
    "a group without deaths": ([1, 2, 3, 4, 5], [1, 1, 0, 1, 0], [0, 0, 1, 0, 1]),
    "all of one group die first": ([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]),
}


@pytest.mark.parametrize("case", NOT_ESTIMABLE)
def test_not_estimable_as_cox_hr(case):
    time, death, x = (np.asarray(v, dtype=float) for v in NOT_ESTIMABLE[case])
    fitted = cox_one.cox_hr_many(np.zeros(len(time), int), time, death, x)
    cohort = pd.DataFrame({"t": time, "d": death, "g": np.where(x == 1, "a", "b")})
    old = appraisal.cox_hr(cohort, "t", "d", "g", "a", "b")
    assert np.isnan([fitted[k][0] for k in ("hr", "ci_low", "ci_high", "p")]).all() and np.isnan(old["hr"])
    assert fitted["note"][0] == old["note"] != ""


TD_NOT_ESTIMABLE = {  # time, death, switch (NaN: never)
    "no death": ([3, 4, 5], [0, 0, 0], [1, np.nan, 2]),
    "nobody switches": ([3, 4, 5], [1, 1, 0], [np.nan, 6, np.nan]),
    "no death on treatment": ([3, 4, 5, 6], [0, 1, 0, 1], [2, np.nan, 1, np.nan]),
    "all deaths before anyone switches": ([2, 3, 8, 9], [1, 1, 0, 1], [np.nan, np.nan, 5, 4]),
}


@pytest.mark.parametrize("case", TD_NOT_ESTIMABLE)
def test_not_estimable_as_td_cox(case):
    time, death, switch = (np.asarray(v, dtype=float) for v in TD_NOT_ESTIMABLE[case])
    rows = cox_one.switch_on_rows(np.zeros(len(time), int), time, death, switch)
    fitted = cox_one.td_cox_many(rows["group"], rows["start"], rows["stop"], rows["event"], rows["x"], n_sets=1)
    cohort = pd.DataFrame({"t": time, "d": death, "s": switch, "on": np.isfinite(switch)})
    old = appraisal.td_cox(appraisal.td_cox_data(cohort, "t", "d", "s", "on"))
    assert np.isnan([fitted[k][0] for k in ("hr", "ci_low", "ci_high", "p")]).all() and np.isnan(old["hr"])
    assert fitted["note"][0] == old["note"] != ""


def test_a_data_set_without_rows_is_not_estimable():
    fitted = cox_one.cox_hr_many([0, 0, 0, 0], [1, 2, 3, 4], [1, 1, 0, 1], [0, 1, 0, 1], n_sets=2)
    assert np.isfinite(fitted["hr"][0]) and np.isnan(fitted["hr"][1])
    assert list(fitted["note"]) == ["", "not estimable: fewer than two groups"]


def test_a_row_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        cox_one.fit_many([0, 0], [0, 2], [1, 2], [1, 1], [0, 1])


# --- the simulation of notebook 07 ------------------------------------------------------------

def test_immortal_time_simulation_gives_lifelines_numbers():
    """The notebook's defaults; the first five replicates refitted the lifelines way (`appraisal`)."""
    found = teaching.immortal_time_simulation(100, seed=20240621, n_patients=100, median_months=6, treated_share=0.5,
                                              delay_days=[14, 90], landmark_days=90, alpha=0.05)
    assert len(found) == 300 and found[["hr", "p"]].notna().all().all()
    rng = np.random.default_rng(20240621)
    for replicate in range(5):
        cohort = teaching.simulate_immortal_time_cohort(100, rng, 6, 0.5, [14, 90], 24.0)
        landmark, _ = appraisal.landmark_frame(cohort, "time", 90 / DAYS_PER_MONTH, "delay", "intends",
                                               labels=teaching.GROUPS)
        old = {"fixed_groups": appraisal.cox_hr(cohort, "time", "death", "group", *teaching.GROUPS),
               "time_varying_cox": appraisal.td_cox(appraisal.td_cox_data(cohort, "time", "death", "delay", "intends")),
               "landmark": appraisal.cox_hr(landmark, "lm_time", "death", "lm_group", *teaching.GROUPS)}
        rows = found[found["replicate"].eq(replicate)].set_index("method")
        one = teaching.immortal_time_estimates(cohort, 90 / DAYS_PER_MONTH)  # the same, one cohort at a time
        for method, res in old.items():
            assert rows.loc[method, "hr"] == pytest.approx(res["hr"], rel=TOLERANCE)
            assert rows.loc[method, "p"] == pytest.approx(res["p"], abs=TOLERANCE)
            assert one[method] == pytest.approx((res["hr"], res["p"]), rel=TOLERANCE)
