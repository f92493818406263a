"""Tests of src/course/teaching.py: Schoenfeld's formula by hand calculation, the immortal-time simulation by
seeded expectations (the spurious benefit of fixed groups; none with the time-varying Cox model or the landmark).

Hand calculations use z(0.975) = 1.95996, z(0.995) = 2.57583, z(0.8) = 0.84162, z(0.9) = 1.28155, ln 2 = 0.69315.
"""
import numpy as np
import pandas as pd
import pytest

from src.stats import appraisal
from src.course import teaching

# --- power and sample size --------------------------------------------------------------------


def test_events_needed_by_hand():
    # (1.95996 + 0.84162)^2 / (0.25 * 0.69315^2) = 7.84886 / 0.120113 = 65.35 -> 66
    assert teaching.events_needed(0.5) == 66
    assert teaching.events_needed(2.0) == 66  # the same effect the other way round
    # alpha 0.01: (2.57583 + 0.84162)^2 / 0.120113 = 11.6790 / 0.120113 = 97.23 -> 98
    assert teaching.events_needed(0.5, alpha=0.01) == 98
    # 2:1 allocation, s = 2/3: 7.84886 / (2/9 * 0.480453) = 73.51 -> 74
    assert teaching.events_needed(0.5, allocation=2 / 3) == 74
    # HR 0.7, power 0.9: (1.95996 + 1.28155)^2 / (0.25 * 0.356675^2) = 10.5074 / 0.0318043 = 330.38 -> 331
    assert teaching.events_needed(0.7, power=0.9) == 331
    assert teaching.events_needed(1.0) is None and teaching.events_needed(np.nan) is None


def test_events_needed_rounds_up_appraisal_deaths_needed():
    for hr in (0.3, 0.45, 0.6, 1.7):
        d = appraisal.deaths_needed(hr)
        assert teaching.events_needed(hr) == int(np.ceil(d)) and teaching.events_needed(hr) - d < 1


def test_power_table_holds_the_reference_row():
    table = teaching.power_table([0.5, 0.7], alphas=[0.05], powers=[0.8, 0.9], allocations=[0.5])
    assert list(table.columns) == ["hr", "alpha", "power", "allocation", "events_needed"]
    assert len(table) == 4
    row = table[(table["hr"] == 0.5) & (table["alpha"] == 0.05) & (table["power"] == 0.8) & (table["allocation"] == 0.5)]
    assert row["events_needed"].tolist() == [66]
    assert table.set_index(["hr", "power"]).loc[(0.7, 0.9), "events_needed"] == 331


def test_power_for_events_by_hand():
    # 66 deaths, HR 0.5, 1:1: Phi(sqrt(0.25 * 66) * 0.69315 - 1.95996) = Phi(0.85561) = 0.80389
    assert teaching.power_for_events(0.5, 66) == pytest.approx(0.80389, abs=1e-4)
    # the formula inverted: the unrounded deaths give exactly the power asked for
    assert teaching.power_for_events(0.6, appraisal.deaths_needed(0.6, power=0.9)) == pytest.approx(0.9, abs=1e-9)
    # no effect: only the tail on the side counted, alpha / 2
    assert teaching.power_for_events(1.0, 50) == pytest.approx(0.025, abs=1e-12)
    assert np.isnan(teaching.power_for_events(0.5, 0)) and np.isnan(teaching.power_for_events(np.nan, 30))
    curve = teaching.power_curve(66, [0.5, 1.0])
    assert curve["power"].tolist() == pytest.approx([0.80389, 0.025], abs=1e-4)


def test_patients_needed_by_hand():
    assert teaching.patients_needed(66, 0.74) == 90  # 66 / 0.74 = 89.19 -> 90
    assert teaching.patients_needed(66, 1.0) == 66
    assert teaching.patients_needed(66, 0.0) is None and teaching.patients_needed(None, 0.5) is None


# --- immortal time, seen ---------------------------------------------------------------------


def test_simulated_cohort_groups_follow_survival_to_the_start():
    cohort = teaching.simulate_immortal_time_cohort(2000, np.random.default_rng(1), delay_days=(14, 90))
    days = cohort["delay"] * teaching.DAYS_PER_MONTH
    assert days.round(6).between(14, 90).all() and np.allclose(days, days.round())
    assert (cohort["treated"] == (cohort["intends"] & (cohort["time"] > cohort["delay"]))).all()
    assert cohort["group"].eq("treated").eq(cohort["treated"]).all()
    # the treatment does nothing: survival does not depend on who would take it (median 6 months)
    uncensored = cohort["death"].eq(1)
    assert uncensored.mean() > 0.9
    for intends in (True, False):
        t = cohort.loc[cohort["intends"].eq(intends), "time"]
        assert t.median() == pytest.approx(6.0, rel=0.12)


def test_same_seed_same_numbers():
    a = teaching.immortal_time_simulation(4, seed=7, n_patients=60)
    b = teaching.immortal_time_simulation(4, seed=7, n_patients=60)
    c = teaching.immortal_time_simulation(4, seed=8, n_patients=60)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["hr"], c["hr"])
    assert list(a.columns) == ["replicate", "method", "hr", "p"] and len(a) == 12


@pytest.fixture(scope="module")
def notebook_default_summary():
    """The notebook's defaults (IMMORTAL_* parameters of notebook 07): 100 cohorts of 100 patients, seed 20240621."""
    estimates = teaching.immortal_time_simulation(100, seed=20240621, n_patients=100, median_months=6,
                                                  treated_share=0.5, delay_days=(14, 90), landmark_days=90)
    return teaching.immortal_time_summary(estimates).set_index("method")


def test_fixed_groups_find_a_spurious_benefit(notebook_default_summary):
    s = notebook_default_summary
    assert list(s.index) == ["fixed_groups", "time_varying_cox", "landmark"]
    assert (s["replicates"] == 100).all() and (s["true_hr"] == 1).all()
    assert s.loc["fixed_groups", "median_hr"] < 0.85
    low, high = teaching.binomial_band(0.05, 100)
    assert s.loc["fixed_groups", "share_p_below_0_05"] > high + 0.1


def test_time_varying_and_landmark_find_none(notebook_default_summary):
    s = notebook_default_summary
    low, high = teaching.binomial_band(0.05, 100, level=0.99)  # 0 to 11 of 100 cohorts by chance alone
    assert (low, high) == (0.0, 0.11)
    for method in ("time_varying_cox", "landmark"):
        assert s.loc[method, "median_hr"] == pytest.approx(1.0, abs=0.1)
        assert low <= s.loc[method, "share_p_below_0_05"] <= high


def test_summary_by_hand():
    estimates = pd.DataFrame({"replicate": [0, 0, 0, 1, 1, 1, 2, 2, 2],
                              "method": list(teaching.IMMORTAL_TIME_METHODS) * 3,
                              "hr": [0.5, 1.0, 1.2, 0.7, 0.9, np.nan, 0.6, 1.1, 1.0],
                              "p": [0.01, 0.5, 0.6, 0.04, 0.7, np.nan, 0.2, 0.3, 0.03]})
    s = teaching.immortal_time_summary(estimates).set_index("method")
    assert s.loc["fixed_groups", "median_hr"] == 0.6 and s.loc["fixed_groups", "share_p_below_0_05"] == pytest.approx(2 / 3)
    assert s.loc["landmark", "replicates"] == 2 and s.loc["landmark", "median_hr"] == pytest.approx(1.1)
    assert s.loc["landmark", "share_p_below_0_05"] == 0.5


# --- further reading -------------------------------------------------------------------------


def test_every_notebook_ends_with_further_reading():
    """Notebooks 01-10 each close (last Markdown cell) with "## Further reading": three to six references, each
    with a year and a line on why to read it."""
    import re
    from pathlib import Path

    import nbformat

    notebooks = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[01][0-9]_*.ipynb"))
    assert len(notebooks) == 10
    for path in notebooks:
        markdown = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
        last = markdown[-1].source
        assert last.startswith("## Further reading"), path.name
        items = [line[2:] for line in last.splitlines() if line.startswith("- ")]
        assert 3 <= len(items) <= 6, (path.name, len(items))
        for item in items:
            assert re.search(r"\b(19|20)\d\d\b", item) or "version" in item, (path.name, item)
            assert re.search(r"\.\s+[A-Z][^.]+\.$", item), (path.name, item)  # ends with a sentence on why
