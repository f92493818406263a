"""Self-checks for the exercises of notebooks 01-07: a student passes an answer, the check
recomputes the right one from the same data with the project's functions and says so.

    from src.course import selfcheck
    selfcheck.check("04.2", {"all_deaths": 6.1, "km": 7.8}, tables)   # tables: the chapter's `tables`
    selfcheck.check("04.2")                                             # what to pass

`check(exercise, answer, tables=None, **settings)` prints "Right: ..." or "Not quite: ..." (what to
look at) and returns True or False. Nothing is typed in: every expected value is recomputed from
`tables` (the three tables the chapter loaded; None: the bundled synthetic cohort), so a check
works on any cohort. For an open-ended exercise the check verifies the computable part and then
prints what a good answer discusses. `settings` are the chapter's parameters the exercise leaves
alone (`time_unit`, `max_child_pugh`, `alpha`, ...), lower-case, with the chapters' defaults.

Tolerances accept an answer rounded as a table prints it (months to 0.1, p-values to 3 decimals,
proportions to 0.001; percentages for proportions are understood). Worked solutions:
`notebooks/solutions/`.
"""
from __future__ import annotations

import contextlib
import io
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from src.stats import appraisal, groups, survival
from src import cohort
from src.config import ROOT
from src.study import DAYS_PER_MONTH, ERA_START, PAPER_MODEL, TABLE3_CUTOFFS

DISEASE_CONTROL = [code for code, group in cohort.RESPONSE_GROUPS.items() if group == "disease control"]
GROUPS = ["sorafenib", "other salvage"]
# TABLE3_CUTOFFS (the defaults of notebooks 06 and 07) and PAPER_MODEL: from `src.study`
PAPER_MODEL = list(PAPER_MODEL)
LABS = ["alt", "total_bilirubin", "prothrombin_activity", "albumin", "platelets", "afp", "dcp"]

_REGISTRY: dict[str, dict] = {}


# --- the registry and the front door ------------------------------------------------------

def _exercise(key: str, form: str, discuss: str = ""):
    """Register a check: `form` says what to pass, `discuss` what a good answer also says in words."""
    def register(fn):
        _REGISTRY[key] = {"fn": fn, "form": form, "discuss": discuss}
        return fn
    return register


def exercises() -> list[str]:
    """The exercises that have a check ("01.1", ..., "07.6")."""
    return sorted(_REGISTRY)


def form(exercise: str) -> str:
    """What `check(exercise, answer)` expects as the answer."""
    return _REGISTRY[_key(exercise)]["form"]


def check(exercise: str, answer=None, tables: dict | None = None, data_dir=None, quiet: bool = False,
          strict: bool = False, **settings) -> bool:
    """Check `answer` to `exercise` ("04.2") on `tables` (the chapter's; None: load `data_dir`, by default
    the bundled cohort). Prints "Right: ..." or "Not quite: ..." and, for open-ended exercises, what a
    good answer discusses; returns True when the answer is right. Without an answer, prints the form.
    `strict=True` raises AssertionError on a wrong answer (the worked solutions use it, so that a test
    run fails when a solution no longer passes its check)."""
    entry = _REGISTRY[_key(exercise)]
    if answer is None:
        _say(f"Exercise {_key(exercise)}: pass {entry['form']}", quiet)
        return False
    data = tables if tables is not None else _load(str(Path(data_dir or ROOT / "data")))
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the project's functions print notes; keep the verdict clear
            ok, message = entry["fn"](answer, data, **settings)
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        ok, message = False, f"the answer has not the expected form ({type(error).__name__}: {error}); pass {entry['form']}"
    _say(("Right: " if ok else "Not quite: ") + message, quiet)
    if ok and entry["discuss"]:
        _say("A good answer also discusses: " + entry["discuss"], quiet)
    if strict and not ok:
        raise AssertionError(f"exercise {_key(exercise)}: {message}")
    return bool(ok)


def _key(exercise) -> str:
    text = str(exercise).strip()
    chapter, _, number = text.partition(".")
    key = f"{int(chapter):02d}.{int(number)}"
    if key not in _REGISTRY:
        raise KeyError(f"no check for exercise {text!r}; known: {', '.join(exercises())}")
    return key


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text)


@lru_cache(maxsize=4)
def _load(folder: str) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        return cohort.load_cohort(Path(folder))


# --- comparing numbers -----------------------------------------------------------------------

def _close(value, expected, tol: float, rel: float = 0.005) -> bool:
    """True when `value` is within `tol` (a rounding step) or `rel` (relative) of `expected`; two NaNs agree."""
    value, expected = float(value), float(expected)
    if np.isnan(expected) or np.isnan(value):
        return bool(np.isnan(expected) and np.isnan(value))
    if np.isinf(expected) or np.isinf(value):
        return value == expected
    return abs(value - expected) <= max(tol, rel * abs(expected)) + 1e-12


def _p_close(value, expected) -> bool:
    """p-values: three decimals, or 2% of a small p."""
    return _close(value, expected, 0.0005, rel=0.02)


def _proportion(value) -> float:
    """A proportion given as 0.42 or as 42 (%)."""
    value = float(value)
    return value / 100 if value > 1 else value


def _get(answer: dict, *names):
    """The first of `names` that `answer` has (so "other" and "other salvage" both work)."""
    for name in names:
        if name in answer:
            return answer[name]
    raise KeyError(names[0])


def _fmt(x, digits=3) -> str:
    return "not estimable" if x is None or not np.isfinite(float(x)) else f"{float(x):.{digits}g}"


def _ids_or_count(answer, ids: set) -> tuple[bool, str]:
    """An answer given as a count or as the collection of patient ids."""
    if isinstance(answer, (int, np.integer)):
        return int(answer) == len(ids), f"{len(ids)} patients"
    given = set(answer)
    return given == ids, f"{len(ids)} patients" + (f" ({', '.join(map(str, sorted(ids)))})" if ids else "")


# --- frames the chapters build ------------------------------------------------------------------

def _os(tables, time_unit="months") -> pd.DataFrame:
    return cohort.overall_survival_frame(tables, time_unit)


def _spp(tables, max_child_pugh=8, time_unit="months", cutoffs=None) -> pd.DataFrame:
    spp = survival.add_factors(cohort.spp_frame(tables, max_child_pugh, time_unit), cutoffs or TABLE3_CUTOFFS)
    spp["delay"] = cohort.time_between(spp["progression_date"], spp["salvage_start_date"], time_unit)
    return spp


def _era_changes(tables, era_start, new_start, max_child_pugh=8) -> pd.DataFrame:
    """SPP patients whose treatment era differs between `era_start` and `new_start`."""
    spp = cohort.spp_frame(tables, max_child_pugh)
    first_year = int(tables["patients"]["first_haic_date"].dt.year.min())
    old = cohort.treatment_era(spp["salvage_start_date"], era_start, first_year).cat.codes
    new = cohort.treatment_era(spp["salvage_start_date"], new_start, first_year).cat.codes
    return spp[old.ne(new)]


# --- 01 cohort flow ------------------------------------------------------------------------------

@_exercise("01.1", 'a dict of counts with MAX_CHILD_PUGH = 9: {"excluded": ..., "spp": ..., "sorafenib": ..., '
                   '"other": ...} (any of them; "spp" and "sorafenib" at least)',
           "which boxes change (the exclusion box and the SPP box, and which salvage groups gain); sorafenib needs "
           "a preserved liver (Child-Pugh A, at most B7 in practice), so the patients with a score of 9 at "
           "progression rarely received it: the new patients join the other options, mostly best supportive care.")
def _check_01_1(answer, tables, max_child_pugh=9):
    progression = tables["progression"]
    spp = cohort.spp_frame(tables, max_child_pugh)
    want = {"excluded": int((progression["child_pugh_score"] > max_child_pugh).sum()), "spp": len(spp),
            "sorafenib": int(spp["sorafenib"].sum()), "other": int((~spp["sorafenib"]).sum())}
    if not {"spp", "sorafenib"} <= set(answer):
        return False, 'give at least "spp" and "sorafenib"'
    wrong = [k for k, v in answer.items() if k in want and int(v) != want[k]]
    if wrong:
        return False, (f"{', '.join(wrong)} should be counted with cohort.spp_frame(tables, {max_child_pugh}) "
                       "(the exclusion: Child-Pugh score at progression above the limit, in `progression`)")
    new = spp[spp["child_pugh_score"] > max_child_pugh - 1]
    return True, (f"with MAX_CHILD_PUGH = {max_child_pugh}: {want['excluded']} excluded, {want['spp']} in the SPP "
                  f"cohort, {want['sorafenib']} sorafenib and {want['other']} other; of the {len(new)} patients with "
                  f"a score of {max_child_pugh}, {int(new['sorafenib'].sum())} received sorafenib.")


@_exercise("01.2", "the number of SPP patients whose era changes with ERA_START = '2009-06-01' (or the collection "
                   "of their patient ids)",
           "which salvage options those patients had; that sorafenib patients all start after its approval "
           "(May 2009), so moving the boundary into 2009 can only move other options into the earlier era.")
def _check_01_2(answer, tables, era_start=ERA_START, new_start="2009-06-01", max_child_pugh=8):
    moved = _era_changes(tables, era_start, new_start, max_child_pugh)
    ok, what = _ids_or_count(answer, set(moved["patient_id"]))
    options = moved["salvage_treatment"].value_counts().to_dict()
    detail = f"{what} change era ({options or 'none'}): their salvage started between {era_start} and {new_start}."
    return ok, detail if ok else ("compare cohort.treatment_era(spp['salvage_start_date'], ...) under both "
                                  "starts, for the SPP cohort (the era is set by the salvage start, not the first HAIC)")


@_exercise("01.3", '{"naive": median of all observed times, "reverse_km": reverse Kaplan-Meier median follow-up} '
                   "(in months)",
           "a patient who died early stops contributing follow-up by dying, not because follow-up ended; the naive "
           "median mixes survival with follow-up and so is shorter when many die early, while the reverse "
           "Kaplan-Meier treats death as censoring of follow-up.")
def _check_01_3(answer, tables, time_unit="months"):
    os_df = _os(tables, time_unit)
    naive = float(os_df["os_time"].median())
    reverse = survival.followup_summary(os_df["os_time"], os_df["death"])["median"]
    km = survival.km_fit(os_df["os_time"], os_df["death"]).median_survival_time_
    if not _close(_get(answer, "naive"), naive, 0.05):
        return False, "the naive median is the plain median of os_time over every patient, dead or alive"
    if not _close(_get(answer, "reverse_km", "reverse"), reverse, 0.05):
        hint = " (that is the median survival: swap event and censoring)" if _close(answer["reverse_km"], km, 0.05) else ""
        return False, f"the reverse Kaplan-Meier median comes from survival.followup_summary(os_time, death){hint}"
    return True, f"naive median {naive:.1f} {time_unit}, reverse Kaplan-Meier median {_fmt(reverse)} {time_unit}."


# --- 02 Table 1 ------------------------------------------------------------------------------------

@_exercise("02.1", "the number of patients who cross the line when AFP_CUTOFF moves from 500 to 400 (an int)",
           "that the count above a cut-off is sensitive to where the line is drawn when many values lie near it.")
def _check_02_1(answer, tables, old=500, new=400):
    afp = tables["patients"].get("afp")
    if afp is None:
        return False, "these data have no AFP column"
    low, high = sorted([old, new])
    want = int(((afp > low) & (afp <= high)).sum())  # Table 1 counts "above" (strictly greater)
    if int(answer) != want:
        return False, (f"count the patients above {new} but not above {old} (Table 1 counts AFP > cut-off, strictly): "
                       f"not every patient above {new}")
    return True, f"{want} patients have an AFP above {low} and at most {high} ng/mL."


@_exercise("02.2", '{"mean": ..., "sd": ..., "median": ...} of AFP (ng/mL) at the first HAIC session',
           "AFP is very skewed: a few huge values pull the mean far above the median and make the SD larger than the "
           "mean, so mean (SD) describes no typical patient and mean - 2 SD is an impossible negative value; "
           "median (range) or a log scale describes it honestly.")
def _check_02_2(answer, tables):
    afp = tables["patients"]["afp"].dropna()
    want = {"mean": afp.mean(), "sd": afp.std(ddof=1), "median": afp.median()}
    wrong = [k for k, v in want.items() if k in answer and not _close(answer[k], v, 0.5)]
    if wrong or not set(want) & set(answer):
        return False, (f"{', '.join(wrong) or 'the keys'}: summarise the `afp` column of `patients` (sample SD, ddof=1, "
                       "as tableone prints)")
    return True, (f"AFP mean {want['mean']:.0f} (SD {want['sd']:.0f}) against median {want['median']:.0f} ng/mL: "
                  f"the mean is {want['mean'] / want['median']:.0f} times the median.")


@_exercise("02.3", "a dict {column: tableone p-value} for one or more columns of Table 1 (e.g. "
                   '{"ascites": 0.12, "afp": 0.3}), from TableOne(..., groupby="bclc_stage", pval=True) with '
                   "the chapter's categorical and nonnormal lists",
           "tableone's default tests (chi-square for categories, switching to Fisher's exact test only for 2x2 tables "
           "with small expected counts; one-way ANOVA for continuous variables unless listed in `nonnormal`, then "
           "Kruskal-Wallis); that no correction is made for the many tests; that BCLC stage is itself built from "
           "some of these variables (performance status, PVTT, Child-Pugh), so differences are expected by "
           "definition; and that p-values describe no randomisation here.")
def _check_02_3(answer, tables):
    from tableone import TableOne

    patients = tables["patients"]
    if "bclc_stage" not in patients:
        return False, "these data have no BCLC stage"
    columns = list(answer)
    categorical = [c for c in columns if not pd.api.types.is_numeric_dtype(patients[c])]
    table = TableOne(patients, columns=columns, categorical=categorical, nonnormal=[c for c in columns if c in LABS],
                     groupby="bclc_stage", pval=True, htest_name=True, missing=False)
    shown = table.tableone
    p_col = next(c for c in shown.columns if c[-1] == "P-Value")
    test_col = next(c for c in shown.columns if c[-1] == "Test")
    wrong, tests = [], {}
    for column in columns:
        rows = shown.loc[[i for i in shown.index if i[0].split(",")[0] == column]]
        p_text = [v for v in rows[p_col] if str(v).strip()][0]
        tests[column] = [v for v in rows[test_col] if str(v).strip()][0]
        p = 0.0005 if str(p_text).startswith("<") else float(p_text)
        if not _close(answer[column], p, 0.0015, rel=0.005):
            wrong.append(column)
    if wrong:
        return False, (f"{', '.join(wrong)}: tableone's p by BCLC stage ({'; '.join(f'{c}: {tests[c]}' for c in wrong)}); "
                       "continuous laboratory values must be listed in `nonnormal` as in the chapter")
    return True, "; ".join(f"{c}: {t}" for c, t in tests.items()) + "."


# --- 03 response and toxicity --------------------------------------------------------------------

@_exercise("03.1", "the adverse-event term (a string, or a list of tied terms) that gains most patients when "
                   "MIN_GRADE goes from 3 to 2",
           "that grade 2 laboratory abnormalities are common under HAIC, and a rate of 'grade 2 or more' says "
           "little about harm a patient feels.")
def _check_03_1(answer, tables, old=3, new=2):
    events, n = tables["adverse_events"], len(tables["patients"])
    at_new = cohort.patients_with_grade(events, n, new)["n"]
    at_old = cohort.patients_with_grade(events, n, old)["n"].reindex(at_new.index, fill_value=0)
    gain = at_new - at_old
    best = set(gain[gain.eq(gain.max())].index)
    given = {answer} if isinstance(answer, str) else set(answer)
    if not given or not given <= best:
        return False, ("subtract the patients per term at grade >= 3 from those at grade >= 2 "
                       "(helpers.patients_with_grade) and take the largest gain, not the largest count")
    return True, f"{', '.join(sorted(best))} gains {int(gain.max())} patients."


@_exercise("03.2", '{"exact": (low, high), "wald": (low, high)} for the disease-control rate, 95%, as proportions '
                   "(or percentages)",
           "which interval is wider here; that the Wald interval is symmetric and can fall below 0 (or above 1) for "
           "a rare event, e.g. 1 event in 67 patients, while the exact one never leaves [0, 1] and never covers less "
           "than its level.")
def _check_03_2(answer, tables, alpha=0.05):
    patients = tables["patients"]
    n = len(patients)
    k = int(patients["best_response"].isin(DISEASE_CONTROL).sum())
    exact = cohort.clopper_pearson(k, n, alpha)
    p, z = k / n, stats.norm.ppf(1 - alpha / 2)
    wald = (p - z * np.sqrt(p * (1 - p) / n), p + z * np.sqrt(p * (1 - p) / n))
    for name, want in (("exact", exact), ("wald", wald)):
        if not all(_close(_proportion(v), w, 0.001) for v, w in zip(answer[name], want)):
            return False, (f"the {name} interval of {k}/{n} patients with CR, PR or SD: "
                           + ("helpers.clopper_pearson(k, n)" if name == "exact" else "p ± 1.96·sqrt(p(1-p)/n)"))
    wider = "exact" if exact[1] - exact[0] > wald[1] - wald[0] else "Wald"
    return True, (f"exact {exact[0]:.3f}-{exact[1]:.3f}, Wald {wald[0]:.3f}-{wald[1]:.3f}: the {wider} interval is "
                  "wider here.")


@_exercise("03.3", "the mean number of HAIC sessions per patient from the distribution (a number)",
           "that the paper's printed total and its printed distribution imply different means, and only one can be "
           "right (notebook 09).")
def _check_03_3(answer, tables):
    patients = tables["patients"]
    if "n_haic_sessions" not in patients:
        return False, "these data have no number of sessions"
    sessions = patients["n_haic_sessions"].dropna()
    per = cohort.count_percent(sessions, order=range(1, int(sessions.max()) + 1))["n"]
    want = float((per.index.to_numpy() * per.to_numpy()).sum() / per.sum())
    if not _close(answer, want, 0.05):
        return False, "sum sessions x patients over the distribution and divide by the number of patients"
    return True, f"{want:.2f} sessions per patient ({int((per.index.to_numpy() * per.to_numpy()).sum())} in {int(per.sum())})."


# --- 04 overall survival -----------------------------------------------------------------------

@_exercise("04.1", "the landmark (in years, one of 0.5, 1, 2) whose confidence interval is widest relative to its "
                   "estimate",
           "fewer patients remain at risk at later times and S(t) is smaller, so the same absolute uncertainty is a "
           "larger share of the estimate; Greenwood's variance grows as the risk set shrinks.")
def _check_04_1(answer, tables, years=(0.5, 1, 2), time_unit="months", alpha=0.05):
    os_df = _os(tables, time_unit)
    km = survival.km_fit(os_df["os_time"], os_df["death"], alpha=alpha)
    at = survival.survival_at(km, cohort.years_in(list(years), time_unit))
    relative = (at["ci_high"] - at["ci_low"]) / at["survival"]
    widest = list(years)[int(np.nanargmax(relative.to_numpy()))]
    if float(answer) != float(widest):
        return False, "divide each interval's width (ci_high - ci_low) by its estimate, not the width alone"
    return True, (f"at {widest:g} years the interval is {relative.max():.1f} times the estimate "
                  f"({int(at.loc[relative.idxmax(), 'at_risk'])} patients at risk).")


@_exercise("04.2", '{"all_deaths": median with every censored patient counted as a death, "km": Kaplan-Meier '
                   'median} in months; optionally "bias": "shorter" or "longer"',
           "counting a censored patient as dead at the last contact ends their survival too early, so the median "
           "(and the whole curve) is biased downwards: survival is underestimated.")
def _check_04_2(answer, tables, time_unit="months"):
    os_df = _os(tables, time_unit)
    all_deaths = survival.km_fit(os_df["os_time"], np.ones(len(os_df))).median_survival_time_
    km = survival.km_fit(os_df["os_time"], os_df["death"]).median_survival_time_
    if not _close(_get(answer, "all_deaths", "naive"), all_deaths, 0.05):
        return False, "fit the Kaplan-Meier curve to os_df.assign(death=1) and read its median"
    if not _close(answer["km"], km, 0.05):
        return False, "the Kaplan-Meier median uses the recorded deaths (censored patients are not deaths)"
    bias = str(answer.get("bias", "shorter")).lower()
    if not any(w in bias for w in ("short", "down", "under", "low")):
        return False, "compare the two medians: which is smaller?"
    return True, f"{all_deaths:.1f} {time_unit} with every patient dead against {_fmt(km)} by Kaplan-Meier: biased downwards."


@_exercise("04.3", "S(1 year) computed by hand from km_all.event_table, as a proportion (or percentage)",
           "that the product runs over the death times only, each with its own risk set; a censored patient leaves "
           "the risk set without making the curve drop.")
def _check_04_3(answer, tables, years=1, time_unit="months"):
    os_df = _os(tables, time_unit)
    km = survival.km_fit(os_df["os_time"], os_df["death"])
    t = cohort.years_in([years], time_unit)[0]
    table = km.event_table[km.event_table.index <= t]
    want = float(np.prod(1 - table["observed"] / table["at_risk"]))
    naive = 1 - os_df.loc[os_df["os_time"] <= t, "death"].sum() / len(os_df)
    value = _proportion(answer)
    if not _close(value, want, 0.001):
        hint = " (that is 1 - deaths / all patients: it ignores censoring)" if _close(value, naive, 0.001) else ""
        return False, f"multiply 1 - observed / at_risk over the event times up to {t:g} {time_unit}{hint}"
    check = survival.survival_at(km, [t])["survival"].iloc[0]
    return True, f"S({years:g} year) = {want:.3f}, as the landmark table's {check:.3f}."


@_exercise("04.4", '{"n": patients in the landmark cohort, "p": log-rank p from the landmark}, landmark 3 months, '
                   'disease control vs progressive disease; optionally "shrinks": True/False',
           "that patients who die before they could be assessed can only be in the progressive-disease group; "
           "starting the clock at a landmark removes that guarantee time, so the difference (hazard ratio) usually "
           "shrinks, and the p-value also grows because fewer patients remain.")
def _check_04_4(answer, tables, landmark_months=3, time_unit="months"):
    os_df = _os(tables, time_unit)
    groups = ["disease control", "progressive disease"]
    both = os_df[os_df["response_group"].isin(groups)]
    landmark = landmark_months * DAYS_PER_MONTH / cohort.days_per(time_unit)
    lm = both[both["os_time"] > landmark].assign(lm_time=lambda d: d["os_time"] - landmark)
    _, p = survival.logrank(lm, "lm_time", "death", "response_group")
    if int(answer["n"]) != len(lm):
        return False, (f"keep the patients of the two groups still alive and followed after {landmark_months} months "
                       "(os_time greater than the landmark)")
    if not _p_close(answer["p"], p):
        return False, "log-rank test on the landmark cohort, time counted from the landmark"
    hr_all = appraisal.cox_hr(both, "os_time", "death", "response_group", groups[1], groups[0])["hr"]
    hr_lm = appraisal.cox_hr(lm, "lm_time", "death", "response_group", groups[1], groups[0])["hr"]
    shrinks = abs(np.log(hr_lm)) < abs(np.log(hr_all))
    if "shrinks" in answer and bool(answer["shrinks"]) != shrinks:
        return False, "compare the hazard ratios (progressive disease vs disease control) before and after the landmark"
    return True, (f"{len(lm)} patients, log-rank p = {p:.3g}; HR progressive disease vs disease control "
                  f"{hr_all:.2f} from the first session, {hr_lm:.2f} from the landmark.")


# --- 05 survival post-progression --------------------------------------------------------------

@_exercise("05.1", '{"sorafenib": n, "other": n, "p": SPP log-rank p} with MAX_CHILD_PUGH = 9',
           "that the patients added are those with a score of 9, who rarely get sorafenib, so the other group "
           "gains sicker patients and the comparison favours sorafenib more (a selection effect, not a drug effect).")
def _check_05_1(answer, tables, max_child_pugh=9, time_unit="months"):
    spp = cohort.spp_frame(tables, max_child_pugh, time_unit)
    n = spp["salvage_group"].value_counts()
    _, p = survival.logrank(spp, "spp_time", "death", "salvage_group")
    if int(answer["sorafenib"]) != n.get("sorafenib", 0) or int(_get(answer, "other", "other salvage")) != n.get("other salvage", 0):
        return False, f"count the groups of cohort.spp_frame(tables, {max_child_pugh})"
    if not _p_close(answer["p"], p):
        return False, "survival.logrank(spp, 'spp_time', 'death', 'salvage_group') on that cohort"
    return True, f"sorafenib {n.get('sorafenib', 0)}, other {n.get('other salvage', 0)}; log-rank p = {p:.3g}."


@_exercise("05.2", "the list of Table 2 variables (keys such as 'ascites', 'afp') whose conclusion at p < 0.05 "
                   "changes with CATEGORICAL_TEST = 'chi2' and CONTINUOUS_TEST = 'mannwhitney' ([] if none)",
           "that AFP and DCP span orders of magnitude: a t-test compares means driven by a few huge values, while "
           "the Mann-Whitney test compares ranks and needs no normality; the chi-square approximation is poor with "
           "expected counts below 5.")
def _check_05_2(answer, tables, max_child_pugh=8, alpha=0.05):
    spp = survival.add_factors(cohort.spp_frame(tables, max_child_pugh), {"tumor_count": 4, "max_tumor_size_mm": 50})
    p = {}
    for tests in (("fisher", "student"), ("chi2", "mannwhitney")):
        long = groups.compare_groups(spp, "salvage_group", groups.TABLE2_CATEGORICAL, groups.TABLE2_CONTINUOUS,
                                     test_categorical=tests[0], test_continuous=tests[1], groups=GROUPS)
        p[tests] = long.groupby("variable", sort=False)["p"].first()
    old, new = p[("fisher", "student")], p[("chi2", "mannwhitney")]
    changed = set(old.index[(old < alpha) != (new < alpha)])
    if set(answer) != changed:
        return False, ("compare p < 0.05 under both pairs of tests, variable by variable; list only those whose "
                       "conclusion flips, not those whose p merely moves")
    moved = (new - old).abs().sort_values(ascending=False)
    return True, (f"{sorted(changed) or 'no conclusion changes'}; largest moves: "
                  + ", ".join(f"{v} {old[v]:.3f} -> {new[v]:.3f}" for v in moved.index[:3]) + ".")


@_exercise("05.3", '{"p_os": log-rank p of overall survival, "p_spp": log-rank p of SPP} by salvage group',
           "overall survival = time on HAIC before progression + SPP; the first part was spent before any salvage "
           "option and adds variation that no salvage option can change, diluting the difference; and the groups "
           "may have progressed at different times.")
def _check_05_3(answer, tables, max_child_pugh=8, time_unit="months"):
    spp = cohort.spp_frame(tables, max_child_pugh, time_unit)
    _, p_os = survival.logrank(spp, "os_time", "death", "salvage_group")
    _, p_spp = survival.logrank(spp, "spp_time", "death", "salvage_group")
    if not (_p_close(answer["p_os"], p_os) and _p_close(answer["p_spp"], p_spp)):
        return False, "the two log-rank tests of notebook 05 on os_time and spp_time (not swapped)"
    pre = (spp["os_time"] - spp["spp_time"]).groupby(spp["salvage_group"]).median()
    return True, (f"OS p = {p_os:.3g}, SPP p = {p_spp:.3g}; median time from the first HAIC to progression "
                  + ", ".join(f"{g} {pre.get(g, np.nan):.1f}" for g in GROUPS) + f" {time_unit}.")


@_exercise("05.4", "the number of patients of the other-salvage group whose salvage started before ERA_START",
           "what else changed between eras: experience with HAIC and supportive care, imaging and how early "
           "progression was detected (lead time), who was offered what (after 2009 'other' often means refusing "
           "sorafenib), later-line treatments, and shorter follow-up of the later patients.")
def _check_05_4(answer, tables, era_start=ERA_START, max_child_pugh=8):
    spp = cohort.spp_frame(tables, max_child_pugh)
    before = spp["salvage_start_date"] < pd.Timestamp(era_start)
    want = int((before & ~spp["sorafenib"]).sum())
    if int(answer) != want:
        return False, "count the other-salvage patients (not all patients) whose salvage_start_date is before ERA_START"
    return True, (f"{want} of the {int((~spp['sorafenib']).sum())} other-salvage patients started before {era_start}, "
                  f"against {int((before & spp['sorafenib']).sum())} sorafenib patients.")


# --- 06 Cox prognostic factors -------------------------------------------------------------------

def _univariate(tables, cutoffs=None, max_child_pugh=8):
    cutoffs = {**TABLE3_CUTOFFS, **(cutoffs or {})}
    spp = _spp(tables, max_child_pugh, cutoffs=cutoffs)
    return survival.univariate_logrank_table(spp, survival.table3_factors(cutoffs), "spp_time", "death")


def _factor_keys(answer) -> set:
    names = {v.lower(): k for k, v in survival.TABLE3_NAMES.items()}
    return {names.get(str(a).lower(), str(a)) for a in answer}


@_exercise("06.1", "the list of factors (Table 3 keys such as 'tbil', or their names) with a univariate p < 0.10",
           "how the hazard ratios of the factors already in the model move when more enter (adjustment, fewer events "
           "per variable, wider intervals).")
def _check_06_1(answer, tables, entry_p=0.10, max_child_pugh=8):
    uni = _univariate(tables, max_child_pugh=max_child_pugh)
    want = set(uni.loc[uni["p"] < entry_p, "key"])
    if _factor_keys(answer) != want:
        return False, f"take every factor of the univariate log-rank table with p < {entry_p}"
    return True, "enter: " + ", ".join(survival.TABLE3_NAMES[k] for k in uni["key"] if k in want) + "."


@_exercise("06.2", "{cut-off: univariate log-rank p of bilirubin} for 0.8 and 1.2 (1.0 may be added)",
           "that the p-value jumps as the line moves across a few patients; choosing the cut-off with the smallest p "
           "after looking at the data inflates false positives and the hazard ratio.")
def _check_06_2(answer, tables, max_child_pugh=8):
    lines = []
    for cutoff, value in answer.items():
        uni = _univariate(tables, {"total_bilirubin": float(cutoff)}, max_child_pugh).set_index("key")
        p = uni.loc["tbil", "p"]
        if not _p_close(value, p):
            return False, f"at {cutoff} mg/dL, the log-rank p of bilirubin split at that cut-off (move BILIRUBIN_CUTOFF)"
        lines.append(f"{cutoff}: p = {p:.3g}")
    return len(lines) >= 2, "; ".join(lines) + ("." if len(lines) >= 2 else " (give at least two cut-offs)")


@_exercise("06.3", '{"hr", "ci_low", "ci_high", "p"} of sorafenib in the paper\'s model with its two levels '
                   "swapped (sorafenib vs no sorafenib)",
           "that swapping the reference inverts the HR and its limits (the lower becomes 1/upper) and leaves the "
           "Wald p unchanged: the direction is a reporting choice, which a table must state.")
def _check_06_3(answer, tables, max_child_pugh=8, alpha=0.05):
    spp = _spp(tables, max_child_pugh)
    factors = survival.table3_factors(TABLE3_CUTOFFS)
    model = {k: factors[k] for k in PAPER_MODEL}
    column, ref, other = model["sorafenib"]
    original = survival.cox_table(spp, "spp_time", "death", model, alpha=alpha).set_index("key").loc["sorafenib"]
    swapped = survival.cox_table(spp, "spp_time", "death", {**model, "sorafenib": (column, other, ref)},
                                 alpha=alpha).set_index("key").loc["sorafenib"]
    if not all(_close(answer[k], swapped[k], 0.005, rel=0.005) for k in ("hr", "ci_low", "ci_high")):
        return False, ("swap the reference and the other level of factors['sorafenib'] and refit; these are "
                       "the unswapped numbers" if _close(answer["hr"], original["hr"], 0.005) else
                       "refit the paper's model (tbil, ascites, sorafenib) with the sorafenib levels swapped")
    if not _p_close(answer["p"], swapped["p"]):
        return False, "the Wald p of the swapped row"
    return True, (f"HR {swapped['hr']:.2f} ({swapped['ci_low']:.2f}-{swapped['ci_high']:.2f}) = 1 / {original['hr']:.2f} "
                  f"({original['ci_low']:.2f}-{original['ci_high']:.2f}); p {swapped['p']:.3f} both ways.")


@_exercise("06.4", '{"hr": HR per 1 mg/dL of total bilirubin, "p": its Wald p} in a Cox model with bilirubin '
                   "continuous, ascites and sorafenib",
           "whether bilirubin still carries prognostic weight without a cut-off; a continuous covariate uses all the "
           "information, avoids a data-chosen cut-off, assumes a log-linear effect, and its HR is per unit, so it is "
           "not comparable in size with the dichotomised one; and whether the sorafenib HR moves.")
def _check_06_4(answer, tables, max_child_pugh=8, alpha=0.05):
    from lifelines import CoxPHFitter

    spp = _spp(tables, max_child_pugh)
    frame = pd.DataFrame({"spp_time": spp["spp_time"], "death": spp["death"],
                          "total_bilirubin": spp["total_bilirubin"], "ascites": spp["ascites"].eq("yes").astype(float),
                          "sorafenib": spp["sorafenib"].astype(float)}).dropna()
    cph = CoxPHFitter(alpha=alpha).fit(frame, "spp_time", "death")
    hr, p = float(np.exp(cph.params_["total_bilirubin"])), float(cph.summary.loc["total_bilirubin", "p"])
    if not _close(answer["hr"], hr, 0.005, rel=0.005):
        return False, ("fit lifelines' CoxPHFitter on spp_time, death, total_bilirubin (the value, not the group), "
                       "ascites and sorafenib (0/1); the HR is exp(coef) of total_bilirubin")
    if not _p_close(answer["p"], p):
        return False, "the Wald p of total_bilirubin in that model"
    return True, f"HR {hr:.2f} per mg/dL (p = {p:.3g}); sorafenib HR {np.exp(cph.params_['sorafenib']):.2f} in the same model."


# --- 07 appraisal --------------------------------------------------------------------------------

@_exercise("07.1", '{landmark days: {"n": patients left, "late_starters": sorafenib patients counted as other, '
                   '"p": log-rank p}} for 14 and 60 (any landmarks)',
           "an early landmark keeps nearly everyone but leaves some guarantee time; a late one removes more of it but "
           "drops early deaths and patients, and reclassifies late starters as 'other', so power falls and p moves.")
def _check_07_1(answer, tables, max_child_pugh=8, time_unit="months"):
    spp = _spp(tables, max_child_pugh, time_unit)
    lines = []
    for days, given in answer.items():
        lm, late = appraisal.landmark_frame(spp, "spp_time", float(days) / cohort.days_per(time_unit), "delay",
                                            "sorafenib", labels=GROUPS)
        test = appraisal.logrank_subset(lm, "lm_time", "death", "lm_group")
        if int(given["n"]) != test["n"] or int(given["late_starters"]) != late:
            return False, (f"at {days} days: appraisal.landmark_frame(spp, 'spp_time', {days} / days per {time_unit[:-1]}, "
                           "'delay', 'sorafenib') gives the patients left and the late starters")
        if not _p_close(given["p"], test["p"]):
            return False, f"at {days} days: the log-rank p on the landmark cohort (lm_time, lm_group)"
        lines.append(f"{days} days: {test['n']} patients, {late} late starters, p = {test['p']:.3g}")
    return bool(lines), "; ".join(lines) + "."


@_exercise("07.2", "{tau in months: RMST difference in months, sorafenib minus other} for 6 and 24 (any horizons)",
           "RMST is an area up to tau: a difference that opens over time accumulates with tau, and a horizon past the "
           "follow-up is lowered; the Cox hazard ratio does not depend on any horizon (it averages over all times).")
def _check_07_2(answer, tables, max_child_pugh=8, time_unit="months", alpha=0.05):
    spp = _spp(tables, max_child_pugh, time_unit)
    lines = []
    for tau, value in answer.items():
        t = float(tau) * DAYS_PER_MONTH / cohort.days_per(time_unit)
        _, diff = appraisal.rmst_comparison(spp, "spp_time", "death", "salvage_group", GROUPS, t, alpha=alpha)
        if not _close(value, diff["estimate"], 0.05):
            sign = " (sorafenib minus other, not the reverse)" if _close(-float(value), diff["estimate"], 0.05) else ""
            return False, f"tau = {tau}: appraisal.rmst_comparison(...)[1]['estimate']{sign}"
        lines.append(f"tau {tau}: {diff['estimate']:.2f}" + (f" ({diff['note']})" if diff["note"] else ""))
    return bool(lines), "; ".join(lines) + "."


@_exercise("07.3", "the number of SPP patients whose era changes with ERA_START = '2009-06-01' (or their patient ids)",
           "that they are patients of the other-salvage group (sorafenib started after its approval), so restricting "
           "to the later era removes them from the comparison.")
def _check_07_3(answer, tables, era_start=ERA_START, new_start="2009-06-01", max_child_pugh=8):
    return _check_01_2(answer, tables, era_start, new_start, max_child_pugh)


@_exercise("07.4", '{"evalue": E-value of the time-varying HR, "evalue_ci": of its limit nearer 1} (rare-outcome or '
                   'common-outcome transform; the unadjusted or the adjusted time-varying model)',
           "whether the E-value is larger or smaller than the fixed-group model's: an HR nearer 1 needs a weaker "
           "confounder to be explained away; with more than 15% deaths use the common-outcome transform.")
def _check_07_4(answer, tables, max_child_pugh=8, time_unit="months", alpha=0.05):
    spp = _spp(tables, max_child_pugh, time_unit)
    factors = survival.table3_factors(TABLE3_CUTOFFS)
    adjust = {k: factors[k] for k in ("tbil", "ascites")}
    long = appraisal.td_cox_data(spp, "spp_time", "death", "delay", "sorafenib", adjust)
    candidates = {}
    for model, fit in (("unadjusted", appraisal.td_cox(long, alpha=alpha)),
                       ("adjusted", appraisal.td_cox(long, list(adjust), alpha=alpha))):
        for common in (False, True):
            candidates[(model, common)] = appraisal.evalues(fit["hr"], fit["ci_low"], fit["ci_high"], common=common)
    for (model, common), (e, e_ci) in candidates.items():
        if _close(answer["evalue"], e, 0.005) and _close(answer["evalue_ci"], e_ci, 0.005):
            return True, (f"E-values {e:.2f} and {e_ci:.2f} ({model} time-varying model, "
                          f"{'common' if common else 'rare'}-outcome transform).")
    return False, ("appraisal.evalues(hr, ci_low, ci_high, common=...) on the time-varying model's HR "
                   "(appraisal.td_cox), not on the paper's fixed-group HR")


@_exercise("07.5", "the Holm-adjusted p-values of the three smallest screened p-values (a list, smallest raw p first; "
                   "sorafenib left out of the family)",
           "Holm multiplies the k-th smallest of m p-values by m - k + 1 and keeps the running maximum; the primary "
           "comparison is not part of the screened family.")
def _check_07_5(answer, tables, max_child_pugh=8):
    uni = _univariate(tables, max_child_pugh=max_child_pugh)
    screened = uni[uni["key"].ne("sorafenib")].dropna(subset=["p"]).sort_values("p")
    adjusted = appraisal.holm(screened["p"].to_numpy())[:3]
    m = len(screened)
    if len(answer) != len(adjusted) or not all(_p_close(a, w) for a, w in zip(answer, adjusted)):
        bonferroni = np.minimum(1, screened["p"].to_numpy()[:3] * m)
        hint = (" (these are Bonferroni's, every p times m: Holm multiplies the k-th by m - k + 1)"
                if all(_p_close(a, b) for a, b in zip(answer, bonferroni)) else "")
        return False, f"m = {m} screened tests (sorafenib apart); sort, multiply by m - k + 1, running maximum{hint}"
    return True, "Holm: " + ", ".join(f"{k} {a:.3g}" for k, a in zip(screened["key"], adjusted)) + f" (m = {m})."


@_exercise("07.6", '{"deaths": deaths needed with POWER = 0.9 for the unadjusted HR, "smd_shift": the largest change '
                   "in a share of randomisations above 0.1 between SMD_SEED 2024 and 1}",
           "that the deaths needed grow with the power asked for (and with an HR nearer 1); and that the shares move "
           "by about one Monte Carlo standard error, sqrt(q(1-q)/1000) or about 0.016, so the conclusions do not "
           "depend on the seed.")
def _check_07_6(answer, tables, max_child_pugh=8, alpha=0.05, permutations=1000):
    spp = _spp(tables, max_child_pugh)
    spp["era"] = cohort.treatment_era(spp["salvage_start_date"], ERA_START,
                                      int(tables["patients"]["first_haic_date"].dt.year.min()))
    fixed = appraisal.cox_hr(spp, "spp_time", "death", "salvage_group", *GROUPS, alpha=alpha)
    share = float(spp["sorafenib"].mean())
    deaths = appraisal.deaths_needed(fixed["hr"], power=0.9, alpha=alpha, share=share)
    if not (_close(answer["deaths"], deaths, 0.5) or int(answer["deaths"]) == int(np.ceil(deaths))):
        at_08 = appraisal.deaths_needed(fixed["hr"], power=0.8, alpha=alpha, share=share)
        hint = " (that is for 80% power)" if _close(answer["deaths"], at_08, 0.5) else ""
        return False, f"appraisal.deaths_needed(unadjusted HR, power=0.9, share=sorafenib share){hint}"
    categorical = {**groups.TABLE2_CATEGORICAL, "era": "era"}
    shares = [appraisal.smd_under_randomisation(spp, "salvage_group", GROUPS, categorical, groups.TABLE2_CONTINUOUS,
                                                permutations=permutations, seed=seed).set_index("variable")["share_above"]
              for seed in (2024, 1)]
    shift = float((shares[0] - shares[1]).abs().max())
    if not _close(answer["smd_shift"], shift, 0.005, rel=0):
        return False, "the largest absolute difference of share_above between the two seeds (appraisal.smd_under_randomisation)"
    return True, f"{int(np.ceil(deaths))} deaths for 90% power; the shares move by at most {shift:.3f}."
