"""Competing risks: the Aalen-Johansen cumulative incidence of each of several events, as R's survfit.

After the first HAIC session a patient may progress, or die before any progression: death without
progression *competes* with progression, since a patient who died can no longer progress. One minus the
Kaplan-Meier estimate of progression, with deaths censored, treats those patients as if they could still
progress later, so it overstates the chance of progressing. The Aalen-Johansen estimate of the
cumulative incidence function (CIF) of progression adds, at each progression time, the progressions per
patient at risk times the probability of being alive and free of both events just before: the CIFs of
the competing events and the event-free probability add up to 1.

- `first_event_frame`: one row per patient, time from the first HAIC session to progression, or to death
  without progression, or to the last contact (censored), from the tables `helpers.load_cohort` gives.
- `cumulative_incidence`: the CIF of each event with its standard error and confidence limits at the
  event times, or at given times (`at`).
- `incidence_table`: both CIFs at given months, as `outputs/tables/cumulative_incidence.csv` holds them.

The curves are drawn by `plots.plot_cif` (src/present/plots.py).

Conventions as R's `survfit(Surv(time, event_factor) ~ 1)` (survival >= 3.0), checked against it in
tests/test_competing_risks.py (tests/r/competing_risks.R): the standard error is the infinitesimal
jackknife (R's default for multi-state curves), the interval is on the log scale (R's default `conf.type
= "log"`), an upper limit above 1 is cut at 1. lifelines' `AalenJohansenFitter` differs: it breaks ties
between event types by adding random noise to the times, and uses another variance and interval.
Imports nothing of `src` but `cohort` (time in a unit) and `study` (the days of a month).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from src.cohort import days_per, time_between
from src.study import DAYS_PER_MONTH

EVENTS = {1: "progression", 2: "death_without_progression"}
EVENT_WORDS = {"progression": "Progression", "death_without_progression": "Death without progression"}


def first_event_frame(tables: dict, unit: str = "months") -> pd.DataFrame:
    """One row per patient: `time` from the first HAIC session to the first of progression (the first
    progression record of the patient) and death, or to the last contact alive, in `unit`, and `event`
    1 = progression, 2 = death without progression, 0 = censored (alive, not progressed)."""
    patients = tables["patients"][["patient_id", "first_haic_date", "last_followup_date", "death"]]
    prog = tables["progression"][["patient_id", "progression_date"]]
    first = prog.assign(progression_date=pd.to_datetime(prog["progression_date"])).groupby("patient_id",
                                                                                           as_index=False).min()
    d = patients.merge(first, on="patient_id", how="left")
    progressed = d["progression_date"].notna()
    end = pd.to_datetime(d["progression_date"].where(progressed, pd.to_datetime(d["last_followup_date"])))
    out = pd.DataFrame({"patient_id": d["patient_id"],
                        "time": time_between(d["first_haic_date"], end, unit).to_numpy(),
                        "event": np.where(progressed, 1, np.where(d["death"].astype(int) == 1, 2, 0))})
    return out


def cumulative_incidence(durations, events, at=None, alpha: float = 0.05, labels: dict | None = None) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of each event type (codes > 0 of `events`; 0 = censored).

    Returns a long frame with `event` (its label from `labels`, else the code), `time`, `cif`, `se`
    (infinitesimal jackknife), `lower`, `upper` (log-scale interval of level 1 - `alpha`, upper cut at 1;
    NaN while the CIF is 0), `at_risk`. At the distinct event times (with a first row at time 0), or, with
    `at`, at those times (the value of the step function there, as R's `summary(fit, times = at)`).
    """
    time = np.asarray(durations, float)
    ev = np.asarray(events, int)
    codes = sorted(c for c in np.unique(ev) if c > 0)
    labels = labels or {c: c for c in codes}
    if not codes:  # no event of any type: nothing to estimate
        return pd.DataFrame(columns=["event", "time", "cif", "se", "lower", "upper", "at_risk"])
    n = len(time)
    grid = np.unique(time[ev > 0])
    # per distinct event time: patients at risk, events of each type
    at_risk = np.array([(time >= t).sum() for t in grid], float)
    d = {c: np.array([((time == t) & (ev == c)).sum() for t in grid], float) for c in codes}
    d_all = sum(d.values())
    # influence of each patient's weight on the hazards (rows: patients, columns: event times)
    risk = (time[:, None] >= grid[None, :]).astype(float)
    jump = {c: ((time[:, None] == grid[None, :]) & (ev[:, None] == c)).astype(float) for c in codes}
    h = {c: d[c] / at_risk for c in codes}
    h_all = d_all / at_risk
    dh = {c: (jump[c] - risk * h[c]) / at_risk for c in codes}
    dh_all = sum(dh.values())
    surv = np.cumprod(1.0 - h_all)  # event-free just after each time
    surv_before = np.concatenate([[1.0], surv[:-1]])
    # d S(t) / d w_i = -S(t) * sum_{s <= t} dh(s) / (1 - h(s)); where h(s) = 1 (everyone left) S is 0 from s on
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(h_all < 1, dh_all / (1.0 - h_all), 0.0)
    dsurv = -surv[None, :] * np.cumsum(ratio, axis=1)
    last = np.flatnonzero(h_all >= 1)
    if len(last):  # the curve drops to 0: its derivative there is -dh, then 0
        k = last[0]
        dsurv[:, k] = -surv_before[k] * dh_all[:, k]
        dsurv[:, k + 1:] = 0.0
    dsurv_before = np.hstack([np.zeros((n, 1)), dsurv[:, :-1]])
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for c in codes:
        cif = np.cumsum(surv_before * h[c])
        infl = np.cumsum(dsurv_before * h[c][None, :] + surv_before[None, :] * dh[c], axis=1)
        se = np.sqrt((infl ** 2).sum(axis=0))
        times, values, ses, risks = grid, cif, se, at_risk
        if at is not None:
            idx = np.searchsorted(grid, np.asarray(at, float), side="right") - 1
            times = np.asarray(at, float)
            values = np.where(idx >= 0, cif[np.maximum(idx, 0)], 0.0)
            ses = np.where(idx >= 0, se[np.maximum(idx, 0)], 0.0)
            risks = np.array([(time >= t).sum() for t in times], float)
        else:
            times, values, ses = np.r_[0.0, times], np.r_[0.0, values], np.r_[0.0, ses]
            risks = np.r_[n, risks]
        with np.errstate(divide="ignore", invalid="ignore"):
            width = np.where(values > 0, z * ses / values, np.nan)
            lower = np.where(values > 0, values * np.exp(-width), np.nan)
            upper = np.where(values > 0, np.minimum(values * np.exp(width), 1.0), np.nan)
        rows.append(pd.DataFrame({"event": labels.get(c, c), "time": times, "cif": values, "se": ses,
                                  "lower": lower, "upper": upper, "at_risk": risks.astype(int)}))
    return pd.concat(rows, ignore_index=True)


def incidence_table(frame: pd.DataFrame, months, unit: str = "months", alpha: float = 0.05) -> pd.DataFrame:
    """The cumulative incidence of progression and of death without progression (`EVENTS`) at `months`
    (months of 30.4375 days, whatever `unit` the times of `frame` are in), from a `first_event_frame`:
    columns `event`, `months` (float: a label, not a count that MIN_CELL would suppress), `cif`, `lower`,
    `upper`. An event that never happened has a CIF of 0 and no limits."""
    at = [m * DAYS_PER_MONTH / days_per(unit) for m in months]
    got = cumulative_incidence(frame["time"], frame["event"], at=at, alpha=alpha, labels=EVENTS)
    rows = []
    for event in EVENTS.values():
        mine = got[got["event"] == event]
        for i, m in enumerate(months):
            r = mine.iloc[i] if len(mine) else None
            rows.append({"event": event, "months": float(m), "cif": 0.0 if r is None else float(r["cif"]),
                         "lower": np.nan if r is None else float(r["lower"]),
                         "upper": np.nan if r is None else float(r["upper"])})
    return pd.DataFrame(rows)
