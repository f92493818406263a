"""Unit tests of src/stats/survival.py, src/stats/groups.py (Table 2) and the Kaplan-Meier plots of
src/present/plots.py against reference values computed by hand or taken from textbooks (never from the
library under test).
"""
import math

import numpy as np
import pandas as pd
import pytest

from src.paper import compare as paper
from src.present import plots
from src.stats import groups, survival

# --- (a) Kaplan-Meier by hand ---------------------------------------------------
# Times 1, 2, 2+, 3, 4, 5+  (+ = censored). A censored time tied with a death
# counts as still at risk at that death.
#   t=1: at risk 6, 1 death  S = 5/6                 = 0.8333
#   t=2: at risk 5, 1 death  S = 5/6 * 4/5 = 4/6     = 0.6667   (then 2+ leaves)
#   t=3: at risk 3, 1 death  S = 4/6 * 2/3 = 8/18    = 0.4444
#   t=4: at risk 2, 1 death  S = 8/18 * 1/2 = 4/18   = 0.2222
# Median = first time with S <= 0.5 = 3.
# Greenwood at t=2: sum d/(n(n-d)) = 1/(6*5) + 1/(5*4) = 1/30 + 1/20 = 1/12.
# log(-log) CI at t=2: se of log(-log S) = sqrt(1/12) / |ln(4/6)| = 0.288675/0.405465 = 0.711962;
#   S^exp(+-1.959964*0.711962) = (2/3)^4.0367 = 0.1946 and (2/3)^0.24773 = 0.9044.
KM_T = [1, 2, 2, 3, 4, 5]
KM_E = [1, 1, 0, 1, 1, 0]


def test_km_survival_and_median_by_hand():
    kmf = survival.km_fit(KM_T, KM_E, label="toy")
    at = survival.survival_at(kmf, [2.5, 3.5])
    assert at["survival"].tolist() == pytest.approx([4 / 6, 8 / 18], abs=1e-9)
    assert at["at_risk"].tolist() == [3, 2]
    assert at.loc[0, "ci_low"] == pytest.approx(0.1946, abs=5e-4)
    assert at.loc[0, "ci_high"] == pytest.approx(0.9044, abs=5e-4)
    summary = survival.km_summary(kmf)
    assert summary["median"] == 3
    assert (summary["n"], summary["events"]) == (6, 4)
    # CI of the median = times where the bands cross 0.5. Lower band at t=1:
    # se = sqrt(1/30)/|ln(5/6)| = 0.182574/0.182322 = 1.001383, (5/6)^exp(1.959964*1.001383)
    # = (5/6)^7.1168 = 0.2732 <= 0.5, so the lower limit is 1. Upper band at t=4:
    # Greenwood sum 1/30 + 1/20 + 1/6 + 1/2 = 0.75, se = sqrt(0.75)/|ln(4/18)| = 0.866025/1.504077
    # = 0.575786, (4/18)^exp(-1.959964*0.575786) = (4/18)^0.32363 = 0.6147 > 0.5: never
    # reaches 0.5 before the last (censored) time, so the upper limit is not reached.
    assert summary["ci_low"] == 1
    assert np.isnan(summary["ci_high"])
    assert "NR" in summary["text"]


def test_survival_beyond_follow_up_is_undefined():
    kmf = survival.km_fit(KM_T, KM_E)
    assert np.isnan(survival.survival_at(kmf, [6])["survival"].iloc[0])
    # all deaths: S = 0 after the last death, defined at any later time
    kmf0 = survival.km_fit([1, 2], [1, 1])
    assert survival.survival_at(kmf0, [10])["survival"].iloc[0] == 0


def test_survival_at_percent():
    kmf = survival.km_fit(KM_T, KM_E)
    assert survival.survival_at(kmf, [1], percent=True)["survival"].iloc[0] == pytest.approx(500 / 6)


# --- (b) log-rank ------------------------------------------------------------------
# Tiny set by hand: group A deaths at 1 and 3; group B death at 2, censored at 4.
#   t=1: n=4 (A 2, B 2), d=1: E_A = 2/4 = 0.5,    V = 2*2*1*3/(4^2*3)  = 0.25
#   t=2: n=3 (A 1, B 2), d=1: E_A = 1/3 = 0.3333, V = 1*2*1*2/(3^2*2)  = 0.2222
#   t=3: n=2 (A 1, B 1), d=1: E_A = 1/2 = 0.5,    V = 1*1*1*1/(2^2*1)  = 0.25
# O_A = 2, E_A = 1.3333, O - E = 0.6667, V = 0.7222;
# chi-square = 0.6667^2 / 0.7222 = 0.4444/0.7222 = 0.61538 (= 8/13);
# p = P(chi2_1 > 8/13) = erfc(sqrt(4/13)) = 0.4328.
def test_logrank_by_hand():
    df = pd.DataFrame({"t": [1, 3, 2, 4], "e": [1, 1, 1, 0], "g": ["A", "A", "B", "B"]})
    chi2, p = survival.logrank(df, "t", "e", "g")
    assert chi2 == pytest.approx(8 / 13, abs=1e-9)
    assert p == pytest.approx(math.erfc(math.sqrt(4 / 13)), abs=1e-9)
    assert p == pytest.approx(0.4328, abs=1e-4)


# Freireich et al. (1963) 6-MP vs placebo remission times (weeks), the classic
# textbook example (e.g. Kleinbaum & Klein, Survival Analysis; R's MASS::gehan).
SIX_MP = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+".split()
PLACEBO = "1 1 2 2 3 4 4 5 5 8 8 8 8 11 11 12 12 15 17 22 23".split()


def freireich():
    rows = [(float(x.rstrip("+")), 0 if x.endswith("+") else 1, "6-MP") for x in SIX_MP]
    rows += [(float(x), 1, "placebo") for x in PLACEBO]
    return pd.DataFrame(rows, columns=["weeks", "relapse", "arm"])


def test_logrank_freireich_textbook():
    # R: survdiff(Surv(weeks, relapse) ~ arm): Chisq = 16.8 on 1 df, p = 4.17e-05
    chi2, p = survival.logrank(freireich(), "weeks", "relapse", "arm")
    assert chi2 == pytest.approx(16.79, abs=0.01)
    assert p == pytest.approx(4.17e-05, rel=0.01)


def test_logrank_single_group_or_no_events_does_not_crash():
    df = freireich()
    assert np.isnan(survival.logrank(df[df.arm == "placebo"], "weeks", "relapse", "arm")[1])
    assert np.isnan(survival.logrank(df.assign(relapse=0), "weeks", "relapse", "arm")[1])


def test_freireich_medians():
    # Textbook KM medians: 6-MP 23 weeks, placebo 8 weeks.
    fitters = survival.km_by_group(freireich(), "weeks", "relapse", "arm")
    table = survival.km_table(fitters).set_index("label")
    assert table.loc["6-MP", "median"] == 23
    assert table.loc["placebo", "median"] == 8


# --- (c)-(d) Cox ------------------------------------------------------------------------
def test_cox_freireich_matches_r_coxph_efron():
    # R: coxph(Surv(weeks, relapse) ~ arm) (Efron ties), placebo vs 6-MP:
    # coef 1.572, exp(coef) 4.817, se 0.412, z = 3.81, p = 0.000136.
    table = survival.cox_table(freireich(), "weeks", "relapse", {"arm": ("arm", "6-MP", "placebo")})
    row = table.iloc[0]
    assert math.log(row["hr"]) == pytest.approx(1.572, abs=5e-4)
    assert row["hr"] == pytest.approx(4.817, abs=5e-3)
    se = (math.log(row["ci_high"]) - math.log(row["ci_low"])) / (2 * 1.959964)
    assert se == pytest.approx(0.412, abs=5e-4)
    assert row["p"] == pytest.approx(0.000136, rel=0.02)
    assert (row["n"], row["events"]) == (42, 30)


def test_cox_direction_label():
    df = freireich().assign(salvage=lambda d: np.where(d.arm == "6-MP", "sorafenib", "no sorafenib"))
    table = survival.cox_table(df, "weeks", "relapse", {"Sorafenib": ("salvage", "sorafenib", "no sorafenib")})
    assert table.loc[0, "comparison"] == "no sorafenib vs sorafenib"
    # reversing the reference inverts the hazard ratio
    rev = survival.cox_table(df, "weeks", "relapse", {"Sorafenib": ("salvage", "no sorafenib", "sorafenib")})
    assert rev.loc[0, "comparison"] == "sorafenib vs no sorafenib"
    assert rev.loc[0, "hr"] == pytest.approx(1 / table.loc[0, "hr"], rel=1e-6)


def test_cox_single_level_factor_is_skipped():
    df = freireich().assign(const="a")
    table = survival.cox_table(df, "weeks", "relapse",
                               {"arm": ("arm", "6-MP", "placebo"), "const": ("const", "a", "b")})
    assert np.isfinite(table.loc[0, "hr"]) and np.isnan(table.loc[1, "hr"])
    assert table.loc[1, "note"] != ""


# --- two-level factors and univariate table ------------------------------------------
def test_dichotomise_labels_and_boundary():
    out = survival.dichotomise(pd.Series([69, 70, 71, np.nan]), 70)
    assert list(out.cat.categories) == ["<70", ">=70"]
    assert out.iloc[:3].tolist() == ["<70", ">=70", ">=70"]
    assert pd.isna(out.iloc[3])
    assert survival.dichotomise(pd.Series([0.9, 1.0]), 1.0).tolist() == ["<1.0", ">=1.0"]


def test_univariate_table_one_level_does_not_crash():
    df = freireich().assign(const="a")
    table = survival.univariate_logrank_table(df, {"arm": "arm", "const": "const"}, "weeks", "relapse")
    assert table.loc[0, "p"] == pytest.approx(4.17e-05, rel=0.01)
    assert np.isnan(table.loc[1, "p"]) and "one level" in table.loc[1, "note"]


# --- (e) compare_groups -----------------------------------------------------------------
# Fisher's exact test by hand on the 2x2 table  A: 3 yes / 1 no;  B: 1 yes / 3 no.
# Margins 4, 4 (rows) and 4, 4 (columns), N = 8. P(a yes in A) = C(4,a) C(4,4-a) / C(8,4)
#   = 1/70, 16/70, 36/70, 16/70, 1/70 for a = 0..4. Observed a = 3 (16/70).
# Two-sided p = sum of P <= 16/70 = (1 + 16 + 16 + 1)/70 = 34/70 = 0.485714.
# Chi-square: expected 2 in every cell; X2 = 4 * 1^2/2 = 2, p = erfc(1) = 0.157299;
# with Yates: 4 * (1 - 0.5)^2 / 2 = 0.5, p = erfc(0.5) = 0.479500.
# Student's t by hand: A = 1, 2, 3; B = 4, 5, 6. Means 2 and 5, variances 1 and 1,
# pooled variance 1, se = sqrt(1/3 + 1/3) = 0.816497, t = -3/0.816497 = -3.674235, df = 4.
# With 4 df, P(|T| > t) = 1 - (3/2) x (1 - x^2/3), x = t / sqrt(4 + t^2)
#   (x^2 = 13.5/17.5 = 0.771429, x = 0.878310): p = 1 - 1.5*0.878310*0.742857 = 0.021312.
def toy_groups():
    return pd.DataFrame({"group": ["A"] * 4 + ["B"] * 4,
                         "flag": ["yes", "yes", "yes", "no", "yes", "no", "no", "no"],
                         "value": [1, 2, 3, np.nan, 4, 5, 6, np.nan]})


def test_compare_groups_fisher_and_student_by_hand():
    long = groups.compare_groups(toy_groups(), "group", {"flag": ("flag", ["yes", "no"])}, {"value": "value"})
    flag = long[long.variable == "flag"].set_index("level")
    assert flag.loc["yes", "A"] == 3 and flag.loc["no", "B"] == 3
    assert flag["p"].iloc[0] == pytest.approx(34 / 70, abs=1e-9)
    value = long[long.variable == "value"].set_index("level")
    assert value.loc["median", "A"] == 2 and value.loc["max", "B"] == 6
    x = math.sqrt(13.5 / 17.5)
    assert value["p"].iloc[0] == pytest.approx(1 - 1.5 * x * (1 - x * x / 3), abs=1e-9)
    assert value["p"].iloc[0] == pytest.approx(0.021312, abs=1e-6)
    table = groups.format_comparison(long)
    assert table.set_index("variable").loc["flag", "A"] == "3/1"
    assert table.set_index("variable").loc["value", "B"] == "5 (4-6)"


def test_categorical_tests_by_hand():
    tests = groups.categorical_tests(toy_groups(), "group", {"flag": ("flag", ["yes", "no"])}).iloc[0]
    assert tests["fisher"] == pytest.approx(34 / 70, abs=1e-9)
    assert tests["chi2"] == pytest.approx(math.erfc(1), abs=1e-9)
    assert tests["chi2_yates"] == pytest.approx(math.erfc(0.5), abs=1e-9)


def test_compare_groups_single_group_does_not_crash():
    df = toy_groups().query("group == 'A'")
    long = groups.compare_groups(df, "group", {"flag": "flag"}, {"value": "value"})
    assert long["p"].isna().all()


def test_comparison_ids():
    long = groups.compare_groups(toy_groups(), "group", {"flag": ("flag", ["yes", "no"])}, {"value": "value"})
    ids = groups.comparison_ids(long, "t2", {"A": "sor", "B": "oth"})
    assert ids["t2_flag_yes_sor"] == 3 and ids["t2_value_max_oth"] == 6
    assert ids["t2_flag_p"] == pytest.approx(34 / 70)
    assert [groups.id_token(s) for s in ["<4", ">=50", "1+2"]] == ["lt4", "ge50", "1_2"]


def test_printed_counts_tests_and_match():
    # The hand-computed 2x2 table above, written as a published_results.csv would print it.
    published = pd.DataFrame({
        "id": ["x_flag_yes_a", "x_flag_no_a", "x_flag_yes_b", "x_flag_no_b", "x_flag_p"],
        "value": ["3", "1", "1", "3", "0.486"], "decimals": [0, 0, 0, 0, 3],
        "relation": ["="] * 5, "statistic": ["count"] * 4 + ["p_value"]})
    tests = paper.printed_categorical_tests(published, "x", ["a", "b"])
    assert tests.loc[0, "variable"] == "flag" and tests.loc[0, "table"] == "3/1 | 1/3"
    assert tests.loc[0, "fisher"] == pytest.approx(34 / 70)
    check = paper.match_printed_p(tests, published, "x").iloc[0]
    assert (check["fisher reproduces"], check["chi2 reproduces"]) == ("match", "differs")


def test_table3_factor_directions():
    factors = survival.table3_factors({"total_bilirubin": 1.0, "age": 70})
    assert factors["tbil"] == ("total_bilirubin_group", "<1.0", ">=1.0")
    assert factors["sorafenib"][1:] == ("sorafenib", "no sorafenib")
    assert factors["ascites"][1:] == ("ascites", "no ascites")
    assert "alb" not in factors  # no cut-off given
    df = survival.add_factors(pd.DataFrame({"total_bilirubin": [0.9, 1.0], "age": [69, 70], "sex": ["M", "F"],
                                            "ecog_ps": [0, 2], "ascites": ["yes", "no"], "sorafenib": [True, False]}),
                              {"total_bilirubin": 1.0, "age": 70})
    assert df["total_bilirubin_group"].tolist() == ["<1.0", ">=1.0"]
    assert df["ps_group"].tolist() == ["0", ">=1"]
    assert df["ascites_group"].tolist() == ["ascites", "no ascites"]
    assert df["sorafenib_group"].tolist() == ["sorafenib", "no sorafenib"]


def test_cox_divergent_estimate_is_reported_as_not_estimable():
    # Every death of level 1 comes after all deaths of level 0 and both levels have deaths:
    # the partial likelihood keeps increasing as the HR goes to 0 (monotone likelihood).
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 1, 1, 1, 0], "x": ["a", "a", "a", "b", "b", "b"]})
    row = survival.cox_table(df, "t", "e", {"x": ("x", "a", "b")}).iloc[0]
    assert np.isnan(row["hr"]) and "not estimable" in row["note"]


def test_count_ties():
    # Deaths at 1, 2, 2, 3, 3, 3 and a censored 1: two tied death times (2 and 3).
    assert survival.count_ties([1, 2, 2, 3, 3, 3, 1], [1, 1, 1, 1, 1, 1, 0]) == 2


# --- optional columns left out of the data ----------------------------------------

def test_compare_groups_leaves_out_variables_whose_column_is_absent(capsys):
    df = pd.DataFrame({"g": ["a", "a", "b", "b"], "age": [60, 70, 65, 75]})
    long = groups.compare_groups(df, "g", {"ascites": ("ascites", ["yes", "no"])}, {"age": "age", "dcp": "dcp"})
    assert set(long["variable"]) == {"age"}
    assert "left out: ascites, dcp" in capsys.readouterr().out


def test_univariate_table_notes_a_factor_whose_column_is_absent():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 1, 0, 1], "x": ["lo", "hi", "lo", "hi"]})
    table = survival.univariate_logrank_table(df, {"x": ("x", "lo", "hi"), "dcp": ("dcp_group", "<1", ">=1")}, "t", "e")
    assert table.set_index("key").loc["dcp", "note"] == "not in these data"
    assert np.isnan(table.set_index("key").loc["dcp", "p"])
    assert not np.isnan(table.set_index("key").loc["x", "p"])


def test_add_factors_skips_a_cutoff_whose_column_is_absent():
    out = survival.add_factors(pd.DataFrame({"age": [60, 80]}), {"age": 70, "dcp": 1800})
    assert out["age_group"].astype(str).tolist() == ["<70", ">=70"] and "dcp_group" not in out


def test_numbers_at_risk_below_min_cell_are_suppressed():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    small = survival.km_fit(pd.Series(np.arange(8) + 0.5), pd.Series([1] * 8), label="Group 2")
    big = survival.km_fit(pd.Series(np.arange(20) + 0.5), pd.Series([1] * 20), label="Group 1")
    fig, ax = plt.subplots()
    plots.plot_km([big, small], ax=ax, tick_step=5, min_cell=5)
    table = ax.at_risk_axes
    cells = {(round(t.get_position()[0], 6), t.get_position()[1]): t.get_text() for t in table.texts
             if t.get_transform() == table.transData}
    # times 0.5, 1.5, ...: at t = 5, 15 and 3 still followed (5.5 and later); at t = 10, 10 and 0; at t = 15, 5 and 0
    assert cells[(0, 0)] == "20" and cells[(0, 1)] == "8"  # 8 at the start is not small
    assert cells[(5, 0)] == "15" and cells[(5, 1)] == "<5"
    assert cells[(10, 0)] == "10" and cells[(10, 1)] == "0" and cells[(15, 0)] == "5"
    assert all(not t.isdigit() or int(t) == 0 or int(t) >= 5 for t in cells.values())
    plt.close(fig)


def test_km_plots_use_the_shared_group_styles():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from src.present import figures
    a = survival.km_fit(pd.Series([1.0, 2, 3, 4]), pd.Series([1, 0, 1, 1]), label="sorafenib")
    b = survival.km_fit(pd.Series([1.0, 2, 5, 6]), pd.Series([1, 1, 0, 1]), label="other salvage")
    for order in ([a, b], [b, a]):  # the style follows the group, not its position
        fig, ax = plt.subplots()
        plots.plot_km(order, ax=ax)
        for kmf in order:
            line = next(l for l in ax.get_lines() if l.get_label().startswith(kmf._label + " (n = 4"))
            style = figures.style_of(kmf._label)
            assert to_hex(line.get_color()) == to_hex(style["color"])
            assert line.get_linestyle() == style["linestyle"]
        at_risk_colours = {to_hex(t.get_color()) for t in ax.at_risk_axes.texts if t.get_text().isdigit()}
        assert at_risk_colours == {to_hex(figures.style_of("sorafenib")["color"]),
                                   to_hex(figures.style_of("other salvage")["color"])}
        plt.close(fig)


def test_suppress_counts_in_lines_keeps_labels_with_digits():
    from src import privacy
    assert privacy.suppress_counts_in_lines("At risk\n  Child-Pugh 5   3\n  Child-Pugh 6   12", 5) == \
        "At risk\n  Child-Pugh 5   <5\n  Child-Pugh 6   12"
    assert privacy.suppress_counts_in_lines("\n4\n0", 5) == "\n<5\n0"
    assert privacy.suppress_counts_in_lines("\n4\n0", 0) == "\n4\n0"


def test_followup_summary_is_the_reverse_kaplan_meier_by_hand():
    # reverse KM: the censored times 2, 4, 5 are the events, the deaths at 1 and 3 censor them.
    # t=2: 4 at risk, 1 event -> 3/4; t=4: 2 at risk, 1 event -> 3/8 <= 0.5, so the median is 4.
    # nobody died: the reverse KM is the KM of all times, median 3
    assert survival.followup_summary([1, 2, 3, 4, 5], [0, 0, 0, 0, 0])["median"] == 3
    s = survival.followup_summary([1, 2, 3, 4, 5], [1, 0, 1, 0, 0])
    assert s["median"] == 4 and s["n"] == 5 and s["events"] == 3
    assert s["text"].startswith("4.0 (95% CI ")


def test_with_unit_puts_the_unit_after_the_estimate():
    assert survival.with_unit("7.8 (95% CI 5.4-15.7)", "months") == "7.8 months (95% CI 5.4-15.7)"
    assert survival.with_unit("NR", "months") == "NR months"
