"""Cox proportional hazards with ONE 0/1 covariate, fitted on many small data sets at once (NumPy and SciPy).

The course's simulations (src/course/teaching.py) fit hundreds of small Cox models; lifelines builds a
DataFrame and a fitter for each. With one 0/1 covariate x the partial likelihood with Efron's ties depends
on four counts per distinct death time only: the rows at risk with x = 0 and x = 1, and the deaths with
x = 0 and x = 1. Here those counts are taken for every data set at once and Newton-Raphson runs on all of
them together.

Data are counting-process rows (start, stop], one data set per value of `group`: a row is at risk at a
death time t when start < t <= stop, and its death (if any) happens at stop. Right-censored data is the
special case start = 0 (`right_censored`). Every stop must be above its start.

- `fit_many`: the fit itself, as lifelines' `CoxPHFitter` (`COXPH`) or `CoxTimeVaryingFitter`
  (`TIME_VARYING`) iterates: hazard ratio, Wald interval and Wald p per data set.
- `cox_hr_many`: with the conventions of `appraisal.cox_hr` (when NaN, and the note that says why).
- `td_cox_many`: with the conventions of `appraisal.td_cox`; `switch_on_rows` builds its rows as
  `appraisal.td_cox_data` does.

Same numbers as lifelines 0.30: the Newton steps follow lifelines' own rules (the covariate scaled by its
standard deviation, the step sizes of `lifelines.utils.StepSizer`, each fitter's stopping rules), so the
estimate stops where lifelines' stops, within rounding. R's `coxph` iterates further; the two differ by
lifelines' stopping tolerance (below 1e-6 in tests/test_cox_one.py). One difference is deliberate: where at
every death time the rows at risk share one value of x, the likelihood is flat and here the fit breaks down
(NaN, with LinAlgError as lifelines names it), while lifelines, dividing by rounding noise, may instead print
a hazard ratio with a standard error of 1e8.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from src.stats.survival import MAX_ABS_COEF

MONOTONE_NOTE = "not estimable: the estimate runs off to 0 or infinity (monotone likelihood)"


@dataclass(frozen=True)
class NewtonRules:
    """How one of lifelines' fitters steps and stops (lifelines 0.30.3). Steps are measured in units of
    the covariate's standard deviation (lifelines fits the covariate divided by its SD)."""
    precision: float  # stop when the step, or the Newton decrement, is below this
    ll_precision: float  # stop when the log-likelihood changes by less than this share (0: never)
    max_steps: int  # give up after this many steps (the estimate is kept)
    min_step_size: float  # give up when the step size has shrunk to this (the estimate is kept)
    scaled_steps: bool  # True: the stopping rules see the step after the step size, and the last step is taken


# CoxPHFitter._newton_raphson_for_efron_model: it stops before taking its last step.
COXPH = NewtonRules(precision=1e-7, ll_precision=1e-9, max_steps=500, min_step_size=1e-5, scaled_steps=False)
# CoxTimeVaryingFitter._newton_raphson_for_efron_model: its log-likelihood rule never fires (it compares with a
# previous log-likelihood that stays 0), so it is left out here.
TIME_VARYING = NewtonRules(precision=1e-8, ll_precision=0.0, max_steps=50, min_step_size=1e-4, scaled_steps=True)
FIRST_STEP_SIZE = 0.95  # lifelines' StepSizer: the step size it starts with and tempers back up to


# --- the data: counts at each death time ---------------------------------------------------

def right_censored(time) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) of right-censored data: every row followed from 0 to `time`."""
    stop = np.asarray(time, dtype=float)
    return np.zeros_like(stop), stop


def switch_on_rows(group, time, event, switch) -> dict[str, np.ndarray]:
    """Counting-process rows of a 0/1 covariate that switches on at `switch` (NaN or inf: never), as
    `appraisal.td_cox_data` builds them: a row (0, T] off when the follow-up ends at or before the switch,
    (0, T] on when the switch is at or before 0, else (0, s] off without the event and (s, T] on with it.
    Rows with a missing time or event, or a time of 0 or less, are left out. Returns `group`, `start`,
    `stop`, `event`, `x` (each row's patient in the order given, a switched patient's two rows together)."""
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=float)
    switch = np.where(np.isfinite(np.asarray(switch, dtype=float)), switch, np.inf)
    kept = np.isfinite(time) & np.isfinite(event) & (time > 0)
    group, time, event, switch = np.asarray(group)[kept], time[kept], event[kept], switch[kept]
    split = (switch > 0) & (switch < time)  # followed past a switch after 0: two rows
    starts = np.stack([np.zeros_like(time), np.where(split, switch, np.nan)], axis=1)
    stops = np.stack([np.where(split, switch, time), time], axis=1)
    events = np.stack([np.where(split, 0.0, event), event], axis=1)
    on = np.stack([(switch <= 0).astype(float), np.ones_like(time)], axis=1)
    used = np.stack([np.ones_like(split), split], axis=1)  # row pairs, read row by row
    return {"group": np.repeat(group, 2)[used.ravel()], "start": starts[used], "stop": stops[used],
            "event": events[used], "x": on[used]}


def _count_between(sorted_keys, low, high) -> np.ndarray:
    """How many of `sorted_keys` lie in [low, high), for each pair of bounds."""
    return np.searchsorted(sorted_keys, high) - np.searchsorted(sorted_keys, low)


def _death_time_counts(group, start, stop, event, x):
    """One entry per distinct death time of each data set: its data set, the rows at risk (start < t <=
    stop) and the deaths at t, each split by x (columns 0 and 1). Times become ranks among all the start
    and stop values, so that (data set, time) is one whole-number key."""
    times, ranks = np.unique(np.concatenate([start, stop]), return_inverse=True)
    width = len(times) + 1
    start_key, stop_key = group * width + ranks[:len(start)], group * width + ranks[len(start):]
    death_keys = np.unique(stop_key[event])
    set_end = (death_keys // width + 1) * width  # the first key of the next data set
    at_risk, deaths = np.zeros((len(death_keys), 2)), np.zeros((len(death_keys), 2))
    for level in (0, 1):
        rows = x == level
        # at risk at t: stop >= t, less those not yet entered (start >= t, hence also stop > t)
        at_risk[:, level] = (_count_between(np.sort(stop_key[rows]), death_keys, set_end)
                             - _count_between(np.sort(start_key[rows]), death_keys, set_end))
        deaths[:, level] = _count_between(np.sort(stop_key[rows & event]), death_keys, death_keys + 1)
    return death_keys // width, at_risk, deaths


@dataclass(frozen=True)
class _DeathTimes:
    """The counts of `_death_time_counts` laid out as (data set, death time, tie) arrays; a padding death
    time has no death (and one row at risk, so that nothing divides by 0), and adds nothing."""
    deaths_1: np.ndarray  # (sets, times): deaths with x = 1
    at_risk_0: np.ndarray  # (sets, times, 1)
    at_risk_1: np.ndarray
    tied_0: np.ndarray  # (sets, times, 1): deaths with x = 0
    tied_1: np.ndarray
    share_gone: np.ndarray  # (sets, times, ties): Efron's l / d for the l-th of d tied deaths
    is_tie: np.ndarray  # (sets, times, ties): l < d


def _lay_out(owner, at_risk, deaths, n_sets) -> _DeathTimes:
    """Pad each data set's death times to the longest list (and the ties at each to the most ties)."""
    per_set = np.bincount(owner, minlength=n_sets)
    width = max(int(per_set.max(initial=0)), 1)
    slot = np.arange(len(owner)) - np.concatenate([[0], np.cumsum(per_set)[:-1]])[owner]
    grid = np.zeros((n_sets, width, 4))
    grid[..., 0] = 1.0  # padding: one row at risk and no death
    grid[owner, slot] = np.column_stack([at_risk, deaths])
    tied = grid[..., 2] + grid[..., 3]
    tie = np.arange(max(int(tied.max(initial=0)), 1))  # l = 0, 1, ... of the tied deaths
    share_gone = tie / np.maximum(tied, 1)[..., None]
    return _DeathTimes(grid[..., 3], grid[..., 0, None], grid[..., 1, None], grid[..., 2, None], grid[..., 3, None],
                       share_gone, tie < tied[..., None])


def _partial_likelihood(coef, dt: _DeathTimes):
    """Log partial likelihood (Efron's ties), its first and second derivative at `coef` (per data set).
    At the l-th of d tied deaths the risk set has lost l/d of the tied deaths' weight; `mean_x` is the
    weighted mean of x over it (x is 0/1, so its weighted variance is mean_x (1 - mean_x))."""
    e = np.exp(coef)[:, None, None]
    weight = dt.at_risk_0 + dt.at_risk_1 * e - dt.share_gone * (dt.tied_0 + dt.tied_1 * e)
    mean_x = (dt.at_risk_1 - dt.share_gone * dt.tied_1) * e / weight
    weight, mean_x = np.where(dt.is_tie, weight, 1.0), np.where(dt.is_tie, mean_x, 0.0)
    loglik = (dt.deaths_1 * coef[:, None]).sum(1) - np.log(weight).sum((1, 2))
    score = dt.deaths_1.sum(1) - mean_x.sum((1, 2))
    hessian = -(mean_x * (1 - mean_x)).sum((1, 2))
    return loglik, score, hessian


# --- Newton-Raphson, the way lifelines steps --------------------------------------------------

@dataclass
class _StepSizes:
    """lifelines' `StepSizer`, for many fits at once: the step size shrinks after a large step (x0.1 at
    15 or more, x0.25 above 5, and is then tempered back up by x1.3 a round, up to the first size), by
    x0.98 when the last three steps did not shrink, and grows by x1.3 (up to 1) when they did."""
    size: np.ndarray
    tempering: np.ndarray
    last_three: np.ndarray  # the last three step lengths, oldest first (NaN before three rounds)

    @classmethod
    def start(cls, n):
        return cls(np.full(n, FIRST_STEP_SIZE), np.zeros(n, bool), np.full((n, 3), np.nan))

    def update(self, step_length, which):
        """A round's step lengths, for the fits in `which` (a boolean mask)."""
        size = np.where(self.tempering, np.minimum(self.size * 1.3, FIRST_STEP_SIZE), self.size)
        large, medium = step_length >= 15.0, (step_length > 5.0) & (step_length < 15.0)
        size = np.where(large, size * 0.1, np.where(medium, size * 0.25, size))
        last_three = np.column_stack([self.last_three[:, 1:], step_length])
        known = ~np.isnan(last_three[:, 0])
        shrinking = (last_three[:, 1] < last_three[:, 0]) & (last_three[:, 2] < last_three[:, 1])
        size = np.where(known & ~shrinking, size * 0.98, size)
        size = np.where(known & shrinking, np.minimum(size * 1.3, 1.0), size)
        self.size = np.where(which, size, self.size)
        self.tempering = np.where(which, self.tempering | large | medium, self.tempering)
        self.last_three = np.where(which[:, None], last_three, self.last_three)


def _newton(dt: _DeathTimes, sd, rules: NewtonRules):
    """Newton-Raphson from 0 for every data set, on the covariate divided by its SD `sd`, stepping and
    stopping as lifelines does (`rules`). Returns (coefficient in the scaled units, second derivative
    there, broke): `broke` names the error lifelines raises where the fit breaks down ("" where it does
    not): LinAlgError where the second derivative is 0 (at every death time the rows at risk share one
    value of x, so the likelihood is flat: lifelines then divides by rounding noise or raises it), else
    ConvergenceError where a step is not finite."""
    n = len(sd)
    beta, hessian = np.zeros(n), np.full(n, np.nan)
    previous_ll, sizes = np.zeros(n), _StepSizes.start(n)
    running, broke = np.ones(n, bool), np.full(n, "", dtype=object)
    rounds = 0
    while running.any():
        rounds += 1
        with np.errstate(all="ignore"):
            loglik, score, second = _partial_likelihood(beta / sd, dt)
            score, second = score / sd, second / (sd * sd)  # per unit of the scaled coefficient (coef x SD)
            newton = score / -second
        flat = running & (second == 0)  # no information: lifelines' solver raises LinAlgError
        broke[flat] = "LinAlgError"
        broke[running & ~flat & ~np.isfinite(newton)] = "ConvergenceError"
        running &= broke == ""
        hessian = np.where(running, second, hessian)
        step = sizes.size * newton
        length = np.abs(step if rules.scaled_steps else newton)
        with np.errstate(all="ignore"):
            ll_still = np.abs(loglik - previous_ll) / -previous_ll < rules.ll_precision
        # lifelines' stopping rules: a small step, a still log-likelihood, a small Newton decrement (all three:
        # converged), too many rounds, a step size shrunk to nothing, a log-likelihood near 0 with a large step
        stops = ((length < rules.precision) | ((previous_ll != 0) & ll_still) | (score * newton / 2 < rules.precision)
                 | (rounds >= rules.max_steps) | (sizes.size <= rules.min_step_size)
                 | ((np.abs(loglik) < 1e-4) & (length > 1.0)))
        previous_ll = np.where(running, loglik, previous_ll)
        sizes.update(length, running)
        if not rules.scaled_steps:  # CoxPHFitter steps with the size just updated, and not after stopping
            step = sizes.size * newton
            running &= ~stops
        beta = np.where(running, beta + step, beta)
        running &= ~stops
    return beta, hessian, broke


# --- the fits ---------------------------------------------------------------------------------

def _sd(group, x, n_sets) -> np.ndarray:
    """Sample standard deviation (n - 1) of the 0/1 covariate in each data set (NaN below two rows)."""
    rows = np.bincount(group, minlength=n_sets).astype(float)
    with np.errstate(all="ignore"):
        mean = np.bincount(group, weights=x, minlength=n_sets) / rows
        squares = np.bincount(group, weights=(x - mean[group]) ** 2, minlength=n_sets)
        return np.sqrt(squares / (rows - 1))


def fit_many(group, start, stop, event, x, rules: NewtonRules = COXPH, alpha=0.05, n_sets=None) -> dict:
    """Cox model of the 0/1 covariate `x` in each data set (rows of one value of `group`, whole numbers
    0, 1, ...; `n_sets` data sets, by default up to the largest number), fitted from 0 as lifelines'
    fitter of `rules` does. Returns arrays indexed by data set: `coef` (log hazard ratio of x = 1 vs 0),
    `se`, `hr`, `ci_low`, `ci_high` (Wald, level 1 - `alpha`), `p` (Wald), `rows`, `events`, `rows_1`
    and `events_1` (those with x = 1), `broke` (where the fit broke down, the error lifelines raises: see
    `_newton`; "" elsewhere).
    The estimates are NaN where the fit broke down or cannot run (no death, or x the same in every row);
    the callers' conventions on top of that are in `cox_hr_many` and `td_cox_many`."""
    group = np.asarray(group, dtype=np.int64)
    start, stop = np.asarray(start, dtype=float), np.asarray(stop, dtype=float)
    event, x = np.asarray(event, dtype=float) > 0, np.asarray(x, dtype=float)
    if np.any(stop <= start) or not np.isin(x, (0.0, 1.0)).all():
        raise ValueError("every row needs stop > start and x of 0 or 1")
    n_sets = int(group.max(initial=-1)) + 1 if n_sets is None else int(n_sets)
    counts = {name: np.bincount(group, weights=w, minlength=n_sets)
              for name, w in (("rows", None), ("events", event), ("rows_1", x), ("events_1", event * x))}
    sd = _sd(group, x, n_sets)
    fits = (counts["events"] > 0) & (counts["rows_1"] > 0) & (counts["rows_1"] < counts["rows"])
    beta, hessian, broke = np.zeros(n_sets), np.full(n_sets, np.nan), np.full(n_sets, "", dtype=object)
    if fits.any():
        kept = fits[group]
        renumber = np.cumsum(fits) - 1  # data sets that fit, numbered 0, 1, ...
        counted = _death_time_counts(renumber[group[kept]], start[kept], stop[kept], event[kept], x[kept])
        beta[fits], hessian[fits], broke[fits] = _newton(_lay_out(*counted, int(fits.sum())), sd[fits], rules)
    out = _wald(np.where(fits & (broke == ""), beta, np.nan), hessian, sd, alpha)
    return {**out, **{name: c.astype(int) for name, c in counts.items()}, "broke": broke}


def _wald(beta, hessian, sd, alpha) -> dict:
    """Estimates on the covariate's own scale, as lifelines computes them from the scaled fit."""
    with np.errstate(all="ignore"):
        coef = beta / sd
        se = np.sqrt(-(1.0 / hessian) / (sd * sd))
        z = stats.norm.ppf(1 - alpha / 2)
        return {"coef": coef, "se": se, "hr": np.exp(coef), "ci_low": np.exp(coef - z * se),
                "ci_high": np.exp(coef + z * se), "p": stats.chi2.sf((coef / se) ** 2, 1)}


def _not_estimable(fitted: dict, where, note, notes: np.ndarray) -> None:
    """Blank the estimates of the data sets in `where` that have no note yet, and give them `note` (one
    for all, or one per data set)."""
    where = where & (notes == "")
    for name in ("coef", "se", "hr", "ci_low", "ci_high", "p"):
        fitted[name] = np.where(where, np.nan, fitted[name])
    notes[where] = np.broadcast_to(np.asarray(note, dtype=object), notes.shape)[where]


def cox_hr_many(group, time, event, x, alpha=0.05, n_sets=None) -> dict:
    """`appraisal.cox_hr` for each data set of right-censored rows (`time`, `event`) with x = 1 for the
    level and 0 for the reference: `fit_many` with lifelines' CoxPHFitter steps, plus `note` (why a
    hazard ratio is NaN, in `cox_hr`'s words; "" otherwise). NaN with a note: a group without rows, no
    death, a group without deaths (`survival.cox_fit` leaves the covariate out), a fit that broke down,
    and an estimate that runs off (|coef| > `survival.MAX_ABS_COEF`, or an infinite limit)."""
    fitted = fit_many(group, *right_censored(time), event, x, rules=COXPH, alpha=alpha, n_sets=n_sets)
    notes = np.full(len(fitted["hr"]), "", dtype=object)
    rows_0, events_0 = fitted["rows"] - fitted["rows_1"], fitted["events"] - fitted["events_1"]
    _not_estimable(fitted, (rows_0 == 0) | (fitted["rows_1"] == 0), "not estimable: fewer than two groups", notes)
    _not_estimable(fitted, fitted["events"] == 0, "not estimable: no deaths", notes)
    _not_estimable(fitted, (events_0 == 0) | (fitted["events_1"] == 0) | (fitted["broke"] != ""),
                   "not estimable on these data", notes)
    infinite_limit = ~(np.isfinite(fitted["ci_low"]) & np.isfinite(fitted["ci_high"]))
    runs_off = ~(np.abs(fitted["coef"]) <= MAX_ABS_COEF) | infinite_limit
    _not_estimable(fitted, runs_off, MONOTONE_NOTE, notes)
    return {**fitted, "n": fitted["rows"], "note": notes}


def td_cox_many(group, start, stop, event, x, alpha=0.05, n_sets=None) -> dict:
    """`appraisal.td_cox` (no other covariate) for each data set of counting-process rows, x = 1 on
    treatment (`switch_on_rows` builds them as `appraisal.td_cox_data`): `fit_many` with lifelines'
    CoxTimeVaryingFitter steps, plus `note` in `td_cox`'s words. NaN with a note: x the same in every
    row, no death, a fit that broke down, and |coef| > `survival.MAX_ABS_COEF`."""
    fitted = fit_many(group, start, stop, event, x, rules=TIME_VARYING, alpha=alpha, n_sets=n_sets)
    notes = np.full(len(fitted["hr"]), "", dtype=object)
    one_value = (fitted["rows_1"] == 0) | (fitted["rows_1"] == fitted["rows"])
    _not_estimable(fitted, one_value, "not estimable: nobody (or everybody) is on treatment at some time", notes)
    _not_estimable(fitted, fitted["events"] == 0, "not estimable: no deaths", notes)
    _not_estimable(fitted, fitted["broke"] != "", "not estimable: " + fitted["broke"], notes)  # the error's name
    _not_estimable(fitted, ~(np.abs(fitted["coef"]) <= MAX_ABS_COEF), MONOTONE_NOTE, notes)
    return {**fitted, "note": notes}
