"""Unit tests for the audit (src/paper/audit.py and its checks, src/paper/audit_*.py): every check on a small
constructed table of published numbers, once where it must fire and once where it must not, with reference
values computed by hand; then the known findings on the real data/published_results.csv."""
from math import comb

import pandas as pd
import pytest
from scipy import stats

from src.paper import audit, audit_text


def make_pub(values: dict) -> pd.DataFrame:
    """A table shaped like `audit.published_by_id()`: index id; `value` (float), `printed`
    (str), `decimals`, `relation`. Values are printed strings, or (printed, decimals) /
    (printed, decimals, relation) tuples; decimals default to those of the string."""
    rows = []
    for i, v in values.items():
        printed, decimals, relation = (tuple(v) + (None, "="))[:3] if isinstance(v, tuple) else (str(v), None, "=")
        if decimals is None:
            decimals = len(printed.split(".")[1]) if "." in printed else 0
        rows.append({"id": i, "value": float(printed), "printed": printed, "decimals": decimals, "relation": relation})
    return pd.DataFrame(rows, columns=["id", "value", "printed", "decimals", "relation"]).set_index("id")


def only(findings, check=None) -> dict:
    """The single finding (of `check`, if given) of a list of findings."""
    findings = [f for f in findings if check is None or f["check"] == check]
    assert len(findings) == 1, findings
    return findings[0]


def fisher_by_hand(table) -> float:
    """Two-sided Fisher p by summing hypergeometric probabilities (independent of scipy):
    P(a) = C(r1, a) C(r2, c1 - a) / C(n, c1); add every P(a) <= P(observed)."""
    (a, b), (c, d) = table
    r1, r2, c1, n = a + b, c + d, a + c, a + b + c + d
    probs = {x: comb(r1, x) * comb(r2, c1 - x) / comb(n, c1) for x in range(max(0, c1 - r2), min(r1, c1) + 1)}
    return sum(p for p in probs.values() if p <= probs[a] * (1 + 1e-9))


# --- percentages, means and counts -----------------------------------------

def test_percent_vs_count():
    # 3 of 10 patients = 30.0%; the Methods-style percentage of a Table 1 count
    ok = only(audit.percent_vs_count(make_pub({"flow_n_total": "10", "t1_cp_a": "3", "m_cp_a_pct": "30.0"})))
    assert ok["consistent"] and ok["implied"] == "3/10 = 30.00%"
    # 33.3% cannot be 3 of 10 (nor any whole number of 10: 30% and 40% bracket it)
    bad = only(audit.percent_vs_count(make_pub({"flow_n_total": "10", "t1_cp_a": "3", "m_cp_a_pct": "33.3"})))
    assert not bad["consistent"] and "no whole number" in bad["reason"]


def test_percent_vs_count_disease_control_rate_and_sessions():
    # DCR = (CR+PR+SD)/n = (1+1+1)/10 = 30.0%; sessions: 4 of 10 patients with 2 sessions = 40.0%
    base = {"flow_n_total": "10", "r_response_cr": "1", "r_response_pr": "1", "r_response_sd": "1",
            "r_sessions_2_n": "4"}
    good = audit.percent_vs_count(make_pub({**base, "r_dcr_pct": "30.0", "r_sessions_2_pct": "40.0"}))
    assert [f["consistent"] for f in good] == [True, True]
    bad = audit.percent_vs_count(make_pub({**base, "r_dcr_pct": "20.0", "r_sessions_2_pct": "45.0"}))
    assert [f["consistent"] for f in bad] == [False, False]
    assert "2 patients would give it" in bad[0]["reason"]  # 2/10 = 20.0%


def test_percent_integer_count():
    # 1/7 = 14.2857% prints as 14.3; 15.0% lies between 1/7 = 14.29% and 2/7 = 28.57%: no whole count
    ok = only(audit.percent_integer_count(make_pub({"flow_n_total": "7", "r_tox_x_pct": "14.3"})))
    assert ok["consistent"] and ok["implied"] == "1/7"
    bad = only(audit.percent_integer_count(make_pub({"flow_n_total": "7", "r_tox_x_pct": "15.0"})))
    assert not bad["consistent"]
    assert audit.unreproducible(make_pub({"flow_n_total": "7", "r_tox_x_pct": "15.0"})) == {"r_tox_x_pct": bad["reason"]}


def test_mean_integer_count_grim():
    # GRIM: the mean of 10 whole numbers is a multiple of 0.1; 2.25 needs a total in [22.45, 22.55]: none
    bad = only(audit.mean_integer_count(make_pub({"flow_n_total": "10", "t1_age_mean": "2.25"})))
    assert not bad["consistent"]
    # 2.30 = 23/10
    ok = only(audit.mean_integer_count(make_pub({"flow_n_total": "10", "t1_age_mean": "2.30"})))
    assert ok["consistent"] and ok["implied"] == "total 23"


def test_breakdown_vs_total():
    ok = only(audit.breakdown_vs_total(make_pub({"flow_n_total": "10", "t1_sex_male": "6", "t1_sex_female": "4"})))
    assert ok["consistent"] and ok["printed"] == "6 + 4"
    pub = make_pub({"flow_n_total": "10", "t1_sex_male": "6", "t1_sex_female": "3"})  # 6 + 3 = 9, not 10
    bad = only(audit.breakdown_vs_total(pub))
    assert not bad["consistent"] and "= 9" in bad["reason"]
    assert list(audit.unreproducible(pub)) == ["flow_n_total"]


def test_breakdown_flow_diagram():
    # Figure 1: PD 5 = excluded 1 + SPP 4; SPP 4 = sorafenib 2 + other 2
    pub = make_pub({"r_response_pd": "5", "flow_n_cp_excluded": "1", "flow_n_spp": "4",
                    "flow_n_sorafenib": "2", "flow_n_other": "2"})
    assert [f["consistent"] for f in audit.breakdown_vs_total(pub)] == [True, True]
    pub = make_pub({"r_response_pd": "5", "flow_n_cp_excluded": "2", "flow_n_spp": "4",
                    "flow_n_sorafenib": "2", "flow_n_other": "2"})
    assert [f["consistent"] for f in audit.breakdown_vs_total(pub)] == [False, True]


def test_count_above_vs_median():
    # n = 5, median 600 > 500: the 3rd, 4th and 5th values are >= 600, so at least 3 lie above 500;
    # the minimum 10 <= 500, so at most 4 do
    base = {"flow_n_total": "5", "t1_afp_median": "600", "t1_afp_min": "10", "t1_afp_max": "900"}
    assert only(audit.count_above_vs_median(make_pub({**base, "t1_afp_gt500": "3"})))["implied"] == "3-4"
    assert only(audit.count_above_vs_median(make_pub({**base, "t1_afp_gt500": "3"})))["consistent"]
    assert not only(audit.count_above_vs_median(make_pub({**base, "t1_afp_gt500": "2"})))["consistent"]
    assert not only(audit.count_above_vs_median(make_pub({**base, "t1_afp_gt500": "5"})))["consistent"]


def test_summary_within_range():
    base = {"t1_alt_min": "16", "t1_alt_max": "332"}
    assert only(audit.summary_within_range(make_pub({**base, "t1_alt_median": "54"})))["consistent"]
    assert not only(audit.summary_within_range(make_pub({**base, "t1_alt_median": "400"})))["consistent"]
    group = {"t2_age_median_sor": "75", "t2_age_min_sor": "80", "t2_age_max_sor": "84"}  # median below the minimum
    assert not only(audit.summary_within_range(make_pub(group)))["consistent"]


# --- Figure 1 eras and sessions -------------------------------------------

def test_flow_era_totals():
    # 4 + 4 = 8 HAIC patients in the two era boxes, 5 in the text: keep 4 before 2009, so 5 - 4 = 1 after
    pub = make_pub({"flow_n_haic_2005_2008": "4", "flow_n_haic_from_2009": "4", "flow_n_other_haic": "5"})
    bad = only(audit.flow_era_totals(pub))
    assert not bad["consistent"] and bad["correction"] == "flow_n_haic_from_2009=1"
    assert audit.best_reading(pub) == {"flow_n_haic_from_2009": 1.0}
    pub = make_pub({"flow_n_haic_2005_2008": "4", "flow_n_haic_from_2009": "1", "flow_n_other_haic": "5"})
    assert only(audit.flow_era_totals(pub))["consistent"]


SESSIONS = {"r_sessions_1_n": "2", "r_sessions_3_n": "1", "r_sessions_min": "1", "r_sessions_max": "3"}


def test_sessions_total_and_mean():
    # 2 patients x 1 session + 1 patient x 3 sessions = 5 sessions; mean 5/3 = 1.67, printed 1.7
    found = audit.sessions_total(make_pub({**SESSIONS, "r_sessions_total": "5", "r_sessions_mean": "1.7"}))
    assert [f["consistent"] for f in found] == [True, True]
    pub = make_pub({**SESSIONS, "r_sessions_total": "4", "r_sessions_mean": "1.3"})  # 4/3 = 1.33: the wrong total
    found = audit.sessions_total(pub)
    assert [f["consistent"] for f in found] == [False, False]
    assert found[0]["implied"] == "5" and found[1]["implied"] == "1.67"
    assert {"r_sessions_total", "r_sessions_mean"} <= set(audit.unreproducible(pub))


def test_sessions_range():
    assert only(audit.sessions_range(make_pub(SESSIONS)))["consistent"]
    assert not only(audit.sessions_range(make_pub({**SESSIONS, "r_sessions_max": "4"})))["consistent"]


# --- Table 2: Fisher and chi-square ----------------------------------------

def test_fisher_hand_value():
    # [[1,4],[4,1]]: margins 5,5 / 5,5, n = 10; P(a) = C(5,a) C(5,5-a) / C(10,5) = C(5,a)^2 / 252, i.e.
    # (1, 25, 100, 100, 25, 1)/252 for a = 0..5; two-sided: P(a) <= P(1) = 25/252 for a = 0, 1, 4, 5:
    # (1 + 25 + 25 + 1)/252 = 52/252 = 0.2063
    assert audit.fisher_p([[1, 4], [4, 1]]) == pytest.approx(52 / 252)
    assert fisher_by_hand([[1, 4], [4, 1]]) == pytest.approx(52 / 252)


def test_categorical_p_values_hand_values():
    # expected counts 2.5 in every cell; Pearson X2 = 4 x 1.5^2 / 2.5 = 3.6, p = P(chi2_1 > 3.6) = 0.0578;
    # Yates: 4 x (1.5 - 0.5)^2 / 2.5 = 1.6, p = P(chi2_1 > 1.6) = 0.2059
    p = audit.categorical_p_values([[1, 4], [4, 1]])
    assert p["chi2"] == pytest.approx(stats.chi2.sf(3.6, 1)) and round(p["chi2"], 4) == 0.0578
    assert p["chi2_yates"] == pytest.approx(stats.chi2.sf(1.6, 1)) and round(p["chi2_yates"], 4) == 0.2059


T2 = {"flow_n_sorafenib": "5", "flow_n_other": "5", "t2_sex_male_sor": "1", "t2_sex_female_sor": "4",
      "t2_sex_male_oth": "4", "t2_sex_female_oth": "1"}


def test_table2_p_vs_tests():
    # 0.206: Fisher (0.2063) and Yates (0.2059) reproduce it, Pearson (0.0578) does not
    ok = only(audit.table2_p_vs_tests(make_pub({**T2, "t2_sex_p": "0.206"})))
    assert ok["consistent"] and "Fisher" in ok["reason"] and "Yates" in ok["reason"]
    assert "without correction" not in ok["reason"]
    chi = only(audit.table2_p_vs_tests(make_pub({**T2, "t2_sex_p": "0.058"})))  # only Pearson's chi-square
    assert chi["consistent"] and "without correction" in chi["reason"] and "Fisher" not in chi["reason"]
    bad = only(audit.table2_p_vs_tests(make_pub({**T2, "t2_sex_p": "0.500"})))
    assert not bad["consistent"]
    assert list(audit.unreproducible(make_pub({**T2, "t2_sex_p": "0.500"}))) == ["t2_sex_p"]


def test_table2_completions():
    # complete rows: no finding
    assert audit.table2_completions(make_pub({**T2, "t2_sex_p": "0.206"})) == []
    # sorafenib row 1 + 3 = 4 of 5: adding the missing patient gives [[2,3],[4,1]] or [[1,4],[4,1]].
    # [[2,3],[4,1]]: margins 5,5 / 6,4; C(6,a) C(4,5-a) = 6, 60, 120, 60, 6 for a = 1..5 (sum 252);
    # P(2) = 60/252 and the two-sided p is (6+60+60+6)/252 = 0.524; [[1,4],[4,1]] gives 0.206 (above)
    pub = make_pub({**T2, "t2_sex_female_sor": "3", "t2_sex_p": "0.206"})
    assert fisher_by_hand([[2, 3], [4, 1]]) == pytest.approx(132 / 252)
    found = only(audit.table2_completions(pub))
    assert not found["consistent"] and found["correction"] == "t2_sex_female_sor=4"
    assert audit.best_reading(pub) == {"t2_sex_female_sor": 4.0}
    # the p check then finds Fisher on the completed counts
    assert "completed counts" in only(audit.table2_p_vs_tests(pub))["reason"]


# --- Cox: HR, CI, Wald p and direction ----------------------------------------

def test_wald_p_from_ci_hand_value():
    # HR 2, CI 1-4: SE = (ln 4 - ln 1) / (2 x 1.96) = 1.3863 / 3.92 = 0.3537; z = ln 2 / SE = 0.6931 / 0.3537
    # = 1.96, so p = 0.05 exactly (a CI that touches 1 has p = 0.05)
    assert audit.wald_p_from_ci(2.0, 1.0, 4.0) == pytest.approx(0.05)
    # HR 1.884, CI 0.793-4.476: SE = (1.4987 + 0.2319) / 3.92 = 0.4415, z = 0.6334 / 0.4415 = 1.435, p = 0.151
    assert audit.wald_p_from_ci(1.884, 0.793, 4.476) == pytest.approx(0.1514, abs=1e-4)
    lo, hi = audit.wald_p_range(2.0, 1.0, 4.0)
    assert lo <= 0.05 <= hi and hi - lo < 0.002


COX = {"t3_multi_hr_x": "2.000", "t3_multi_ci_low_x": "1.000", "t3_multi_ci_high_x": "4.000"}


def test_cox_hr_vs_ci_and_p():
    found = audit.cox_consistency(make_pub({**COX, "t3_multi_p_x": "0.050"}))
    assert [(f["check"], f["consistent"]) for f in found] == [("cox_hr_vs_ci", True), ("cox_p_vs_ci", True)]
    pub = make_pub({**COX, "t3_multi_hr_x": "2.500", "t3_multi_p_x": "0.010"})  # sqrt(1 x 4) = 2, not 2.5
    found = audit.cox_consistency(pub)
    assert [f["consistent"] for f in found] == [False, False]
    assert list(audit.unreproducible(pub)) == ["t3_multi_p_x"]  # the p, not the HR or CI


def test_hr_direction_vs_text():
    # the text: sorafenib does better, so 'Sorafenib (yes vs. no)' must have HR < 1
    cox = {"t3_multi_hr_sorafenib": "0.500", "t3_multi_ci_low_sorafenib": "0.250", "t3_multi_ci_high_sorafenib": "1.000"}
    assert only(audit.hr_direction_vs_text(make_pub(cox)))["consistent"]
    cox = {"t3_multi_hr_sorafenib": "2.000", "t3_multi_ci_low_sorafenib": "1.000", "t3_multi_ci_high_sorafenib": "4.000"}
    bad = only(audit.hr_direction_vs_text(make_pub(cox)))
    assert not bad["consistent"] and "'no vs. yes'" in bad["implied"]
    assert "0.500, 95% CI 0.250-1.000" in bad["reason"]  # 1/2 and 1/4-1/1
    assert audit.unreproducible(make_pub(cox)) == {}  # a label, not a number
    # the text: absence of ascites does better, so 'Ascites (yes vs. no)' must have HR > 1
    asc = {"t3_multi_hr_ascites": "2.000", "t3_multi_ci_low_ascites": "1.000", "t3_multi_ci_high_ascites": "4.000"}
    assert only(audit.hr_direction_vs_text(make_pub(asc)))["consistent"]
    asc = {"t3_multi_hr_ascites": "0.500", "t3_multi_ci_low_ascites": "0.250", "t3_multi_ci_high_ascites": "1.000"}
    assert not only(audit.hr_direction_vs_text(make_pub(asc)))["consistent"]


def test_hr_direction_uses_printed_medians():
    labels = {"x": {"label": "X (yes vs. no)", "compared": "yes", "reference": "no", "better": "yes",
                    "source": "Table", "text": "text", "medians": ("m_yes", "m_no")}}
    pub = make_pub({"t3_multi_hr_x": "2.000", "t3_multi_ci_low_x": "1.000", "t3_multi_ci_high_x": "4.000",
                    "m_yes": "5.5", "m_no": "3.8"})
    bad = only(audit.hr_direction_vs_text(pub, labels))
    assert not bad["consistent"] and "also say that yes does better" in bad["reason"]


# --- survival ---------------------------------------------------------------

def test_median_vs_landmark():
    # median 7.8 < 12 months: the curve has reached 50% before 12 months, so S(12) <= 50%
    assert only(audit.median_vs_landmark(make_pub({"os_median_all": "7.8", "os_1y_pct": "41.7"})))["consistent"]
    assert not only(audit.median_vs_landmark(make_pub({"os_median_all": "7.8", "os_1y_pct": "55.0"})))["consistent"]
    # median 13.0 > 12 months: S(12) > 50%
    assert not only(audit.median_vs_landmark(make_pub({"os_median_all": "13.0", "os_1y_pct": "41.7"})))["consistent"]


def test_landmarks_decreasing():
    assert only(audit.landmarks_decreasing(make_pub({"os_1y_pct": "41.7", "os_2y_pct": "27.1"})))["consistent"]
    assert not only(audit.landmarks_decreasing(make_pub({"os_1y_pct": "41.7", "os_2y_pct": "45.0"})))["consistent"]


def test_landmark_vs_group_medians():
    # 10 patients: 4 with a median of 20 months (> 12: more than 2 alive at 12), 6 with a median of 5 (at most 3
    # alive): S(12) between 2/10 = 20% and (10 - 3)/10 = 70%
    base = {"flow_n_total": "10", "os_median_dc": "20.0", "flow_n_disease_control": "4",
            "os_median_pd": "5.0", "r_response_pd": "6"}
    ok = only(audit.landmark_vs_group_medians(make_pub({**base, "os_1y_pct": "41.7"})))
    assert ok["consistent"] and ok["implied"] == "20.0%-70.0%"
    assert not only(audit.landmark_vs_group_medians(make_pub({**base, "os_1y_pct": "10.0"})))["consistent"]
    assert not only(audit.landmark_vs_group_medians(make_pub({**base, "os_1y_pct": "80.0"})))["consistent"]


def test_spp_over_os_ratio():
    # 'about 80%' (75-85%) of a median OS with median SPP 5.5: OS 5.5/0.85 = 6.5 to 5.5/0.75 = 7.3 months,
    # OS - SPP = 1.0-1.8 months, after the first assessment at 4 weeks = 28/30.4375 = 0.92 months
    ok = only(audit.spp_over_os_ratio(make_pub({"spp_over_os_median_sor_pct": ("80", -1), "spp_median_sor": "5.5"})))
    assert ok["consistent"] and "6.5-7.3" in ok["implied"]
    # 'about 95%' (90-100%): OS - SPP at most 5.5/0.9 - 5.5 = 0.61 months, before the first assessment
    bad = only(audit.spp_over_os_ratio(make_pub({"spp_over_os_median_sor_pct": ("95", -1), "spp_median_sor": "5.5"})))
    assert not bad["consistent"]


def test_spp_median_vs_os_median():
    # both groups (19 each) have a median SPP beyond the progressors' median OS 5.4: at least 10 + 10 = 20
    # alive at 5.4 months, but at most 38 // 2 = 19 of 38 progressors can be
    base = {"spp_median_sor": "6.0", "flow_n_sorafenib": "19", "flow_n_other": "19",
            "os_median_pd": "5.4", "r_response_pd": "38"}
    assert not only(audit.spp_median_vs_os_median(make_pub({**base, "spp_median_oth": "6.0"})))["consistent"]
    ok = only(audit.spp_median_vs_os_median(make_pub({**base, "spp_median_oth": "3.8"})))  # only 10 needed
    assert ok["consistent"] and ok["implied"] == "at least 10 alive at 5.4 months, at most 19 allowed"


# --- the same number in several places; claims of the text ----------------------

def test_same_number_in_several_places():
    pub = make_pub({"flow_n_bsc_before_2009": "6", "flow_n_bsc_2005_2008": "6"})
    assert only(audit.same_number_in_several_places(pub))["consistent"]
    pub = make_pub({"flow_n_bsc_before_2009": "6", "flow_n_bsc_2005_2008": "5"})
    assert not only(audit.same_number_in_several_places(pub))["consistent"]
    assert list(audit.unreproducible(pub)) == ["flow_n_bsc_before_2009"]


def test_significance_vs_text():
    assert only(audit.significance_vs_text(make_pub({"spp_logrank_p": "0.041"})))["consistent"]
    assert not only(audit.significance_vs_text(make_pub({"spp_logrank_p": "0.061"})))["consistent"]
    assert only(audit.significance_vs_text(make_pub({"os_logrank_p_dc_vs_pd": ("0.001", 3, "<")})))["consistent"]
    # Table 2: 'no significant differences'
    assert only(audit.significance_vs_text(make_pub({"t2_a_p": "0.300", "t2_b_p": "0.660"})))["consistent"]
    bad = only(audit.significance_vs_text(make_pub({"t2_a_p": "0.300", "t2_b_p": "0.030"})))
    assert not bad["consistent"] and "t2_b_p" in bad["reason"]
    assert audit.unreproducible(make_pub({"t2_a_p": "0.300", "t2_b_p": "0.030"})) == {}


def test_multivariate_entry_rule():
    base = {"t3_uni_p_tbil": "0.031", "t3_multi_hr_tbil": "1.884"}
    assert only(audit.multivariate_entry_rule(make_pub({**base, "t3_uni_p_age": "0.325"})))["consistent"]
    assert not only(audit.multivariate_entry_rule(make_pub({**base, "t3_uni_p_age": "0.010"})))["consistent"]


# --- labels and units -------------------------------------------------------------

def test_axis_label_vs_definition():
    found = audit.axis_label_vs_definition(make_pub({"flow_n_total": "67"}))
    assert [f["consistent"] for f in found] == [True, False]  # Figure 2A fine, Figure 2B counts from HAIC
    axes = {"Figure 2B": {"printed": "Months from progression", "origin": "radiological progression",
                          "endpoint": "survival post-progression"}}
    assert only(audit.axis_label_vs_definition(make_pub({"flow_n_total": "67"}), axes))["consistent"]


def test_child_pugh_label_vs_text():
    # grade C = scores 10-15 (A 5-6, B 7-9), the text excludes 9-15: they differ on score 9 (grade B)
    assert audit_text._excluded_scores(("grade", "C")) == set(range(10, 16))
    bad = only(audit.child_pugh_label_vs_text(make_pub({"flow_n_total": "67"})))
    assert not bad["consistent"] and "score 9 (grade B)" in bad["reason"]
    same = {w: {"printed": w, "excluded": ("score_at_least", 9)} for w in ("Figure 1", "Results")}
    assert only(audit.child_pugh_label_vs_text(make_pub({"flow_n_total": "67"}), same))["consistent"]


def test_unit_vs_magnitude():
    # 12.0 x 10^4 per litre = 120,000 / 1,000,000 = 0.12 platelets per microlitre: impossible;
    # 12.0 x 10^4 per microlitre = 120,000/uL: a usual count in cirrhosis
    pub = make_pub({"t1_plt_median": "12.0", "t1_plt_min": "3.5", "t1_plt_max": "47.1"})
    bad = only(audit.unit_vs_magnitude(pub))
    assert not bad["consistent"] and bad["implied"].startswith("unit 10^4/uL")
    units = {"Table 1": {"printed": "Platelet count (10^4/uL)", "unit": "10^4/uL",
                         "ids": ["t1_plt_median", "t1_plt_min", "t1_plt_max"]}}
    assert only(audit.unit_vs_magnitude(pub, units))["consistent"]
    assert audit.unreproducible(pub) == {}


# --- the whole audit ----------------------------------------------------------------

def test_run_audit_on_a_table_without_known_ids():
    findings = audit.run_audit(make_pub({"something_else": "1"}))
    assert list(findings.columns) == ["check", "ids", "printed", "implied", "correction", "consistent", "reason"]
    assert set(findings["check"]) == {"axis_label_vs_definition", "child_pugh_label_vs_text"}  # text-only checks
    assert set(findings["check"]) <= set(audit.CHECK_GROUPS)
    assert audit.run_audit(audit.empty_published()).empty  # no published numbers: no finding at all
    assert audit.best_reading(audit.empty_published()) == {} and audit.unreproducible(audit.empty_published()) == {}


def test_write_audit(tmp_path):
    out = tmp_path / "audit.csv"
    findings = audit.write_audit(out, make_pub({**COX, "t3_multi_p_x": "0.010"}))
    assert pd.read_csv(out).shape == findings.shape


@pytest.fixture(scope="module")
def real():
    pub = audit.published_by_id()
    return pub, audit.run_audit(pub)


def by_id(findings, check, position):
    """The findings of `check`, indexed by the id at `position` of their ids."""
    rows = findings[findings["check"].eq(check)]
    return rows.set_index(rows["ids"].str.split(";").str[position])


def finding(findings, check, first_id):
    rows = findings[findings["check"].eq(check) & findings["ids"].str.split(";").str[0].eq(first_id)]
    assert len(rows) == 1, (check, first_id)
    return rows.iloc[0]


def test_real_sessions(real):
    _, f = real
    # 1x29 + 2x19 + 3x8 + 4x4 + 5x3 + 6x2 + 7x1 + 9x1 = 29+38+24+16+15+12+7+9 = 150 sessions, printed 136;
    # mean 150/67 = 2.24, printed 2.0 (= 136/67 = 2.03)
    total = finding(f, "sessions_total_vs_distribution", "r_sessions_total")
    assert (total["printed"], total["implied"], total["consistent"]) == ("136", "150", False)
    mean = finding(f, "sessions_mean_vs_distribution", "r_sessions_mean")
    assert (mean["implied"], mean["consistent"]) == ("2.24", False)


def test_real_table2_rows(real):
    _, f = real
    rows = by_id(f, "table2_counts_vs_group_size", -1)
    # distribution 4+14 = 18 and 6+12 = 18 of 19; tumour count 4+14 = 18 and 2+16 = 18; size 11+7 = 18 and 9+10 = 19
    assert rows["correction"].to_dict() == {
        "t2_distribution_p": "t2_distribution_bilateral_sor=15, t2_distribution_bilateral_oth=13",
        "t2_tumor_count_p": "t2_tumor_count_ge4_sor=15, t2_tumor_count_ge4_oth=17",
        "t2_tumor_size_p": "t2_tumor_size_lt50_sor=12"}
    # the completed tables give the printed p by Fisher's test (hypergeometric sums, independent of scipy)
    assert round(fisher_by_hand([[4, 15], [6, 13]]), 3) == 0.714
    assert round(fisher_by_hand([[4, 15], [2, 17]]), 3) == 0.660
    assert round(fisher_by_hand([[12, 7], [9, 10]]), 3) == 0.515
    assert round(fisher_by_hand([[4, 14], [6, 12]]), 3) == 0.711  # the printed counts do not give 0.714
    tests = f[f["check"].eq("table2_p_vs_tests")]
    assert len(tests) == 7 and tests["consistent"].all()
    assert tests["reason"].str.contains("Fisher").all()


def test_real_flow_box(real):
    _, f = real
    # Figure 1: HAIC 4 (2005-2008) + 4 (from 2009) = 8, the text says 5: 5 - 4 = 1 from 2009
    box = finding(f, "flow_eras_vs_text", "flow_n_haic_2005_2008")
    assert (box["consistent"], box["correction"]) == (False, "flow_n_haic_from_2009=1")


def test_real_multivariate_p(real):
    _, f = real
    # sorafenib: SE = (ln 5.497 - ln 1.120)/3.92 = (1.7042 - 0.1133)/3.92 = 0.4058; z = ln 2.481/SE
    # = 0.9087/0.4058 = 2.239; p = 0.0252, printed 0.010
    # ascites: SE = (ln 0.769 - ln 0.104)/3.92 = (-0.2627 + 2.2634)/3.92 = 0.5104; z = ln 0.283/SE
    # = -1.2623/0.5104 = -2.473; p = 0.0134, printed 0.003
    # bilirubin: p = 0.1514 (see test_wald_p_from_ci_hand_value), printed 0.152: consistent
    p = by_id(f, "cox_p_vs_ci", -1)
    assert p["consistent"].to_dict() == {"t3_multi_p_ascites": False, "t3_multi_p_sorafenib": False,
                                         "t3_multi_p_tbil": True}
    assert "0.0252" in p.loc["t3_multi_p_sorafenib", "implied"] and "0.0134" in p.loc["t3_multi_p_ascites", "implied"]


def test_real_directions_and_labels(real):
    _, f = real
    d = by_id(f, "hr_direction_vs_text", 0)
    # HR 2.481 > 1 for 'yes vs. no' although sorafenib is protective; HR 0.283 < 1 for 'yes vs. no' although
    # absence of ascites is protective; 1/2.481 = 0.403 and 1/0.283 = 3.534
    assert d["consistent"].to_dict() == {"t3_multi_hr_sorafenib": False, "t3_multi_hr_ascites": False,
                                         "t3_multi_hr_tbil": True}
    assert "0.403" in d.loc["t3_multi_hr_sorafenib", "reason"] and "3.534" in d.loc["t3_multi_hr_ascites", "reason"]
    labels = f[f["check"].isin(["axis_label_vs_definition", "child_pugh_label_vs_text", "unit_vs_magnitude"])]
    assert (~labels["consistent"]).sum() == 4  # Figure 2B axis, Figure 1 grade C, platelets in Tables 1 and 2


def test_real_everything_else_consistent(real):
    _, f = real
    bad = set(f.loc[~f["consistent"], "check"])
    assert bad == {"flow_eras_vs_text", "sessions_total_vs_distribution", "sessions_mean_vs_distribution",
                   "table2_counts_vs_group_size", "cox_p_vs_ci", "hr_direction_vs_text", "axis_label_vs_definition",
                   "child_pugh_label_vs_text", "unit_vs_magnitude"}
    # median 7.8 < 12 months and 1-year survival 41.7% <= 50%
    assert finding(f, "median_vs_landmark", "os_1y_pct")["consistent"]


def test_real_best_reading_and_unreproducible(real):
    pub, _ = real
    assert audit.best_reading(pub) == {
        "flow_n_haic_from_2009": 1.0, "t2_distribution_bilateral_sor": 15.0, "t2_distribution_bilateral_oth": 13.0,
        "t2_tumor_count_ge4_sor": 15.0, "t2_tumor_count_ge4_oth": 17.0, "t2_tumor_size_lt50_sor": 12.0}
    # the corrected counts, the sessions total and mean, and the two multivariate p; no label or direction
    assert set(audit.unreproducible(pub)) == {
        "flow_n_haic_from_2009", "t2_distribution_bilateral_sor", "t2_distribution_bilateral_oth",
        "t2_tumor_count_ge4_sor", "t2_tumor_count_ge4_oth", "t2_tumor_size_lt50_sor", "r_sessions_total",
        "r_sessions_mean", "t3_multi_p_ascites", "t3_multi_p_sorafenib"}


def test_every_check_has_its_own_label_in_words():
    # the figures and the summary name checks in words; two checks with one label would share a bar
    from src.paper import audit

    checks = set(audit.run_audit()["check"]) | set(audit.CHECK_GROUPS)
    assert checks <= set(audit.CHECK_LABELS), checks - set(audit.CHECK_LABELS)
    assert len(set(audit.CHECK_LABELS.values())) == len(audit.CHECK_LABELS)
    assert all("_" not in label for label in audit.CHECK_LABELS.values())
    summary = audit.summary_by_check(audit.run_audit())
    assert list(summary.columns[:3]) == ["group", "check", "what is checked"]


def test_an_audit_without_printed_numbers_has_no_finding_and_filters_by_rows():
    # a researcher's own cohort has no published_results.csv: notebook 09 filters an empty table
    findings = audit.run_audit(audit.empty_published())
    assert len(findings) == 0 and findings["consistent"].dtype == bool
    assert "check" in findings[~findings["consistent"]].columns
    assert "check" in audit.findings_in(findings, "numbers", only_inconsistent=True).columns
