"""The numbered cross-table and protocol rules (1-10 of the package docstring).

:func:`check_rules` finds errors, values that cannot be true (1: a patient_id unknown to patients; 2-4: dates out
of order; 6: an age at progression that does not follow from the baseline age); :func:`check_rule_warnings` finds
warnings, values that can be true but deserve a look (5: sorafenib before its approval; 7: a Child-Pugh score that
does not fit its components; 8, 9: the protocol's schedule; 10: a PD patient's tumour smaller at progression).
One function per rule; the order in which they run is the order of the problems found in one row.
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
    """Apply the cross-table rules that find errors (1-4 and 6 of the package docstring: values that cannot
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
    add = _reporter(problems, files)
    patients = tables.get("patients")
    pfile = files.get("patients", "patients.csv")
    _rule_1_known_patients(tables, pfile, add)
    _rule_2_followup_in_order(patients, add)
    progression = tables.get("progression")
    if progression is None:
        return _problem_frame(problems)
    base = _patient_of_each_row(patients, progression, ("patient_id", "first_haic_date", "last_followup_date", "age"))

    def of_patient(row):
        return f"of patient {progression.at[row, 'patient_id']}, {pfile} row {_show(base.at[row, '_prow'])}"

    _rule_3_progression_in_followup(progression, base, of_patient, add)
    _rule_4_salvage_in_followup(progression, base, of_patient, add)
    _rule_6_age_at_progression(progression, base, of_patient, add)
    return _problem_frame(problems)


def _reporter(found: list, files: dict, rule: str | None = None):
    """``add(table, row, column, value, text)``: appends to ``found`` the problem of a cell (a warning of
    ``rule``, or an error when ``rule`` is None), its message ``FILE row ROW, TEXT``."""
    def add(table, row, column, value, text):
        found.append(_problem(files[table], int(row), column, _show(value), f"{files[table]} row {row}, {text}",
                              rule))
    return add


def _patient_of_each_row(patients: pd.DataFrame | None, progression: pd.DataFrame, columns) -> pd.DataFrame:
    """The ``patients`` row of each ``progression`` row (the first one of a repeated patient_id), indexed like
    ``progression``: the ``columns`` that ``patients`` has, and ``_prow``, the patient's spreadsheet row
    (missing for a patient_id that ``patients`` lacks); no column when either table lacks patient_id."""
    if not (_has(patients, "patient_id") and _has(progression, "patient_id")):
        return pd.DataFrame(index=progression.index)
    used = [c for c in patients.columns if c in columns]
    base = patients[used].assign(_prow=patients.index).dropna(subset=["patient_id"])
    base = base.drop_duplicates("patient_id").set_index("patient_id")
    base = base.reindex(progression["patient_id"].to_numpy())
    base.index = progression.index
    return base


def _rule_1_known_patients(tables: dict, pfile: str, add) -> None:
    """1. every patient_id of the other tables exists in patients."""
    patients = tables.get("patients")
    if not _has(patients, "patient_id"):
        return
    known = set(patients["patient_id"].dropna())
    for name, frame in tables.items():
        if name == "patients" or not _has(frame, "patient_id"):
            continue
        for row, pid in frame["patient_id"].items():
            if pid is not None and not pd.isna(pid) and pid not in known:
                add(name, row, "patient_id", pid, f"patient_id '{pid}' is not in {pfile}")


def _rule_2_followup_in_order(patients: pd.DataFrame | None, add) -> None:
    """2. follow-up ends after it starts."""
    if not _has(patients, "first_haic_date", "last_followup_date"):
        return
    bad = patients["last_followup_date"] < patients["first_haic_date"]
    for row in patients.index[_mask(bad)]:
        add("patients", row, "last_followup_date", patients.at[row, "last_followup_date"],
            f"last_followup_date {_show(patients.at[row, 'last_followup_date'])} is before "
            f"first_haic_date {_show(patients.at[row, 'first_haic_date'])}")


def _rule_3_progression_in_followup(progression: pd.DataFrame, base: pd.DataFrame, of_patient, add) -> None:
    """3. progression within follow-up: not before the first HAIC, not after the last follow-up."""
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


def _rule_4_salvage_in_followup(progression: pd.DataFrame, base: pd.DataFrame, of_patient, add) -> None:
    """4. salvage starts after progression and within follow-up."""
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


def _rule_6_age_at_progression(progression: pd.DataFrame, base: pd.DataFrame, of_patient, add) -> None:
    """6. age at progression consistent with age at first HAIC: not lower, not higher than the baseline age +
    whole years elapsed + 1."""
    if not (_has(progression, "age") and "age" in base):
        return
    base_age = base["age"].astype("Float64")
    prog_age = progression["age"].astype("Float64")
    bad = prog_age < base_age
    for row in progression.index[_mask(bad)]:
        add("progression", row, "age", progression.at[row, "age"],
            f"age {_show(progression.at[row, 'age'])} at progression is lower than the age "
            f"{_show(base.at[row, 'age'])} at the first HAIC ({of_patient(row)})")
    if not (_has(progression, "progression_date") and "first_haic_date" in base):
        return
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


def check_rule_warnings(tables: dict, *, files: dict | None = None,
                        sorafenib_approval: str = SORAFENIB_APPROVAL) -> pd.DataFrame:
    """Rule-based warnings (rules 5 and 7-10 of the package docstring): values that can be true but deserve
    a look (a Child-Pugh score that does not fit its components, a protocol deviation in session spacing or
    response timing, a PD patient's largest tumour smaller at progression, sorafenib before its approval).
    Same arguments and result shape as :func:`check_rules`; the rows are warnings, each with its ``rule``."""
    files = {name: f"{name}.csv" for name in tables} | (files or {})
    approval = pd.Timestamp(sorafenib_approval)
    found: list = []
    patients, progression = tables.get("patients"), tables.get("progression")
    _rule_7_child_pugh(tables, _reporter(found, files, RULE_CHILD_PUGH))
    _rule_9_response_assessed(patients, _reporter(found, files, RULE_RESPONSE))
    _rule_8_session_spacing(patients, progression, _reporter(found, files, RULE_SESSIONS))
    _rule_5_sorafenib_approved(progression, approval, _reporter(found, files, RULE_SORAFENIB))
    _rule_10_pd_did_not_shrink(patients, progression, files.get("patients", "patients.csv"),
                               _reporter(found, files, RULE_PD_SHRANK))
    return _problem_frame(found)


def _rule_7_child_pugh(tables: dict, add) -> None:
    """7. Child-Pugh score consistent with its components, in every table that has them."""
    for name, frame in tables.items():
        if _has(frame, "child_pugh_score", "total_bilirubin", "albumin", "prothrombin_activity", "ascites"):
            _check_child_pugh(frame, lambda row, value, text, name=name: add(name, row, "child_pugh_score", value, text))


def _rule_9_response_assessed(patients: pd.DataFrame | None, add) -> None:
    """9. a RECIST response needs an assessment 4 weeks after a session."""
    if not _has(patients, "best_response", "first_haic_date", "last_followup_date"):
        return
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


def _rule_8_session_spacing(patients: pd.DataFrame | None, progression: pd.DataFrame | None, add) -> None:
    """8. sessions at least 4 weeks apart, before progression (or the end of follow-up)."""
    if not _has(patients, "n_haic_sessions", "first_haic_date", "last_followup_date"):
        return
    end, source = patients["last_followup_date"], pd.Series("last_followup_date", index=patients.index)
    if _has(patients, "patient_id") and _has(progression, "patient_id", "progression_date"):
        first_prog = progression.dropna(subset=["patient_id"]).groupby("patient_id")["progression_date"].min()
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


def _rule_5_sorafenib_approved(progression: pd.DataFrame | None, approval: pd.Timestamp, add) -> None:
    """5. sorafenib only after its approval."""
    if not _has(progression, "salvage_treatment", "salvage_start_date"):
        return
    bad = (progression["salvage_treatment"] == "sorafenib") & (progression["salvage_start_date"] < approval)
    for row in progression.index[_mask(bad)]:
        add("progression", row, "salvage_start_date", progression.at[row, "salvage_start_date"],
            f"salvage_start_date {_show(progression.at[row, 'salvage_start_date'])} is before sorafenib was "
            f"approved for HCC ({_show(approval)}), but salvage_treatment is sorafenib (in a trial, or where it was "
            f"approved earlier, it is possible: acknowledge, or give the approval date with --sorafenib-approval)")


def _rule_10_pd_did_not_shrink(patients: pd.DataFrame | None, progression: pd.DataFrame | None, pfile: str,
                               add) -> None:
    """10. progressive disease did not shrink: a PD patient's largest tumour is not smaller at progression."""
    if not (_has(patients, "patient_id", "best_response", "max_tumor_size_mm")
            and _has(progression, "patient_id", "max_tumor_size_mm")):
        return
    base = _patient_of_each_row(patients, progression, ("patient_id", "best_response", "max_tumor_size_mm"))
    bad = (base["best_response"] == "PD") & (
        progression["max_tumor_size_mm"].astype("Float64") < base["max_tumor_size_mm"].astype("Float64"))
    for row in progression.index[_mask(bad)]:
        value = progression.at[row, "max_tumor_size_mm"]
        add("progression", row, "max_tumor_size_mm", value,
            f"max_tumor_size_mm {_show(value)} mm at progression is smaller than "
            f"{_show(base.at[row, 'max_tumor_size_mm'])} mm at the first HAIC, but the best response "
            f"of patient {progression.at[row, 'patient_id']} ({pfile} row {_show(base.at[row, '_prow'])}) "
            f"is PD (progression by a new lesion is possible: acknowledge if so)")


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
