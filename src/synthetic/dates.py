"""Step 5: the calendar of one patient (`assign_dates`): first HAIC within the enrolment period,
sorafenib only after its approval and after progression, BSC and other options in the era given by the
flow diagram, every timeline ordered."""
from __future__ import annotations

import pandas as pd

from src.synthetic.design import DATA_CUTOFF, ENROL_END, ENROL_START, ERA_START, SORAFENIB_APPROVAL


def _day(ts) -> int:
    return int((ts - ENROL_START).days)


def assign_dates(rng, kind, os_days, event, ttp_days=None, salvage=None, era=None) -> dict:
    """First HAIC, progression, salvage start and last follow-up dates of one patient.

    `kind` is the response role; `era` ("early"/"late") applies to other salvage options;
    censored patients are either alive at the data cut-off or lost to follow-up before it.
    """
    lo, hi = 0, _day(ENROL_END)
    cutoff = _day(DATA_CUTOFF)
    gap = 0 if salvage in (None, "bsc") else int(rng.integers(5, 21))
    if ttp_days is not None:
        gap = int(min(gap, os_days - ttp_days))
        start_offset = ttp_days + gap
        if salvage == "sorafenib":
            lo = max(lo, _day(SORAFENIB_APPROVAL) - int(start_offset) + 1)
        elif era == "early":
            hi = min(hi, _day(ERA_START) - int(start_offset) - 1)
        elif era == "late":
            lo = max(lo, _day(ERA_START) - int(start_offset))
    hi = min(hi, cutoff - int(os_days))
    if hi < lo:
        raise ValueError(f"no feasible first-HAIC date for a {kind} patient (OS {os_days} days)")
    alive_at_cutoff = (not event) and (cutoff - int(os_days) <= _day(ENROL_END)) and (cutoff - int(os_days) >= lo) \
        and rng.random() < 0.7
    first = cutoff - int(os_days) if alive_at_cutoff else int(rng.integers(lo, hi + 1))
    out = {"first_haic_date": ENROL_START + pd.Timedelta(days=first),
           "last_followup_date": ENROL_START + pd.Timedelta(days=first + int(os_days))}
    if ttp_days is not None:
        out["progression_date"] = out["first_haic_date"] + pd.Timedelta(days=int(ttp_days))
        out["salvage_start_date"] = out["progression_date"] + pd.Timedelta(days=gap)
    return out
