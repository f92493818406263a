"""Tests of src/stats/zph.py: the proportional-hazards test of R's cox.zph (survival >= 3.0) for lifelines fits.

Reference values from R 4.2.2 with survival 3.5.3, printed by `Rscript tests/r/zph.R` and typed in:
the paper's SPP model on the bundled synthetic cohort (coded as notebook 06 codes it), the time-varying
sorafenib model of notebook 07 (counting-process rows), and R's `lung` data (tests/r/lung.csv, written by
that script) with Efron and Breslow ties, a two-column factor term and the rank transform.
Agreement to 3 decimals (absolute 5e-4 on chi-square and p).
"""
import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter

from src.stats import appraisal, survival, zph
from src import helpers

LUNG = pd.read_csv(helpers.ROOT / "tests" / "r" / "lung.csv")
CLOSE = {"abs": 5e-4}


def _rows(result):
    return result["table"].set_index("term")[["chisq", "df", "p"]]


def _check(result, expected: dict):
    rows = _rows(result)
    assert list(rows.index) == list(expected)
    for term, (chisq, df, p) in expected.items():
        assert rows.loc[term, "chisq"] == pytest.approx(chisq, **CLOSE), term
        assert rows.loc[term, "df"] == df, term
        assert rows.loc[term, "p"] == pytest.approx(p, **CLOSE), term


def _spp():
    cut = {"total_bilirubin": 1.0}
    tables = helpers.load_cohort(helpers.ROOT / "data")
    spp = survival.add_factors(helpers.spp_frame(tables, 8, "months"), cut)
    spp["delay"] = helpers.time_between(spp["progression_date"], spp["salvage_start_date"], "months")
    return spp, survival.table3_factors(cut)


def test_bundled_spp_model_equals_r():
    # R: tbil 1.4632478161 1 0.2264140654; ascites 0.7455019076 1 0.3879041009;
    #    sorafenib 0.1187994871 1 0.7303402075; GLOBAL 3.3313139232 3 0.3433080556
    spp, factors = _spp()
    cph, design = survival.cox_fit(spp, "spp_time", "death", {k: factors[k] for k in ("tbil", "ascites", "sorafenib")})
    # notebook 06's coding is R's script's: coefficients 0.6333585111 -1.2700430269 0.9038129269
    assert cph.params_.tolist() == pytest.approx([0.6333585111, -1.2700430269, 0.9038129269], abs=1e-5)
    result = zph.zph_table(cph, design, "spp_time", "death")
    _check(result, {"tbil": (1.4632478161, 1, 0.2264140654), "ascites": (0.7455019076, 1, 0.3879041009),
                    "sorafenib": (0.1187994871, 1, 0.7303402075), "GLOBAL": (3.3313139232, 3, 0.3433080556)})
    # scaled Schoenfeld residuals of the first three deaths (x = transformed time), as plot(cox.zph(fit)) draws them
    # 0.00000000000 3.3220185737  4.385162303  2.266081164
    # 0.02631578947 0.7224734249 -2.579512701 -2.264596239
    # 0.05263157895 1.3714441683 -2.731274259  2.299379803
    assert result["x"][:3] == pytest.approx([0.0, 0.02631578947, 0.05263157895], abs=1e-9)
    assert result["y"].iloc[:3].to_numpy().ravel() == pytest.approx(
        [3.3220185737, 4.385162303, 2.266081164, 0.7224734249, -2.579512701, -2.264596239,
         1.3714441683, -2.731274259, 2.299379803], abs=1e-3)


def test_lifelines_test_is_not_r_s():
    """Why this module exists: lifelines' proportional_hazard_test gives other numbers on the same model."""
    from lifelines.statistics import proportional_hazard_test

    spp, factors = _spp()
    cph, design = survival.cox_fit(spp, "spp_time", "death", {k: factors[k] for k in ("tbil", "ascites", "sorafenib")})
    old = proportional_hazard_test(cph, design, time_transform="km").summary["test_statistic"]
    assert abs(old["tbil"] - 1.4632478161) > 0.05


def test_one_factor_model_equals_r():
    # R: sorafenib 0.2105148254 1 0.6463641881; GLOBAL the same
    spp, factors = _spp()
    cph, design = survival.cox_fit(spp, "spp_time", "death", {"sorafenib": factors["sorafenib"]})
    _check(zph.zph_table(cph, design, "spp_time", "death"),
           {"sorafenib": (0.2105148254, 1, 0.6463641881), "GLOBAL": (0.2105148254, 1, 0.6463641881)})


def test_time_varying_model_equals_r():
    # R (tmerge, tdc; coxph(Surv(tstart, tstop, death) ~ on_sor + tbil + ascites)):
    #   on_sor 0.006152401922 1 0.9374802449; tbil 1.448734430317 1 0.2287311325;
    #   ascites 0.809567120953 1 0.3682482625; GLOBAL 3.192687086710 3 0.3628600218
    # on_sor alone: 0.04883749046 1 0.8250986156
    spp, factors = _spp()
    long = appraisal.td_cox_data(spp, "spp_time", "death", "delay", "sorafenib",
                                 {k: factors[k] for k in ("tbil", "ascites")})
    for columns, expected in [
        (["on_treatment"], {"on_treatment": (0.04883749046, 1, 0.8250986156), "GLOBAL": (0.04883749046, 1, 0.8250986156)}),
        (["on_treatment", "tbil", "ascites"],
         {"on_treatment": (0.006152401922, 1, 0.9374802449), "tbil": (1.448734430317, 1, 0.2287311325),
          "ascites": (0.809567120953, 1, 0.3682482625), "GLOBAL": (3.192687086710, 3, 0.3628600218)})]:
        ctv = CoxTimeVaryingFitter().fit(long[["id", "start", "stop", "event", *columns]], id_col="id",
                                         event_col="event", start_col="start", stop_col="stop")
        _check(zph.zph_table(ctv, long, "stop", "event", entry_col="start"), expected)


def test_lung_with_ties_equals_r():
    # lung has many tied death times (days): Efron's handling of ties matters here
    # R: age 0.1632057119 1 0.6862220825; sex 2.2645642886 1 0.1323634345; ph.ecog 1.9661978094 1 0.1608520221;
    #    GLOBAL 4.3727135556 3 0.2239288499
    # transform = "rank": age 0.09770891602 0.7545965423; sex 2.00210168047 0.1570812730;
    #    ph.ecog 2.43766920579 0.1184521139; GLOBAL 4.60542297094 0.2030773651
    cph = CoxPHFitter().fit(LUNG[["time", "status", "age", "sex", "ph.ecog"]], "time", "status")
    _check(zph.zph_table(cph, LUNG, "time", "status"),
           {"age": (0.1632057119, 1, 0.6862220825), "sex": (2.2645642886, 1, 0.1323634345),
            "ph.ecog": (1.9661978094, 1, 0.1608520221), "GLOBAL": (4.3727135556, 3, 0.2239288499)})
    _check(zph.zph_table(cph, LUNG, "time", "status", transform="rank"),
           {"age": (0.09770891602, 1, 0.7545965423), "sex": (2.00210168047, 1, 0.1570812730),
            "ph.ecog": (2.43766920579, 1, 0.1184521139), "GLOBAL": (4.60542297094, 3, 0.2030773651)})


def test_factor_term_has_its_degrees_of_freedom():
    # R, ~ age + sex + factor(ph.ecog): age 0.1633731515 1 0.6860697364; sex 2.4398815226 1 0.1182851594;
    #    factor(ph.ecog) 2.8713407118 2 0.2379557955; GLOBAL 4.9918826899 4 0.2881313965
    lung = LUNG.assign(ecog1=(LUNG["ph.ecog"] == 1) * 1.0, ecog2=(LUNG["ph.ecog"] == 2) * 1.0)
    cph = CoxPHFitter().fit(lung[["time", "status", "age", "sex", "ecog1", "ecog2"]], "time", "status")
    result = zph.zph_table(cph, lung, "time", "status", terms={"age": "age", "sex": "sex", "ph.ecog": ["ecog1", "ecog2"]})
    _check(result, {"age": (0.1633731515, 1, 0.6860697364), "sex": (2.4398815226, 1, 0.1182851594),
                    "ph.ecog": (2.8713407118, 2, 0.2379557955), "GLOBAL": (4.9918826899, 4, 0.2881313965)})
    assert list(result["y"].columns) == ["age", "sex", "ph.ecog"]


def test_breslow_ties_equal_r():
    # R, ties = "breslow", ~ age + sex: coefficients 0.01684665764 -0.49880368334;
    #    age 0.176946584 1 0.6740105368; sex 2.339978874 1 0.1260912640; GLOBAL 2.476752930 2 0.2898544250
    result = zph.cox_zph(LUNG["time"], LUNG["status"], LUNG[["age", "sex"]], [0.01684665764, -0.49880368334],
                         ties="breslow")
    _check(result, {"age": (0.176946584, 1, 0.6740105368), "sex": (2.339978874, 1, 0.1260912640),
                    "GLOBAL": (2.476752930, 2, 0.2898544250)})


def test_recoding_a_factor_leaves_the_test_unchanged():
    """Swapping a factor's reference level (x -> 1 - x) changes the sign of its coefficient, not the test."""
    cph = CoxPHFitter().fit(LUNG[["time", "status", "age", "sex"]], "time", "status")
    flipped = LUNG.assign(sex=1 - (LUNG["sex"] - 1))
    cph2 = CoxPHFitter().fit(flipped[["time", "status", "age", "sex"]], "time", "status")
    a, b = zph.zph_table(cph, LUNG, "time", "status"), zph.zph_table(cph2, flipped, "time", "status")
    assert a["table"]["chisq"].to_numpy() == pytest.approx(b["table"]["chisq"].to_numpy(), abs=1e-6)


def test_km_transform_is_left_continuous_one_minus_km():
    # three deaths and a censoring: S = 3/4 after t=1, 3/4 * 1/2 after t=3 (2 at risk), 0 after t=4
    t, e = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 1, 1])
    assert zph.transform_time(t, e).tolist() == pytest.approx([0.0, 0.25, 0.25, 1 - 0.375])


def test_no_model_gives_none():
    assert zph.zph_table(None, pd.DataFrame(), "t", "e") is None
