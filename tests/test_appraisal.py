"""Tests of src/stats/appraisal.py (notebook 07) against independent reference values.

Survival references come from R 4.2.2 with survival 3.5.3, run once on the small data sets below
(the R code is in the comments; the values printed by R are typed in). E-values and adjusted
p-values are checked against hand calculations. `test_bundled_data_agree_with_r` compares the key
numbers of `appraisal.csv` on the bundled cohort with R (script: tests/r/appraisal_bundled.R).
One test runs the notebook on the example cohort in private mode.
"""
import numpy as np
import pandas as pd
import pytest

from src.stats import appraisal, groups, survival
from src import helpers

# --- a small data set, the same in R --------------------------------------------------
# t <- c(2,3,4,5,6,7,8,9,10,11, 1,1.5,2,2.5,3,4,5,6,8,12)
# e <- c(1,1,0,1,1,0,1,1,0,1, 1,1,1,0,1,1,1,0,1,0)
# g <- rep(c(1,0), each=10)
# x <- c(0,1,0,1,0,1,0,1,1,0, 1,0,1,1,0,1,0,0,1,1)
# delay <- c(0.5,0,1,0.5,2,0.5,7,0.5,1,3, rep(NA,10))
# d <- data.frame(id=1:20, t, e, g, x, delay)
SMALL = pd.DataFrame({
    "t": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 12],
    "e": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0],
    "g": ["a"] * 10 + ["b"] * 10,
    "x": [0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1],
    "delay": [0.5, 0, 1, 0.5, 2, 0.5, 7, 0.5, 1, 3] + [np.nan] * 10,
})
SMALL["treated"] = SMALL["g"].eq("a")
SMALL["x_group"] = np.where(SMALL["x"] == 1, "x1", "x0")


def test_reverse_km_median_followup_matches_r():
    # print(survfit(Surv(t, 1-e) ~ g, data=d, conf.type="log-log"))
    #      n events median 0.95LCL 0.95UCL
    # g=0 10      3     12     2.5      NA
    # g=1 10      3     10     4.0      NA
    table = appraisal.followup_table(SMALL, "t", "e", "g", ["a", "b"]).set_index("group")
    assert table.loc["a", "median follow-up"] == 10 and table.loc["b", "median follow-up"] == 12
    assert table.loc["a", "ci_low"] == 4 and table.loc["b", "ci_low"] == 2.5
    assert table["ci_high"].isna().all()  # R: NA (the band's limit falls to 0.5 only where S(t) = 0)
    assert table.loc["a", "follow-up (CI)"] == "10.0 (95% CI 4.0-NR)"
    assert table["censored"].tolist() == [3, 3] and table["deaths"].tolist() == [7, 7]


def test_median_ci_limit_reached_only_where_the_curve_is_zero_is_nr():
    # PITFALLS.md: t <- 1:10; e <- c(1,0,1,0,1,0,0,1,0,1)
    # print(survfit(Surv(t,e)~1, conf.type="log-log")):  median 8, 0.95LCL 1, 0.95UCL NA
    kmf = survival.km_fit(np.arange(1, 11), [1, 0, 1, 0, 1, 0, 0, 1, 0, 1])
    s = survival.km_summary(kmf)
    assert (s["median"], s["ci_low"]) == (8, 1)
    assert np.isnan(s["ci_high"]) and s["text"] == "8.0 (95% CI 1.0-NR)"


def test_time_varying_cox_matches_r_tmerge():
    # b <- tmerge(d[, c("id","x")], d, id=id, tstop=t); b <- tmerge(b, d, id=id, ev=event(t, e))
    # b <- tmerge(b, d[d$g==1,], id=id, on=tdc(delay)); b$on[is.na(b$on)] <- 0;  nrow(b) = 29
    # coxph(Surv(tstart,tstop,ev) ~ on, data=b):      exp(coef) 0.9617819911, lower .95 0.324442581,
    #                                                 upper .95 2.85111959, Pr(>|z|) 0.9439685814
    # coxph(Surv(tstart,tstop,ev) ~ on + x, data=b):  on: 0.9669983104, 0.3221876813, 2.902301319, 0.9522790011
    long = appraisal.td_cox_data(SMALL, "t", "e", "delay", "treated", {"x": ("x_group", "x0", "x1")})
    assert len(long) == 29 and long["event"].sum() == SMALL["e"].sum()
    alone = appraisal.td_cox(long)
    assert [alone[k] for k in ("hr", "ci_low", "ci_high", "p")] == pytest.approx(
        [0.9617819911, 0.324442581, 2.85111959, 0.9439685814], rel=1e-5)
    adjusted = appraisal.td_cox(long, ["x"])
    assert [adjusted[k] for k in ("hr", "ci_low", "ci_high", "p")] == pytest.approx(
        [0.9669983104, 0.3221876813, 2.902301319, 0.9522790011], rel=1e-5)
    assert alone["n"] == 20 and alone["note"] == ""


def test_time_varying_cox_without_treated_patients_says_why():
    long = appraisal.td_cox_data(SMALL.assign(treated=False), "t", "e", "delay", "treated")
    res = appraisal.td_cox(long)
    assert np.isnan(res["hr"]) and "not estimable" in res["note"]


def test_landmark_matches_r():
    # lm <- d[d$t > 2.5,]; lm$lt <- lm$t - 2.5; lm$lg <- as.integer(lm$g==1 & lm$delay <= 2.5)
    # nrow(lm) = 15; table(lm$lg): 0 -> 8, 1 -> 7
    # survdiff(Surv(lt, e) ~ lg, data=lm): p = 0.9522274208
    lm, reclassified = appraisal.landmark_frame(SMALL, "t", 2.5, "delay", "treated", labels=("on", "off"))
    assert len(lm) == 15 and reclassified == 2
    assert lm["lm_group"].value_counts().to_dict() == {"off": 8, "on": 7}
    res = appraisal.logrank_subset(lm, "lm_time", "e", "lm_group")
    assert res["p"] == pytest.approx(0.9522274208, rel=1e-6) and res["n"] == 15


def test_logrank_subset_with_one_group_says_why():
    res = appraisal.logrank_subset(SMALL[SMALL["g"] == "a"], "t", "e", "g")
    assert np.isnan(res["p"]) and "fewer than two groups" in res["note"]
    # a categorical column lists its empty levels: still one group
    one = SMALL.assign(c=pd.Categorical(["u"] * 20, categories=["u", "v"]))
    assert "fewer than two groups" in appraisal.logrank_subset(one, "t", "e", "c")["note"]


def test_rmst_and_its_greenwood_variance_match_r():
    # print(summary(survfit(Surv(t,e)~g, data=d), rmean=9)$table[, c("rmean","se(rmean)")])
    #           rmean    se(rmean)
    # g=0 4.825000000 0.9668426564
    # g=1 6.757142857 0.8228018689
    a = appraisal.rmst(SMALL.loc[SMALL.g == "a", "t"], SMALL.loc[SMALL.g == "a", "e"], 9)
    b = appraisal.rmst(SMALL.loc[SMALL.g == "b", "t"], SMALL.loc[SMALL.g == "b", "e"], 9)
    assert (a["rmst"], a["se"]) == pytest.approx((6.757142857, 0.8228018689), rel=1e-8)
    assert (b["rmst"], b["se"]) == pytest.approx((4.825, 0.9668426564), rel=1e-8)
    # difference by hand from R's numbers: 6.757142857 - 4.825 = 1.932142857,
    # se = sqrt(0.8228018689^2 + 0.9668426564^2) = 1.269578..., z = 1.521887, p = 2 * (1 - pnorm(z)) = 0.128036
    per_group, diff = appraisal.rmst_comparison(SMALL, "t", "e", "g", ["a", "b"], 9)
    se = np.hypot(0.8228018689, 0.9668426564)
    assert diff["estimate"] == pytest.approx(1.932142857, rel=1e-8)
    assert (diff["ci_low"], diff["ci_high"]) == pytest.approx((1.932142857 - 1.959964 * se, 1.932142857 + 1.959964 * se), rel=1e-6)
    assert diff["p"] == pytest.approx(0.128036, rel=1e-4)
    assert per_group["a"]["n"] == 10 and diff["note"] == ""
    # second case, PITFALLS example: t <- 1:10; e <- c(1,0,1,0,1,0,0,1,0,1)
    # print(survfit(Surv(t,e)~1), rmean=8): rmean* 6.34375, se(rmean) 0.8189855
    r = appraisal.rmst(np.arange(1, 11), [1, 0, 1, 0, 1, 0, 0, 1, 0, 1], 8)
    assert (r["rmst"], r["se"]) == pytest.approx((6.34375, 0.8189855), rel=1e-6)


def test_rmst_tau_beyond_a_group_is_lowered():
    per_group, diff = appraisal.rmst_comparison(SMALL, "t", "e", "g", ["a", "b"], 20)
    assert diff["tau"] == 11 and "tau lowered" in diff["note"]  # group a's longest time is 11


def test_likelihood_ratio_test_matches_r():
    # anova(coxph(Surv(t,e) ~ x), coxph(Surv(t,e) ~ x + g)): Chisq 0.956, Pr(>|Chi|) 0.3282
    #   (logliks -31.786372 and -31.308374: 2 * 0.477998 = 0.955996); Wald p of g 0.3266774511
    # alone: summary(coxph(Surv(t,e) ~ g))$logtest: test 0.7039582894, pvalue 0.4014568395
    covariates = {"x": ("x_group", "x0", "x1"), "g": ("g", "a", "b")}
    res = appraisal.lr_test(SMALL, "t", "e", covariates, "g")
    assert res["statistic"] == pytest.approx(0.955996, rel=1e-5)
    assert res["wald_p"] == pytest.approx(0.3266774511, rel=1e-5)
    alone = appraisal.lr_test(SMALL, "t", "e", {"g": ("g", "a", "b")}, "g")
    assert (alone["statistic"], alone["p"]) == pytest.approx((0.7039582894, 0.4014568395), rel=1e-5)


def test_evalues_by_hand():
    # RR = 2: 2 + sqrt(2 * 1) = 3.414214; RR = 0.5 is read as 1/0.5 = 2: the same; RR = 1: 1
    assert appraisal.evalue(2) == pytest.approx(3.414214, abs=1e-6)
    assert appraisal.evalue(0.5) == pytest.approx(3.414214, abs=1e-6)
    assert appraisal.evalue(1) == 1
    # common outcome, HR = 4: (1 - 0.5^2) / (1 - 0.5^0.5) = 0.75 / 0.292893 = 2.560660;
    # E = 2.560660 + sqrt(2.560660 * 1.560660) = 2.560660 + sqrt(3.996320) = 2.560660 + 1.999080 = 4.559740
    assert appraisal.hr_to_rr_common(4) == pytest.approx(2.560660, abs=1e-6)
    # HR 4 (CI 2-8): limit nearer 1 is 2: rare 3.414214; common: (1 - 0.5^1.414214) / (1 - 0.5^0.707107)
    #   = (1 - 0.375214) / (1 - 0.612547) = 0.624786 / 0.387453 = 1.612547;
    #   E = 1.612547 + sqrt(1.612547 * 0.612547) = 1.612547 + sqrt(0.987762) = 1.612547 + 0.993862 = 2.606409
    e_hr, e_ci = appraisal.evalues(4, 2, 8)
    assert (e_hr, e_ci) == pytest.approx((4 + np.sqrt(12), 3.414214), abs=1e-6)  # 4 + sqrt(4 * 3) = 7.464102
    assert appraisal.evalues(4, 2, 8, common=True) == pytest.approx((4.559740, 2.606409), abs=1e-5)
    # protective HR 0.5 (CI 0.2-1.25) contains 1: the limit's E-value is 1
    assert appraisal.evalues(0.5, 0.2, 1.25) == pytest.approx((3.414214, 1.0), abs=1e-6)
    # protective HR 0.25 (CI 0.1-0.5): limit nearer 1 is 0.5 -> 1/0.5 = 2 -> 3.414214
    assert appraisal.evalues(0.25, 0.1, 0.5)[1] == pytest.approx(3.414214, abs=1e-6)
    assert np.isnan(appraisal.evalues(np.nan, np.nan, np.nan)[0])


def test_holm_and_benjamini_hochberg_by_hand():
    # p = 0.01, 0.04, 0.03, 0.005 (m = 4); sorted 0.005, 0.01, 0.03, 0.04
    # Holm: 4 x 0.005 = 0.02; 3 x 0.01 = 0.03; 2 x 0.03 = 0.06; 1 x 0.04 = 0.04 -> running max 0.06
    # BH:   0.005 x 4/1 = 0.02; 0.01 x 4/2 = 0.02; 0.03 x 4/3 = 0.04; 0.04 x 4/4 = 0.04 (running min from the top)
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    holm, bh = appraisal.holm(p), appraisal.benjamini_hochberg(p)
    assert holm[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02]) and np.isnan(holm[4])
    assert bh[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02]) and np.isnan(bh[4])
    # against statsmodels (an independent implementation) on 14 p-values
    from statsmodels.stats.multitest import multipletests
    rng = np.random.default_rng(1)
    q = rng.uniform(0, 0.3, 14)
    assert appraisal.holm(q) == pytest.approx(multipletests(q, method="holm")[1])
    assert appraisal.benjamini_hochberg(q) == pytest.approx(multipletests(q, method="fdr_bh")[1])
    assert appraisal.events_per_variable(28, 14) == 2 and np.isnan(appraisal.events_per_variable(3, 0))


def test_standardised_mean_differences_by_hand():
    # continuous: a = 1..5 (mean 3, var 2.5), b = 2,4,6,8,10 (mean 6, var 10): |3 - 6| / sqrt((2.5 + 10) / 2) = 1.2
    # binary: p1 = 3/5, p2 = 1/5: 0.4 / sqrt((0.24 + 0.16) / 2) = 0.4 / 0.447214 = 0.894427
    df = pd.DataFrame({"grp": ["a"] * 5 + ["b"] * 5, "v": [1, 2, 3, 4, 5, 2, 4, 6, 8, 10],
                       "c": ["y", "n", "y", "y", "n", "n", "n", "y", "n", "n"]})
    out = appraisal.smd_table(df, "grp", ["a", "b"], {"c": "c", "absent": "nope"}, {"v": "v"}).set_index("variable")
    assert out.loc["v", "smd"] == pytest.approx(1.2)
    assert out.loc["c", "smd"] == pytest.approx(0.894427, abs=1e-6)
    assert np.isnan(out.loc["absent", "smd"]) and out.loc["absent", "note"] == "not in these data"
    one_group = appraisal.smd_table(df[df.grp == "a"], "grp", ["a", "b"], {"c": "c"}, {})
    assert "fewer than two groups" in one_group["note"].iloc[0]


# --- the bundled cohort against R (tests/r/appraisal_bundled.R) ---------------------------------

def _bundled():
    cut = {"age": 70, "platelets": 12.5, "albumin": 3.8, "total_bilirubin": 1.0, "prothrombin_activity": 94,
           "alt": 50, "ast": 84, "afp": 2000, "dcp": 1800, "tumor_count": 4, "max_tumor_size_mm": 50}
    tables = helpers.load_cohort(helpers.ROOT / "data")
    spp = survival.add_factors(helpers.spp_frame(tables, 8, "months"), cut)
    spp["delay"] = helpers.time_between(spp["progression_date"], spp["salvage_start_date"], "months")
    spp["era"] = helpers.treatment_era(spp["salvage_start_date"], "2009-01-01", 2005)
    return spp, survival.table3_factors(cut)


def test_bundled_data_agree_with_r():
    # Values printed by `Rscript tests/r/appraisal_bundled.R` (R 4.2.2, survival 3.5.3); agreement to 3 significant digits.
    spp, factors = _bundled()
    salvage_groups = ["sorafenib", "other salvage"]
    close = {"rel": 1e-3}
    # follow-up: sor=1 median 12.2546 (LCL 3.90965, UCL NA); sor=0 median NA (LCL 4.56674)
    fu = appraisal.followup_table(spp, "spp_time", "death", "salvage_group", salvage_groups).set_index("group")
    assert fu.loc["sorafenib", ["median follow-up", "ci_low"]].tolist() == pytest.approx([12.2546, 3.90965], **close)
    assert np.isnan(fu.loc["other salvage", "median follow-up"]) and fu["ci_high"].isna().all()
    assert fu.loc["other salvage", "ci_low"] == pytest.approx(4.56674, **close)
    # time-varying: on_sor 0.4182789251 (0.1842274074-0.9496809494) p 0.03721737814;
    # adjusted for tbil_hi + no_ascites: 0.3763267563 (0.1632868277-0.8673193636) p 0.02178404724
    adjust = {k: factors[k] for k in ("tbil", "ascites")}
    long = appraisal.td_cox_data(spp, "spp_time", "death", "delay", "sorafenib", adjust)
    alone, adjusted = appraisal.td_cox(long), appraisal.td_cox(long, list(adjust))
    assert [alone[k] for k in ("hr", "ci_low", "ci_high", "p")] == pytest.approx(
        [0.4182789251, 0.1842274074, 0.9496809494, 0.03721737814], **close)
    assert [adjusted[k] for k in ("hr", "ci_low", "ci_high", "p")] == pytest.approx(
        [0.3763267563, 0.1632868277, 0.8673193636, 0.02178404724], **close)
    # landmark 30 days: n 34, p 0.05051514308; era: n 27, p 0.2246031047;
    # vs BSC: n 31, p 0.1212688333; vs active: n 26, p 0.06323783138
    lm, _ = appraisal.landmark_frame(spp, "spp_time", 30 / helpers.DAYS_PER_MONTH, "delay", "sorafenib")
    res = appraisal.logrank_subset(lm, "lm_time", "death", "lm_group")
    assert (res["n"], res["p"]) == (34, pytest.approx(0.05051514308, **close))
    era = appraisal.logrank_subset(spp[spp["salvage_start_date"] >= "2009-01-01"], "spp_time", "death", "salvage_group")
    assert (era["n"], era["p"]) == (27, pytest.approx(0.2246031047, **close))
    for codes, n, p in [(["bsc"], 31, 0.1212688333), (["haic", "uft"], 26, 0.06323783138)]:
        res = appraisal.logrank_subset(spp[spp["sorafenib"] | spp["salvage_treatment"].isin(codes)], "spp_time", "death",
                                       "salvage_group")
        assert (res["n"], res["p"]) == (n, pytest.approx(p, **close))
    # RMST up to 12 months: rmean sor=1 6.444223495 (se 1.0413928654), sor=0 4.407029072 (se 0.7988636973);
    # difference 2.0371944234 (-0.5352777618 to 4.6096666087), p 0.1206295916
    per_group, diff = appraisal.rmst_comparison(spp, "spp_time", "death", "salvage_group", salvage_groups, 12)
    assert [per_group["sorafenib"]["rmst"], per_group["sorafenib"]["se"]] == pytest.approx([6.444223495, 1.0413928654], **close)
    assert [per_group["other salvage"]["rmst"], per_group["other salvage"]["se"]] == pytest.approx([4.407029072, 0.7988636973], **close)
    assert [diff[k] for k in ("estimate", "ci_low", "ci_high", "p")] == pytest.approx(
        [2.0371944234, -0.5352777618, 4.6096666087, 0.1206295916], **close)
    # paper's model: Wald p of no_sor 0.02687995191; LR: Chisq 5.12269, p 0.023615
    paper = {k: factors[k] for k in ("tbil", "ascites", "sorafenib")}
    lr = appraisal.lr_test(spp, "spp_time", "death", paper, "sorafenib")
    assert [lr["statistic"], lr["p"], lr["wald_p"]] == pytest.approx([5.12269, 0.023615, 0.02687995191], **close)
    # E-values: hr 4.373456767, ci 1.456608531, hr_common 3.125061068, ci_common 1.356883492
    row = survival.cox_table(spp, "spp_time", "death", paper).set_index("key").loc["sorafenib"]
    assert appraisal.evalues(row.hr, row.ci_low, row.ci_high) == pytest.approx((4.373456767, 1.456608531), **close)
    assert appraisal.evalues(row.hr, row.ci_low, row.ci_high, common=True) == pytest.approx((3.125061068, 1.356883492), **close)
    # univariate p of the 14 factors, p.adjust(p, "holm") and p.adjust(p, "BH")
    r_holm = {"tbil": 0.402880827985, "ascites": 0.009182696295, "sorafenib": 0.495204064967, "alt": 1.0, "age": 1.0}
    r_bh = {"age": 0.413939619305, "plt": 0.957215703746, "alb": 0.374260297993, "tbil": 0.192579358598,
            "alt": 0.976898581410, "afp": 0.421251709096, "ascites": 0.009182696295, "sorafenib": 0.192579358598}
    uni = survival.univariate_logrank_table(spp, factors, "spp_time", "death").set_index("key")
    holm = pd.Series(appraisal.holm(uni["p"]), index=uni.index)
    bh = pd.Series(appraisal.benjamini_hochberg(uni["p"]), index=uni.index)
    assert holm[list(r_holm)].tolist() == pytest.approx(list(r_holm.values()), **close)
    assert bh[list(r_bh)].tolist() == pytest.approx(list(r_bh.values()), **close)
    # SMDs by formula in R
    r_smd = {"age": 0.274518375384, "alt": 0.470238158256, "ast": 0.393575252431, "tbil": 0.255654353860,
             "alb": 0.361189330737, "pt": 0.100394347128, "plt": 0.274649023777, "afp": 0.295216550697,
             "dcp": 0.004882554673, "sex": 0.0, "ps": 0.1054092553, "ascites": 0.2195285200, "pvtt": 0.4923659639,
             "distribution": 0.2407717062, "tumor_count": 0.2917299830, "tumor_size": 0.3216337605, "era": 1.6583123952}
    smd = appraisal.smd_table(spp, "salvage_group", salvage_groups, {**groups.TABLE2_CATEGORICAL, "era": "era"},
                              groups.TABLE2_CONTINUOUS).set_index("variable")["smd"]
    assert smd[list(r_smd)].tolist() == pytest.approx(list(r_smd.values()), rel=1e-3, abs=1e-9)


# --- the notebook on the example cohort, private mode --------------------------------------------

# the notebook's simulation does not depend on the cohort (nbval tests it on the bundled one): few replicates here
FEW_REPLICATES = {"IMMORTAL_REPLICATES": 10}

KEYS = (["followup_sorafenib", "followup_other", "td_cox_sorafenib", "td_cox_adj_sorafenib", "landmark", "era_from2009",
         "sorafenib_vs_bsc", "sorafenib_vs_active", "rmst_sorafenib", "rmst_other", "rmst_diff", "lr_sorafenib",
         "evalue_hr", "evalue_ci", "evalue_hr_common", "evalue_ci_common"]
        + [f"{how}_{k}" for k in survival.TABLE3_NAMES if k != "sorafenib" for how in ("holm", "bh")]  # the primary comparison apart
        + [f"smd_{k}" for k in [*groups.TABLE2_CATEGORICAL, *groups.TABLE2_CONTINUOUS, "era"]])


def test_the_notebook_runs_on_the_example_cohort_in_private_mode(tmp_path):
    import papermill

    example = helpers.ROOT / "data" / "examples" / "cohort250"
    out = tmp_path / "nb.ipynb"
    papermill.execute_notebook(str(helpers.ROOT / "notebooks" / "07_appraisal_sorafenib_effect.ipynb"), str(out),
                               cwd=str(helpers.ROOT / "notebooks"), kernel_name="python3", progress_bar=False,
                               parameters={"DATA_DIR": str(example), "OUTPUT_DIR": str(tmp_path), "MIN_CELL": 5,
                                           **FEW_REPLICATES})
    table = pd.read_csv(tmp_path / "tables" / "appraisal.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == appraisal.APPRAISAL_COLUMNS
    assert sorted(table["analysis"]) == sorted(KEYS)
    assert all(n == "" or n == "<5" or int(n) >= 5 for n in table["n"])
    text = out.read_text()
    ids = pd.read_csv(example / "patients.csv", dtype=str)["patient_id"]
    assert not [i for i in ids if f'"{i}' in text or f" {i} " in text]  # no identifier in the executed notebook
    # no sorafenib era split on this cohort (every salvage started after ERA_START): said, not crashed
    assert "fewer than two groups" in table.set_index("analysis").at["era_from2009", "note"]


def test_the_notebook_goes_on_without_a_sorafenib_group(tmp_path):
    # issue 11, point 4: every section that cannot run says why, and the notebook goes on to write its table
    import papermill

    example = helpers.ROOT / "data" / "examples" / "cohort250"
    data = tmp_path / "data"
    data.mkdir()
    for name in ("patients.csv", "adverse_events.csv"):
        (data / name).write_bytes((example / name).read_bytes())
    progression = pd.read_excel(example / "progression.xlsx", dtype=str)
    progression["salvage_treatment"] = progression["salvage_treatment"].replace("sorafenib", "bsc")
    progression.to_csv(data / "progression.csv", index=False)
    out = tmp_path / "nb.ipynb"
    papermill.execute_notebook(str(helpers.ROOT / "notebooks" / "07_appraisal_sorafenib_effect.ipynb"), str(out),
                               cwd=str(helpers.ROOT / "notebooks"), kernel_name="python3", progress_bar=False,
                               parameters={"DATA_DIR": str(data), "OUTPUT_DIR": str(tmp_path / "o"), **FEW_REPLICATES})
    table = pd.read_csv(tmp_path / "o" / "tables" / "appraisal.csv", dtype=str, keep_default_na=False)
    assert sorted(table["analysis"]) == sorted(KEYS)
    rows = table.set_index("analysis")
    assert rows.at["td_cox_sorafenib", "estimate"] == "" and rows.at["td_cox_sorafenib", "note"] != ""
    assert rows.at["rmst_sorafenib", "estimate"] == "" and rows.at["sorafenib_vs_bsc", "p"] == ""


# --- balance against chance, power ------------------------------------------------------------

def test_smd_under_randomisation_matches_exact_enumeration():
    # binary x = 1,1,0,0,0,0 in two groups of 3: the number of ones in the first group is hypergeometric,
    # k = 0, 1, 2 with probabilities 4/20, 12/20, 4/20 (C(2,k) C(4,3-k) / C(6,3)). SMD by hand:
    # k = 1: p1 = p2 = 1/3, SMD 0; k = 0 or 2: |0 - 2/3| / sqrt((0 + 2/9) / 2) = (2/3) / (1/3) = 2.
    # So P(|SMD| > 0.1) = 8/20 = 0.4 exactly, and the 95th percentile is 2.
    df = pd.DataFrame({"grp": ["a"] * 3 + ["b"] * 3, "x": ["y", "y", "n", "n", "n", "n"]})
    out = appraisal.smd_under_randomisation(df, "grp", ["a", "b"], {"x": "x"}, {}, permutations=1000, seed=7).iloc[0]
    assert out["share_above"] == pytest.approx(0.4, abs=0.05)  # 1000 shuffles: SE sqrt(0.4 * 0.6 / 1000) = 0.015
    assert out["p95"] == pytest.approx(2.0)
    assert out["smd"] == pytest.approx(2.0) and out["kind"] == "categorical" and out["n"] == 6


def test_smd_under_randomisation_against_an_independent_enumeration():
    # all C(8,4) = 70 splits of 8 patients into two groups of 4, SMDs computed with numpy, for a continuous
    # and a binary variable; the seeded simulation must agree with the exact shares and 95th percentiles
    from itertools import combinations
    v = np.array([1.0, 2.5, 3.0, 4.2, 5.0, 7.5, 8.0, 12.0])
    c = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    exact_v, exact_c = [], []
    for first in combinations(range(8), 4):
        a = np.isin(np.arange(8), first)
        exact_v.append(abs(v[a].mean() - v[~a].mean()) / np.sqrt((v[a].var(ddof=1) + v[~a].var(ddof=1)) / 2))
        p1, p2 = c[a].mean(), c[~a].mean()
        pooled = (p1 * (1 - p1) + p2 * (1 - p2)) / 2
        exact_c.append(0.0 if pooled == 0 else abs(p1 - p2) / np.sqrt(pooled))
    exact_v, exact_c = np.array(exact_v), np.array(exact_c)
    df = pd.DataFrame({"grp": ["a"] * 4 + ["b"] * 4, "v": v, "c": c.astype(str)})
    out = appraisal.smd_under_randomisation(df, "grp", ["a", "b"], {"c": "c"}, {"v": "v"}, permutations=4000,
                                            seed=3, threshold=0.5).set_index("variable")
    assert out.at["v", "share_above"] == pytest.approx((exact_v > 0.5).mean(), abs=0.03)
    assert out.at["c", "share_above"] == pytest.approx((exact_c > 0.5).mean(), abs=0.03)
    assert out.at["c", "p95"] == pytest.approx(np.quantile(exact_c, 0.95))  # few distinct values: exact
    # 70 splits give 35 distinct values (a split and its mirror agree): the simulated 95th percentile must sit where
    # about 95% of the exact distribution lies at or below it
    q = out.at["v", "p95"]
    assert (exact_v < q - 1e-9).mean() <= 0.95 + 0.03 and (exact_v <= q + 1e-9).mean() >= 0.95 - 0.03
    assert out.at["v", "smd"] == pytest.approx(exact_v[0]) and out.at["v", "kind"] == "continuous"


def test_smd_under_randomisation_observed_agrees_with_tableone_and_is_seeded():
    # the observed SMDs are tableone's (smd_table), multi-level and missing values included
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"g": rng.choice(["a", "b"], 60), "c": rng.choice(["x", "y", "z"], 60), "v": rng.normal(size=60)})
    df.loc[[1, 5, 9], "v"] = np.nan
    df.loc[[2, 7], "c"] = np.nan
    ours = appraisal.smd_under_randomisation(df, "g", ["a", "b"], {"c": "c", "absent": "nope"}, {"v": "v"}, seed=1)
    tableone = appraisal.smd_table(df, "g", ["a", "b"], {"c": "c", "absent": "nope"}, {"v": "v"})
    assert ours["variable"].tolist() == ["c", "absent", "v"] == tableone["variable"].tolist()
    assert ours["smd"].tolist() == pytest.approx(tableone["smd"].tolist(), nan_ok=True)
    assert ours["n"].tolist() == [58, 0, 57] and ours["note"].iloc[1] == "not in these data"
    again = appraisal.smd_under_randomisation(df, "g", ["a", "b"], {"c": "c"}, {"v": "v"}, seed=1)
    assert again["share_above"].tolist() == ours.dropna(subset=["smd"])["share_above"].tolist()
    one_group = appraisal.smd_under_randomisation(df[df["g"] == "a"], "g", ["a", "b"], {"c": "c"}, {})
    assert "fewer than two groups" in one_group["note"].iloc[0]


def test_smd_under_randomisation_is_fast_on_the_bundled_cohort():
    import time
    spp, _ = _bundled()
    start = time.perf_counter()
    out = appraisal.smd_under_randomisation(spp, "salvage_group", ["sorafenib", "other salvage"],
                                            {**groups.TABLE2_CATEGORICAL, "era": "era"}, groups.TABLE2_CONTINUOUS)
    assert time.perf_counter() - start < 2
    # 19 + 19 patients: 19 with performance status 0 can never split evenly, so every randomisation leaves |SMD| >= 0.105
    assert out.set_index("variable").at["ps", "share_above"] == 1
    assert out["share_above"].between(0.5, 1).all()


def test_power_by_schoenfeld_by_hand():
    # z_0.975 = 1.959964, z_0.8 = 0.841621; HR = 2, share 0.5: D = (1.959964 + 0.841621)^2 / (0.25 ln(2)^2)
    #   = 7.848879 / (0.25 * 0.480453) = 65.346
    assert appraisal.deaths_needed(2) == pytest.approx(65.346, abs=1e-3)
    assert appraisal.deaths_needed(0.5) == pytest.approx(65.346, abs=1e-3)  # the same effect the other way round
    # share 1/3: s (1 - s) = 2/9 instead of 1/4: D = 65.346 * 0.25 / (2/9) = 73.514
    assert appraisal.deaths_needed(2, share=1 / 3) == pytest.approx(73.514, abs=1e-3)
    # power 0.9 (z 1.281552): (1.959964 + 1.281552)^2 / (0.25 * 0.480453) = 10.507423 / 0.120113 = 87.479
    assert appraisal.deaths_needed(2, power=0.9) == pytest.approx(87.479, abs=1e-2)
    # 28 deaths: ln HR = 2.801585 / sqrt(0.25 * 28) = 2.801585 / 2.645751 = 1.058900, HR = exp(1.058900) = 2.8832
    assert appraisal.detectable_hr(28) == pytest.approx(2.8832, abs=1e-4)
    assert appraisal.deaths_needed(appraisal.detectable_hr(28)) == pytest.approx(28)
    assert np.isinf(appraisal.deaths_needed(1)) and np.isnan(appraisal.deaths_needed(np.nan))
    assert np.isnan(appraisal.detectable_hr(0)) and np.isnan(appraisal.detectable_hr(10, share=1))


def test_cox_hr_matches_r_and_says_why_when_not_estimable():
    # the one-covariate Cox model of survival.cox_table (itself tested against R in test_survival.py), read the
    # other way round by swapping the levels: the hazard ratio inverts, the Wald p stays
    res = appraisal.cox_hr(SMALL, "t", "e", "g", "b", "a")
    ref = survival.cox_table(SMALL, "t", "e", {"g": ("g", "a", "b")}).iloc[0]
    assert [res[k] for k in ("hr", "ci_low", "ci_high", "p")] == pytest.approx([ref.hr, ref.ci_low, ref.ci_high, ref.p])
    flipped = appraisal.cox_hr(SMALL, "t", "e", "g", "a", "b")
    assert flipped["hr"] == pytest.approx(1 / res["hr"]) and res["n"] == 20 and res["events"] == 14
    assert "fewer than two groups" in appraisal.cox_hr(SMALL[SMALL["g"] == "a"], "t", "e", "g", "b", "a")["note"]
