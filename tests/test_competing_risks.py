"""Tests of src/stats/competing.py: Aalen-Johansen cumulative incidence with R's survfit variance and intervals.

Reference values from R 4.2.2 with survival 3.5.3, printed by `Rscript tests/r/competing_risks.R` and
typed in: `survfit(Surv(time, event_factor) ~ 1)` (infinitesimal-jackknife standard errors, "log"
intervals) on the bundled synthetic cohort (first HAIC session to progression or death without it) and on
R's `mgus2` (tests/r/mgus2.csv, written by that script). Agreement to 3 decimals.
"""
import numpy as np
import pandas as pd
import pytest

from src.stats import competing
from src import helpers

CLOSE = {"abs": 5e-4}
MONTHS = [3, 6, 12, 24]


def _bundled():
    return competing.first_event_frame(helpers.load_cohort(helpers.ROOT / "data"), "months")


def test_first_event_frame_of_the_bundled_cohort():
    # R: table(event): censored 6, progression 41, death_without_progression 20
    f = _bundled()
    assert len(f) == 67 and f["patient_id"].is_unique
    assert f["event"].value_counts().to_dict() == {1: 41, 2: 20, 0: 6}
    assert (f["time"] > 0).all()


def test_bundled_cif_equals_r():
    # summary(fit, times = c(3, 6, 12, 24)): pstate, lower, upper of progression then of death without progression
    r = {"progression": [(0.4735096448, 0.3665384442, 0.6116995017), (0.5973897283, 0.4892474095, 0.7294356201),
                         (0.6283597492, 0.5211166469, 0.7576729257), (0.6283597492, 0.5211166469, 0.7576729257)],
         "death_without_progression": [(0.03097002090, 0.00791622303, 0.1211615932),
                                       (0.07742505224, 0.03337067157, 0.1796379405),
                                       (0.10839507314, 0.05387227065, 0.2180990654),
                                       (0.17152626958, 0.10017511235, 0.2936983095)]}
    f = _bundled()
    got = competing.cumulative_incidence(f["time"], f["event"], at=MONTHS, labels=competing.EVENTS)
    for event, rows in r.items():
        mine = got[got["event"] == event]
        assert mine["time"].tolist() == MONTHS
        assert mine[["cif", "lower", "upper"]].to_numpy() == pytest.approx(np.array(rows), **CLOSE), event


def test_textbook_mgus2_equals_r():
    # mgus2 (1384 patients, many ties): progression, then death without progression, at 12, 60, 120, 240 months
    r = {1: [(0.009401259345, 0.005472899208, 0.01614933400), (0.034103712974, 0.025749551974, 0.04516829030),
             (0.063722168013, 0.051700906076, 0.07853855966), (0.099813715935, 0.082365627974, 0.12095795460)],
         2: [(0.1221854028, 0.1060893917, 0.1407235203), (0.3203670103, 0.2966585132, 0.3459702544),
             (0.5318177041, 0.5049630575, 0.5601005186), (0.7240279761, 0.6940772184, 0.7552711663)]}
    m = pd.read_csv(helpers.ROOT / "tests" / "r" / "mgus2.csv")
    got = competing.cumulative_incidence(m["etime"], m["status"], at=[12, 60, 120, 240])
    for event, rows in r.items():
        assert got.loc[got["event"] == event, ["cif", "lower", "upper"]].to_numpy() == pytest.approx(np.array(rows), **CLOSE)


def test_one_minus_km_overstates_the_cif():
    # R, survfit(Surv(time, status == 1) ~ 1, conf.type = "log-log"): 1 - S at 3, 6, 12, 24 months
    # 0.4804801053 0.6163082053 0.6528502810 0.6528502810 (lifelines' Kaplan-Meier gives the same)
    from lifelines import KaplanMeierFitter

    f = _bundled()
    km = KaplanMeierFitter().fit(f["time"], f["event"] == 1)
    one_minus = 1 - km.survival_function_at_times(MONTHS).to_numpy()
    assert one_minus == pytest.approx([0.4804801053, 0.6163082053, 0.6528502810, 0.6528502810], **CLOSE)
    cif = competing.cumulative_incidence(f["time"], f["event"], at=MONTHS, labels=competing.EVENTS)
    assert (one_minus > cif.loc[cif["event"] == "progression", "cif"].to_numpy()).all()


def test_cifs_and_event_free_add_up_to_one():
    from lifelines import KaplanMeierFitter

    f = _bundled()
    cif = competing.cumulative_incidence(f["time"], f["event"], at=MONTHS)
    total = cif.groupby("time")["cif"].sum().to_numpy()
    event_free = KaplanMeierFitter().fit(f["time"], f["event"] > 0).survival_function_at_times(MONTHS).to_numpy()
    assert total + event_free == pytest.approx(1.0, abs=1e-12)


def test_without_competing_events_the_cif_is_one_minus_km():
    # one event type only: the Aalen-Johansen estimate is 1 - Kaplan-Meier (the estimate; the variances differ)
    from lifelines import KaplanMeierFitter

    t = np.array([1, 2, 2, 3, 4, 5, 6, 7], float)
    e = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    cif = competing.cumulative_incidence(t, e, at=[1, 2, 3, 5, 8])
    km = KaplanMeierFitter().fit(t, e).survival_function_at_times([1, 2, 3, 5, 8]).to_numpy()
    assert cif["cif"].to_numpy() == pytest.approx(1 - km)


def test_curve_starts_at_zero_and_limits_are_nan_there():
    f = _bundled()
    curves = competing.cumulative_incidence(f["time"], f["event"], labels=competing.EVENTS)
    first = curves.groupby("event").head(1)
    assert (first["time"] == 0).all() and (first["cif"] == 0).all() and first["lower"].isna().all()
    assert (curves["upper"].dropna() <= 1).all()
