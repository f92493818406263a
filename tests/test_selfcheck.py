"""The exercises' self-checks (src/course/selfcheck.py) and their worked solutions (notebooks/solutions/).

Every check says right for the right answer, computed here the plain way (lifelines, numpy, statsmodels,
or the chapter's function where the chapter's definition is the point), and not right for a plausible
wrong one (censoring ignored, the unswapped reference, Bonferroni for Holm, the default parameter...).
Every exercise of notebooks 01-07 has a check, and every solution notebook calls it (nbval executes
them; `strict=True` makes a wrong solution fail)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from src.stats import appraisal, groups, survival
from src import helpers, runner
from src.course import selfcheck

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("0[1-7]_*.ipynb"))
SOLUTIONS = ROOT / "notebooks" / "solutions"
MONTH = helpers.DAYS_PER_MONTH


@pytest.fixture(scope="module")
def tables():
    return selfcheck._load(str(ROOT / "data"))


def chapter_exercises(path: Path) -> list[int]:
    """The numbers of the exercises listed under '## Exercises' in a chapter's markdown."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    block = text.split("## Exercises", 1)[1]
    block = re.split(r"\n#{1,2} ", block, maxsplit=1)[0]
    return [int(n) for n in re.findall(r"^(\d+)\. ", block, flags=re.M)]


def solution_for(chapter: Path) -> Path:
    return SOLUTIONS / f"{chapter.stem}_solutions.ipynb"


# --- right and wrong answers, computed here ------------------------------------------------------

def _os(t):
    p = t["patients"]
    return (p["last_followup_date"] - p["first_haic_date"]).dt.days / MONTH, p["death"].astype(int)


def _spp(t, limit=8):
    return helpers.spp_frame(t, limit)


def _km(durations, events):
    return KaplanMeierFitter().fit(durations, events)


def _logrank(df, time, group="salvage_group"):
    a, b = (df[df[group] == g] for g in sorted(df[group].unique()))
    return logrank_test(a[time], b[time], a["death"], b["death"]).p_value


def _boxes(t, limit):
    prog = t["progression"]
    kept = prog[prog["child_pugh_score"] <= limit]
    soraf = int(kept["salvage_treatment"].eq("sorafenib").sum())
    return {"excluded": int((prog["child_pugh_score"] > limit).sum()), "spp": len(kept), "sorafenib": soraf,
            "other": len(kept) - soraf}


def _moved(t):
    d = _spp(t)["salvage_start_date"]
    return int(((d >= "2009-01-01") & (d < "2009-06-01")).sum())


def _gain(t):
    ev, n = t["adverse_events"], len(t["patients"])
    worst = ev.groupby(["term", "patient_id"])["grade"].max()
    at = lambda g: worst[worst >= g].groupby(level="term").size()  # noqa: E731
    g2, g3 = at(2), at(3).reindex(at(2).index, fill_value=0)
    return g2 - g3, g2


def _dcr(t, z=1.959964):
    p = t["patients"]
    k, n = int(p["best_response"].isin(selfcheck.DISEASE_CONTROL).sum()), len(p)
    q = k / n
    return {"exact": proportion_confint(k, n, method="beta"),
            "wald": (q - z * np.sqrt(q * (1 - q) / n), q + z * np.sqrt(q * (1 - q) / n))}


def _landmark_widths(t):
    d, e = _os(t)
    km = KaplanMeierFitter(alpha=0.05).fit(d, e)
    rows = {}
    for y in (0.5, 1, 2):
        s = km.survival_function_at_times(12 * y).iloc[0]
        ci = km.confidence_interval_survival_function_
        lo, hi = ci[ci.index <= 12 * y].iloc[-1]
        rows[y] = (hi - lo, (hi - lo) / s)
    return rows


def _lm(t, landmark=3):
    os_df = helpers.overall_survival_frame(t)
    both = os_df[os_df["response_group"].isin(["disease control", "progressive disease"])]
    lm = both[both["os_time"] > landmark]
    return both, lm


def _univariate_p(t, cutoffs=None):
    cut = {**selfcheck.TABLE3_CUTOFFS, **(cutoffs or {})}
    spp = survival.add_factors(_spp(t), cut)
    return survival.univariate_logrank_table(spp, survival.table3_factors(cut), "spp_time", "death").set_index("key")["p"]


def _paper_model_sorafenib(t, swap):
    spp = survival.add_factors(_spp(t), selfcheck.TABLE3_CUTOFFS)
    f = survival.table3_factors(selfcheck.TABLE3_CUTOFFS)
    model = {k: f[k] for k in selfcheck.PAPER_MODEL}
    if swap:
        c, ref, other = model["sorafenib"]
        model["sorafenib"] = (c, other, ref)
    row = survival.cox_table(spp, "spp_time", "death", model).set_index("key").loc["sorafenib"]
    return {k: float(row[k]) for k in ("hr", "ci_low", "ci_high", "p")}


def _bilirubin_continuous(t):
    spp = _spp(t)
    frame = pd.DataFrame({"T": spp["spp_time"], "E": spp["death"], "tbil": spp["total_bilirubin"],
                          "asc": spp["ascites"].eq("yes").astype(float), "sor": spp["sorafenib"].astype(float)})
    cph = CoxPHFitter().fit(frame, "T", "E")
    return {"hr": float(np.exp(cph.params_["tbil"])), "p": float(cph.summary.loc["tbil", "p"])}


def _landmarks(t, days_list, as_days=None):
    spp = _spp(t)
    spp["delay"] = helpers.time_between(spp["progression_date"], spp["salvage_start_date"])
    out = {}
    for days in days_list:
        lm, late = appraisal.landmark_frame(spp, "spp_time", (as_days or days) / MONTH, "delay", "sorafenib",
                                            labels=selfcheck.GROUPS)
        out[days] = {"n": len(lm), "late_starters": late, "p": _logrank(lm.assign(spp_time=lm["lm_time"]), "spp_time", "lm_group")}
    return out


def _rmst(t, taus, sign=1):
    spp = _spp(t)
    return {tau: sign * appraisal.rmst_comparison(spp, "spp_time", "death", "salvage_group", selfcheck.GROUPS, tau)[1]["estimate"]
            for tau in taus}


def _evalues(t, paper_model=False):
    if paper_model:
        r = _paper_model_sorafenib(t, swap=True)
        e, ci = appraisal.evalues(r["hr"], r["ci_low"], r["ci_high"], common=True)
        return {"evalue": e, "evalue_ci": ci}
    spp = _spp(t)
    spp["delay"] = helpers.time_between(spp["progression_date"], spp["salvage_start_date"])
    fit = appraisal.td_cox(appraisal.td_cox_data(spp, "spp_time", "death", "delay", "sorafenib"))
    e, ci = appraisal.evalues(fit["hr"], fit["ci_low"], fit["ci_high"], common=True)
    return {"evalue": e, "evalue_ci": ci}


def _holm(t, method="holm"):
    p = _univariate_p(t).drop("sorafenib").dropna().sort_values()
    return list(multipletests(p.to_numpy(), method=method)[1][:3])


def _power(t, power):
    spp = _spp(t)
    cph = CoxPHFitter().fit(pd.DataFrame({"T": spp["spp_time"], "E": spp["death"], "s": spp["sorafenib"].astype(float)}), "T", "E")
    share = spp["sorafenib"].mean()
    deaths = appraisal.deaths_needed(float(np.exp(cph.params_["s"])), power=power, share=share)
    return int(np.ceil(deaths))


def _smd_shift(t):
    spp = _spp(t)
    spp = survival.add_factors(spp, selfcheck.TABLE3_CUTOFFS)
    spp["era"] = helpers.treatment_era(spp["salvage_start_date"], "2009-01-01", 2005)
    cat = {**groups.TABLE2_CATEGORICAL, "era": "era"}
    s = [appraisal.smd_under_randomisation(spp, "salvage_group", selfcheck.GROUPS, cat, groups.TABLE2_CONTINUOUS,
                                           seed=seed).set_index("variable")["share_above"] for seed in (2024, 1)]
    return float((s[0] - s[1]).abs().max())


def _tableone_p(t, anova=False):
    from scipy import stats
    from tableone import TableOne

    p = t["patients"]
    shown = TableOne(p, columns=["ascites", "afp"], categorical=["ascites"], nonnormal=[] if anova else ["afp"],
                     groupby="bclc_stage", pval=True, missing=False).tableone
    col = next(c for c in shown.columns if c[-1] == "P-Value")
    first = lambda v: next(x for i, x in shown[col].items() if i[0].split(",")[0] == v and str(x).strip())  # noqa: E731
    out = {c: 0.0005 if str(first(c)).startswith("<") else float(first(c)) for c in ("ascites",)}
    groups = [g["afp"].dropna() for _, g in p.groupby("bclc_stage")]
    out["afp"] = stats.f_oneway(*groups).pvalue if anova else stats.kruskal(*groups).pvalue
    return out


def _table2_changed(t):
    spp = survival.add_factors(_spp(t), {"tumor_count": 4, "max_tumor_size_mm": 50})
    ps = []
    for tests in (("fisher", "student"), ("chi2", "mannwhitney")):
        long = groups.compare_groups(spp, "salvage_group", groups.TABLE2_CATEGORICAL, groups.TABLE2_CONTINUOUS,
                                     test_categorical=tests[0], test_continuous=tests[1], groups=selfcheck.GROUPS)
        ps.append(long.groupby("variable")["p"].first())
    return sorted(ps[0].index[(ps[0] < 0.05) != (ps[1] < 0.05)])


def _not(values: set, universe) -> list:
    """A plausible wrong set: the right one with one element added or removed."""
    extra = [u for u in universe if u not in values]
    return sorted(values | {extra[0]}) if extra else sorted(values)[1:]


RIGHT = {
    "01.1": lambda t: _boxes(t, 9),
    "01.2": _moved,
    "01.3": lambda t: {"naive": float(_os(t)[0].median()), "reverse_km": _km(_os(t)[0], 1 - _os(t)[1]).median_survival_time_},
    "02.1": lambda t: int(t["patients"]["afp"].between(400, 500, inclusive="right").sum()),
    "02.2": lambda t: {"mean": t["patients"]["afp"].mean(), "sd": t["patients"]["afp"].std(), "median": t["patients"]["afp"].median()},
    "02.3": _tableone_p,
    "03.1": lambda t: _gain(t)[0].idxmax(),
    "03.2": _dcr,
    "03.3": lambda t: float(t["patients"]["n_haic_sessions"].mean()),
    "04.1": lambda t: max(_landmark_widths(t).items(), key=lambda kv: kv[1][1])[0],
    "04.2": lambda t: {"all_deaths": _km(_os(t)[0], np.ones(len(_os(t)[0]))).median_survival_time_,
                       "km": _km(*_os(t)).median_survival_time_, "bias": "shorter"},
    "04.3": lambda t: float(_km(*_os(t)).survival_function_at_times(12).iloc[0]),
    "04.4": lambda t: {"n": len(_lm(t)[1]), "p": _logrank(_lm(t)[1], "os_time", "response_group")},
    "05.1": lambda t: {"sorafenib": _boxes(t, 9)["sorafenib"], "other": _boxes(t, 9)["other"],
                       "p": _logrank(_spp(t, 9), "spp_time")},
    "05.2": _table2_changed,
    "05.3": lambda t: {"p_os": _logrank(_spp(t), "os_time"), "p_spp": _logrank(_spp(t), "spp_time")},
    "05.4": lambda t: int((_spp(t)["salvage_start_date"].lt("2009-01-01") & ~_spp(t)["sorafenib"]).sum()),
    "06.1": lambda t: sorted(_univariate_p(t).loc[lambda p: p < 0.10].index),
    "06.2": lambda t: {c: _univariate_p(t, {"total_bilirubin": c})["tbil"] for c in (0.8, 1.2)},
    "06.3": lambda t: _paper_model_sorafenib(t, swap=True),
    "06.4": _bilirubin_continuous,
    "07.1": lambda t: _landmarks(t, [14, 60]),
    "07.2": lambda t: _rmst(t, [6, 24]),
    "07.3": _moved,
    "07.4": _evalues,
    "07.5": _holm,
    "07.6": lambda t: {"deaths": _power(t, 0.9), "smd_shift": _smd_shift(t)},
}

WRONG = {  # plausible mistakes
    "01.1": lambda t: _boxes(t, 8),                                      # the default limit
    "01.2": lambda t: _moved(t) + 1,
    "01.3": lambda t: {"naive": float(_os(t)[0].median()), "reverse_km": _km(*_os(t)).median_survival_time_},  # median survival
    "02.1": lambda t: int((t["patients"]["afp"] > 400).sum()),           # everyone above 400
    "02.2": lambda t: {"mean": t["patients"]["afp"].median(), "median": t["patients"]["afp"].mean()},  # swapped
    "02.3": lambda t: _tableone_p(t, anova=True),                        # ANOVA on a skewed marker
    "03.1": lambda t: (lambda gain, g2: g2.idxmax() if gain[g2.idxmax()] < gain.max() else gain.idxmin())(*_gain(t)),
    "03.2": lambda t: _dcr(t, z=1.645),                                  # a 90% Wald interval
    "03.3": lambda t: float(t["patients"]["n_haic_sessions"].median()),
    "04.1": lambda t: (lambda w: (lambda right, absolute: absolute if absolute != right else [y for y in w if y != right][0])(
        max(w, key=lambda y: w[y][1]), max(w, key=lambda y: w[y][0])))(_landmark_widths(t)),
    "04.2": lambda t: {"all_deaths": _km(_os(t)[0], np.ones(len(_os(t)[0]))).median_survival_time_,
                       "km": _km(*_os(t)).median_survival_time_, "bias": "longer"},
    "04.3": lambda t: float(1 - (_os(t)[1][_os(t)[0] <= 12]).sum() / len(_os(t)[0])),  # censoring ignored
    "04.4": lambda t: {"n": len(_lm(t)[0]), "p": _logrank(_lm(t)[0], "os_time", "response_group")},  # no landmark
    "05.1": lambda t: {"sorafenib": _boxes(t, 8)["sorafenib"], "other": _boxes(t, 8)["other"],
                       "p": _logrank(_spp(t, 8), "spp_time")},
    "05.2": lambda t: _not(set(_table2_changed(t)), ["afp", "dcp", "ascites"]),
    "05.3": lambda t: {"p_os": _logrank(_spp(t), "spp_time"), "p_spp": _logrank(_spp(t), "os_time")},  # swapped
    "05.4": lambda t: int((~_spp(t)["sorafenib"]).sum()),                # every other-salvage patient
    "06.1": lambda t: _not(set(_univariate_p(t).loc[lambda p: p < 0.10].index), list(_univariate_p(t).sort_values().index)),
    "06.2": lambda t: {c: _univariate_p(t)["tbil"] for c in (0.8, 1.2)},  # the 1.0 cut-off twice
    "06.3": lambda t: _paper_model_sorafenib(t, swap=False),             # not swapped
    "06.4": lambda t: {"hr": _paper_model_sorafenib(t, swap=False)["hr"], "p": 0.5},
    "07.1": lambda t: _landmarks(t, [14, 60], as_days=30),               # the default landmark
    "07.2": lambda t: _rmst(t, [6, 24], sign=-1),                        # other minus sorafenib
    "07.3": lambda t: _moved(t) + 2,
    "07.4": lambda t: _evalues(t, paper_model=True),                     # the fixed-group HR
    "07.5": lambda t: _holm(t, "bonferroni"),
    "07.6": lambda t: {"deaths": _power(t, 0.8), "smd_shift": 0.0},     # 80% power
}


def test_every_chapter_exercise_has_a_check_and_answers():
    wanted = {f"{path.name[:2]}.{k}" for path in CHAPTERS for k in chapter_exercises(path)}
    assert wanted, "no exercises found"
    assert wanted <= set(selfcheck.exercises()), f"exercises without a check: {sorted(wanted - set(selfcheck.exercises()))}"
    assert set(RIGHT) == set(WRONG) == set(selfcheck.exercises())


@pytest.mark.parametrize("exercise", sorted(RIGHT))
def test_right_answer_is_right(exercise, tables, capsys):
    assert selfcheck.check(exercise, RIGHT[exercise](tables), tables)
    assert capsys.readouterr().out.startswith("Right: ")


@pytest.mark.parametrize("exercise", sorted(WRONG))
def test_plausible_wrong_answer_is_not_right(exercise, tables, capsys):
    assert not selfcheck.check(exercise, WRONG[exercise](tables), tables)
    assert capsys.readouterr().out.startswith("Not quite: ")


def test_without_an_answer_the_check_says_what_to_pass(capsys):
    assert not selfcheck.check("4.2")
    assert "pass" in capsys.readouterr().out
    with pytest.raises(KeyError):
        selfcheck.check("99.1", 1)
    with pytest.raises(AssertionError):
        selfcheck.check("02.1", -1, strict=True, quiet=True)


def test_a_check_recomputes_on_the_students_data(tables):
    """Nothing is typed in: on a changed cohort the right answer changes with it."""
    changed = {**tables, "patients": tables["patients"].assign(afp=450.0)}
    n = len(changed["patients"])
    assert selfcheck.check("02.1", n, changed, quiet=True)
    assert not selfcheck.check("02.1", n, tables, quiet=True)


# --- the solution notebooks ----------------------------------------------------------------------

def test_every_chapter_has_a_solution_notebook_with_a_check_per_exercise():
    for chapter in CHAPTERS:
        solution = solution_for(chapter)
        assert solution.exists(), f"no solutions for {chapter.name}"
        cells = json.loads(solution.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        for k in chapter_exercises(chapter):
            assert re.search(rf'selfcheck\.check\("{chapter.name[:2]}\.{k}",.*strict=True', code), \
                f"{solution.name}: no strict check call for exercise {k}"


def test_solution_notebooks_are_clean_and_parameterised():
    import nbformat

    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        assert nb.cells[0].source.startswith("# ") and "synthetic" in nb.cells[0].source
        assert not [c for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count is not None)], path.name
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "OUTPUT_DIR = None" in tagged[0].source, path.name


def test_chapters_tell_students_how_to_check():
    for chapter in CHAPTERS:
        cells = json.loads(chapter.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert "selfcheck.check(" in text.split("## Exercises", 1)[1], chapter.name


def test_make_run_does_not_run_the_solutions():
    names = [p.name for p in runner.discover_notebooks(ROOT / "notebooks")]
    assert names and not any("solutions" in n for n in names)
