"""The numbered cross-table and protocol rules (1-10 of the package docstring).

:func:`check_rules` finds errors, values that cannot be true (1: a patient_id unknown to patients; 2-4: dates out
of order; 6: an age at progression that does not follow from the baseline age); :func:`check_rule_warnings` finds
warnings, values that can be true but deserve a look (5: sorafenib before its approval; 7: a Child-Pugh score that
does not fit its components; 8, 9: the protocol's schedule; 10: a PD patient's tumour smaller at progression).
One function per rule, applied in the order of the package's earlier single module (the order of the problems).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from src.study import MIN_SESSION_INTERVAL_DAYS, RESPONSE_ASSESSMENT_DAYS, SORAFENIB_APPROVAL_MONTH
from src.validate.childpugh import _child_pugh_parts, _points_range
from src.validate.problems import (RULE_CHILD_PUGH, RULE_PD_SHRANK, RULE_RESPONSE, RULE_SESSIONS, RULE_SORAFENIB,
                                   _problem, _problem_frame, _show)


#: Sorafenib was approved for advanced hepatocellular carcinoma in Japan in
#: May 2009; a sorafenib salvage treatment starting before that month is implausible for
#: the reproduced (Japanese) cohort (`study.SORAFENIB_APPROVAL_MONTH`: the rule's date, not the
#: generators'). Pass ``sorafenib_approval=`` to :func:`load_and_validate` or :func:`check_rules`
#: for another cohort.
SORAFENIB_APPROVAL = SORAFENIB_APPROVAL_MONTH


def _mask(condition: pd.Series) -> np.ndarray:
    """A comparison result as a plain boolean array (missing = False)."""
    return condition.to_numpy(dtype=bool, na_value=False)


def _has(frame, *columns) -> bool:
    return frame is not None and all(c in frame.columns for c in columns)


def check_rules(tables: dict, *, files: dict | None = None,
                sorafenib_approval: str = SORAFENIB_APPROVAL) -> pd.DataFrame:
    """Apply the cross-table rules that find errors (1-4 and 6 of the module docstring: values that cannot
    be true); the rules that find values that can be true are :func:`check_rule_warnings`.

    ``tables`` maps table names to typed DataFrames indexed by spreadsheet
    row number, as :func:`validate_table` returns them; a table that is
    absent (could not be read) or lacks a column skips the rules that need
    it. ``files`` maps table names to file names for the messages (default
    ``NAME.csv``). ``sorafenib_approval`` is accepted for compatibility and
    not used here (rule 5 is a warning). Returns a problem DataFrame.
    """
    files = {name: f"{name}.csv" for name in tables} | (files or {})
    problems: list = []

    def add(table, row, column, value, text):
        problems.append(_problem(files[table], int(row), column, _show(value), f"{files[table]} row {row}, {text}"))

    patients = tables.get("patients")
    pfile = files.get("patients", "patients.csv")

    # 1. patient_id of other tables must exist in patients
    if _has(patients, "patient_id"):
        known = set(patients["patient_id"].dropna())
        for name, frame in tables.items():
            if name == "patients" or not _has(frame, "patient_id"):
                continue
            for row, pid in frame["patient_id"].items():
                if pid is not None and not pd.isna(pid) and pid not in known:
                    add(name, row, "patient_id", pid, f"patient_id '{pid}' is not in {pfile}")

    # 2. follow-up ends after it starts
    if _has(patients, "first_haic_date", "last_followup_date"):
        bad = patients["last_followup_date"] < patients["first_haic_date"]
        for row in patients.index[_mask(bad)]:
            add("patients", row, "last_followup_date", patients.at[row, "last_followup_date"],
                f"last_followup_date {_show(patients.at[row, 'last_followup_date'])} is before "
                f"first_haic_date {_show(patients.at[row, 'first_haic_date'])}")

    progression = tables.get("progression")
    if progression is None:
        return _problem_frame(problems)

    # look-up of each progression row's patient (first row of a repeated patient_id)
    if _has(patients, "patient_id") and _has(progression, "patient_id"):
        used = [c for c in patients.columns if c in ("patient_id", "first_haic_date", "last_followup_date", "age")]
        base = patients[used].assign(_prow=patients.index).dropna(subset=["patient_id"])
        base = base.drop_duplicates("patient_id").set_index("patient_id")
        base = base.reindex(progression["patient_id"].to_numpy())
        base.index = progression.index
    else:
        base = pd.DataFrame(index=progression.index)

    def of_patient(row):
        return f"of patient {progression.at[row, 'patient_id']}, {pfile} row {_show(base.at[row, '_prow'])}"

    # 3. progression within follow-up
    if _has(progression, "progression_date") and "first_haic_date" in base:
        bad = progression["progression_date"] < base["first_haic_date"]
        for row in progression.index[_mask(bad)]:
            add("progression", row, "progression_date", progression.at[row, "progression_date"],
                f"progression_date {_show(progression.at[row, 'progression_date'])} is before the first HAIC "
                f"(first_haic_date {_show(base.at[row, 'first_haic_date'])} {of_patient(row)})")
    if _has(progression, "progression_date") and "last_followup_date" in base:
        bad = progression["progression_date"] > base["last_followup_date"]
        for row in progression.index[_mask(bad)]:
            add("progression", row, "progression_date", progression.at[row, "progression_date"],
                f"progression_date {_show(progression.at[row, 'progression_date'])} is after the last follow-up "
                f"(last_followup_date {_show(base.at[row, 'last_followup_date'])} {of_patient(row)})")

    # 4. salvage starts after progression and within follow-up
    if _has(progression, "salvage_start_date", "progression_date"):
        bad = progression["salvage_start_date"] < progression["progression_date"]
        for row in progression.index[_mask(bad)]:
            add("progression", row, "salvage_start_date", progression.at[row, "salvage_start_date"],
                f"salvage_start_date {_show(progression.at[row, 'salvage_start_date'])} is before "
                f"progression_date {_show(progression.at[row, 'progression_date'])}")
    if _has(progression, "salvage_start_date") and "last_followup_date" in base:
        bad = progression["salvage_start_date"] > base["last_followup_date"]
        for row in progression.index[_mask(bad)]:
            add("progression", row, "salvage_start_date", progression.at[row, "salvage_start_date"],
                f"salvage_start_date {_show(progression.at[row, 'salvage_start_date'])} is after the last follow-up "
                f"(last_followup_date {_show(base.at[row, 'last_followup_date'])} {of_patient(row)})")

    # 6. age at progression consistent with age at first HAIC
    if _has(progression, "age") and "age" in base:
        base_age = base["age"].astype("Float64")
        prog_age = progression["age"].astype("Float64")
        bad = prog_age < base_age
        for row in progression.index[_mask(bad)]:
            add("progression", row, "age", progression.at[row, "age"],
                f"age {_show(progression.at[row, 'age'])} at progression is lower than the age "
                f"{_show(base.at[row, 'age'])} at the first HAIC ({of_patient(row)})")
        if _has(progression, "progression_date") and "first_haic_date" in base:
            start, end = base["first_haic_date"], progression["progression_date"]
            years = end.dt.year - start.dt.year - (
                (end.dt.month < start.dt.month) | ((end.dt.month == start.dt.month) & (end.dt.day < start.dt.day))
            ).astype(int)
            years = years.clip(lower=0).astype("Float64")
            limit = base_age + years + 1
            bad = prog_age > limit
            for row in progression.index[_mask(bad)]:
                add("progression", row, "age", progression.at[row, "age"],
                    f"age {_show(progression.at[row, 'age'])} at progression is more than {_show(limit[row])} "
                    f"(age {_show(base.at[row, 'age'])} at the first HAIC + {_show(years[row])} whole years "
                    f"until progression + 1; {of_patient(row)})")
    return _problem_frame(problems)


def check_rule_warnings(tables: dict, *, files: dict | None = None,
                        sorafenib_approval: str = SORAFENIB_APPROVAL) -> pd.DataFrame:
    """Rule-based warnings (rules 5 and 7-10 of the module docstring): values that can be true but deserve
    a look (a Child-Pugh score that does not fit its components, a protocol deviation in session spacing or
    response timing, a PD patient's largest tumour smaller at progression, sorafenib before its approval).
    Same arguments and result shape as :func:`check_rules`; the rows are warnings, each with its ``rule``."""
    files = {name: f"{name}.csv" for name in tables} | (files or {})
    approval = pd.Timestamp(sorafenib_approval)
    found: list = []
    rule = None  # set before each rule below

    def add(table, row, column, value, text):
        found.append(_problem(files[table], int(row), column, _show(value), f"{files[table]} row {row}, {text}",
                              rule))

    patients, progression = tables.get("patients"), tables.get("progression")

    rule = RULE_CHILD_PUGH
    # 7. Child-Pugh score consistent with its components, in every table that has them
    for name, frame in tables.items():
        if _has(frame, "child_pugh_score", "total_bilirubin", "albumin", "prothrombin_activity", "ascites"):
            _check_child_pugh(frame, lambda row, value, text, name=name: add(name, row, "child_pugh_score", value, text))

    rule = RULE_RESPONSE
    # 9. a RECIST response needs an assessment 4 weeks after a session
    if _has(patients, "best_response", "first_haic_date", "last_followup_date"):
        days = (patients["last_followup_date"] - patients["first_haic_date"]).dt.days
        # (a negative follow-up is rule 2's error, not this one's)
        bad = patients["best_response"].isin(["CR", "PR", "SD", "PD"]) & (days < RESPONSE_ASSESSMENT_DAYS) & (days >= 0)
        for row in patients.index[_mask(bad)]:
            add("patients", row, "best_response", patients.at[row, "best_response"],
                f"best_response {patients.at[row, 'best_response']} needs a response assessment at least "
                f"{RESPONSE_ASSESSMENT_DAYS} days after the first HAIC, but follow-up lasted {int(days[row])} days "
                f"(first_haic_date {_show(patients.at[row, 'first_haic_date'])}, last_followup_date "
                f"{_show(patients.at[row, 'last_followup_date'])}); a patient never assessed is NE (the protocol of this study: "
                f"acknowledge if the response was read earlier)")

    rule = RULE_SESSIONS
    # 8. sessions at least 4 weeks apart, before progression (or the end of follow-up)
    if _has(patients, "n_haic_sessions", "first_haic_date", "last_followup_date"):
        end, source = patients["last_followup_date"], pd.Series("last_followup_date", index=patients.index)
        progression_ = tables.get("progression")
        if _has(patients, "patient_id") and _has(progression_, "patient_id", "progression_date"):
            first_prog = progression_.dropna(subset=["patient_id"]).groupby("patient_id")["progression_date"].min()
            prog = patients["patient_id"].map(first_prog)
            end = prog.where(prog.notna(), end)
            source = source.where(prog.isna(), "progression_date")
        days = (end - patients["first_haic_date"]).dt.days
        sessions = patients["n_haic_sessions"].astype("Float64")
        bad = ((sessions - 1) * MIN_SESSION_INTERVAL_DAYS > days.astype("Float64")) & (days >= 0)  # < 0: rules 2, 3
        if "patient_id" in patients:  # a repeated patient_id (reported) has no known progression: skipped
            bad &= ~patients["patient_id"].duplicated(keep=False)
        for row in patients.index[_mask(bad)]:
            n = int(sessions[row])
            add("patients", row, "n_haic_sessions", patients.at[row, "n_haic_sessions"],
                f"n_haic_sessions {n}: {n} HAIC sessions need at least ({n} - 1) x {MIN_SESSION_INTERVAL_DAYS} = "
                f"{(n - 1) * MIN_SESSION_INTERVAL_DAYS} days (sessions every 4 to 6 weeks) from the first HAIC to "
                f"{'progression' if source[row] == 'progression_date' else 'the last follow-up'}, but there are "
                f"{int(days[row])} (first_haic_date {_show(patients.at[row, 'first_haic_date'])}, "
                f"{source[row]} {_show(end[row])}); the protocol of this study, another HAIC regimen (e.g. weekly) "
                f"may differ: acknowledge if so")

    rule = RULE_SORAFENIB
    # 5. sorafenib only after its approval
    if _has(progression, "salvage_treatment", "salvage_start_date"):
        bad = (progression["salvage_treatment"] == "sorafenib") & (progression["salvage_start_date"] < approval)
        for row in progression.index[_mask(bad)]:
            add("progression", row, "salvage_start_date", progression.at[row, "salvage_start_date"],
                f"salvage_start_date {_show(progression.at[row, 'salvage_start_date'])} is before sorafenib was "
                f"approved for HCC ({_show(approval)}), but salvage_treatment is sorafenib (in a trial, or where it was "
                f"approved earlier, it is possible: acknowledge, or give the approval date with --sorafenib-approval)")

    # 10. progressive disease did not shrink
    rule = RULE_PD_SHRANK
    if not (_has(patients, "patient_id", "best_response", "max_tumor_size_mm")
            and _has(progression, "patient_id", "max_tumor_size_mm")):
        return _problem_frame(found)
    used = [c for c in patients.columns if c in ("patient_id", "best_response", "max_tumor_size_mm")]
    base = patients[used].assign(_prow=patients.index).dropna(subset=["patient_id"]).drop_duplicates("patient_id")
    base = base.set_index("patient_id").reindex(progression["patient_id"].to_numpy())
    base.index = progression.index
    pfile, file = files.get("patients", "patients.csv"), files["progression"]
    bad = (base["best_response"] == "PD") & (
        progression["max_tumor_size_mm"].astype("Float64") < base["max_tumor_size_mm"].astype("Float64"))
    for row in progression.index[_mask(bad)]:
        value = progression.at[row, "max_tumor_size_mm"]
        found.append(_problem(file, int(row), "max_tumor_size_mm", _show(value),
                              f"{file} row {row}, max_tumor_size_mm {_show(value)} mm at progression is smaller than "
                              f"{_show(base.at[row, 'max_tumor_size_mm'])} mm at the first HAIC, but the best response "
                              f"of patient {progression.at[row, 'patient_id']} ({pfile} row {_show(base.at[row, '_prow'])}) "
                              f"is PD (progression by a new lesion is possible: acknowledge if so)", rule))
    return _problem_frame(found)


def _check_child_pugh(frame: pd.DataFrame, report) -> None:
    bil, alb, pt, asc = _child_pugh_parts(
        frame["total_bilirubin"], frame["albumin"], frame["prothrombin_activity"], frame["ascites"]
    )
    if frame["child_pugh_score"].dtype in (np.int64, np.float64, pd.Int64Dtype()):
        # the test below on plain floats (missing: no finding); nothing more when no row fails it
        low = (bil + alb + pt + (1 + asc) + 1).to_numpy()
        high = low + asc.to_numpy() + 2
        score = frame["child_pugh_score"].to_numpy(dtype="float64", na_value=np.nan)
        if not ((score < low) | (score > high)).any():
            return
    low, high = _points_range(bil, alb, pt, asc)
    score = frame["child_pugh_score"].astype("Float64")
    bad = (score < low.astype("Float64")) | (score > high.astype("Float64"))
    for row in frame.index[_mask(bad)]:
        ascites_pts = "2-3" if asc[row] == 1 else "1"
        report(
            row,
            frame.at[row, "child_pugh_score"],
            f"child_pugh_score {_show(frame.at[row, 'child_pugh_score'])} does not fit its components: "
            f"total_bilirubin {_show(frame.at[row, 'total_bilirubin'])} mg/dL = {_show(bil[row])} "
            f"{'point' if bil[row] == 1 else 'points'}, "
            f"albumin {_show(frame.at[row, 'albumin'])} g/dL = {_show(alb[row])}, "
            f"prothrombin_activity {_show(frame.at[row, 'prothrombin_activity'])}% = {_show(pt[row])}, "
            f"ascites {frame.at[row, 'ascites']} = {ascites_pts}, encephalopathy (not recorded) = 1-3, "
            f"so the score must be {low[row]} to {high[row]} (the recorded score is the clinician's and may "
            f"have been assessed on another day than the laboratory values: acknowledge if it is right)",
        )
