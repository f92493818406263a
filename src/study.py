"""The study's design, once: every fact of the paper's Methods that code needs, in one place.

The bottom floor (tests/test_imports.py): imports nothing of `src`, so the validator, the
generators, the statistics and the notebooks' defaults all read the same value. A notebook's
parameter that repeats one of these as its default (`ERA_START` in 01 and 07, the Table 3 cut-offs
in 06 and 07) is tested equal to it (tests/test_study.py).

- Enrolment and eras: `ENROL_START`, `ENROL_END`, `ERA_START`, `DATA_CUTOFF`.
- Sorafenib: two dates, two meanings (see below): `SORAFENIB_APPROVAL_MONTH` (the validator's rule)
  and `SORAFENIB_APPROVED_ON` (the generators' earliest start).
- The protocol: `MIN_SESSION_INTERVAL_DAYS`, `RESPONSE_ASSESSMENT_DAYS`.
- Time: `DAYS_PER_MONTH`.
- Table 2 rows (`TABLE2_ROWS`, with the two shapes its readers use derived from it), Table 3 cut-offs
  (`TABLE3_CUTOFFS`, by column) and the paper's multivariable model (`PAPER_MODEL`).
"""
from __future__ import annotations

# --- enrolment and eras ---------------------------------------------------------------------------

#: Methods: the study period (first HAIC from April 2005 to August 2011).
ENROL_START, ENROL_END = "2005-04-01", "2011-08-31"
#: Figure 1: "from 2005 to 2008" / "from 2009": salvage started on or after this date belongs to the
#: sorafenib era (the default of notebooks 01 and 07).
ERA_START = "2009-01-01"
#: End of follow-up assumed by the generators (the paper does not state it).
DATA_CUTOFF = "2013-03-31"

# --- sorafenib: two dates, two meanings -----------------------------------------------------------
# The paper says only "In Japan, sorafenib was approved in May 2009".
#: The validator's rule (rule 5, a warning): a sorafenib salvage starting before this day is implausible.
#: The first day of the month the paper names, so that no start the paper allows (any day of May 2009)
#: is flagged; `make check --sorafenib-approval` changes it for another country.
SORAFENIB_APPROVAL_MONTH = "2009-05-01"
#: The generators' earliest start: the day of the approval in Japan (20 May 2009). The reconstruction
#: and the known-truth cohorts start sorafenib only after it, so a synthetic cohort never shows a start
#: before the real approval (and so never one the validator would warn about). The committed cohort's
#: bytes depend on this day.
SORAFENIB_APPROVED_ON = "2009-05-20"

# --- the protocol ---------------------------------------------------------------------------------

#: Methods: "The treatment was repeated at an interval of 4 to 6 weeks": the shortest interval
#: between two HAIC sessions (validator rule 8).
MIN_SESSION_INTERVAL_DAYS = 28
#: Methods: response evaluated by CT or MRI "at 4 weeks after each HAIC session": the shortest
#: follow-up that allows a RECIST response other than NE (validator rule 9).
RESPONSE_ASSESSMENT_DAYS = 28

# --- time -----------------------------------------------------------------------------------------

DAYS_PER_MONTH = 30.4375  # 365.25 / 12: the paper's time unit (the default TIME_UNIT)

# --- Table 2: characteristics at progression, sorafenib vs other salvage --------------------------

#: The categorical rows of Table 2: id key (as in published_results.csv) -> (column of the SPP frame
#: prepared by `survival.add_factors`, its levels in the paper's order or None for the column's own
#: categories, the levels' tokens in the ids of published_results.csv).
TABLE2_ROWS = {
    "sex": ("sex_group", ["male", "female"], ("male", "female")),
    "ps": ("ps_group", None, ("0", "1_2")),
    "ascites": ("ascites", ["yes", "no"], ("yes", "no")),
    "pvtt": ("pvtt", ["yes", "no"], ("yes", "no")),
    "distribution": ("tumor_distribution", ["unilateral", "bilateral"], ("unilateral", "bilateral")),
    "tumor_count": ("tumor_count_group", None, ("lt4", "ge4")),
    "tumor_size": ("max_tumor_size_mm_group", None, ("lt50", "ge50")),
}
#: Derived: key -> column spec for `groups.compare_groups` (a column, or (column, levels)).
TABLE2_CATEGORICAL = {key: column if levels is None else (column, list(levels))
                      for key, (column, levels, _tokens) in TABLE2_ROWS.items()}
#: Derived: key -> the level tokens of the ids (the audit reads the printed counts by them).
TABLE2_LEVEL_IDS = {key: tokens for key, (_column, _levels, tokens) in TABLE2_ROWS.items()}
TABLE2_CONTINUOUS = {"age": "age", "alt": "alt", "ast": "ast", "tbil": "total_bilirubin", "alb": "albumin",
                     "pt": "prothrombin_activity", "plt": "platelets", "afp": "afp", "dcp": "dcp"}
TABLE2_DIGITS = {"tbil": 1, "alb": 1, "plt": 1}  # decimals printed in the paper (others: 0)

# --- Table 3: prognostic factors of SPP -----------------------------------------------------------

#: The paper's cut-offs, by column of the SPP frame (the defaults of notebooks 06 and 07).
TABLE3_CUTOFFS = {"age": 70, "platelets": 12.5, "albumin": 3.8, "total_bilirubin": 1.0, "prothrombin_activity": 94,
                  "alt": 50, "ast": 84, "afp": 2000, "dcp": 1800}
#: Table 3 id key (as in published_results.csv) -> column with a cut-off, in the paper's order.
TABLE3_CUTOFF_COLUMNS = {"age": "age", "plt": "platelets", "alb": "albumin", "tbil": "total_bilirubin",
                         "pt": "prothrombin_activity", "alt": "alt", "ast": "ast", "afp": "afp", "dcp": "dcp"}
#: The factors of the paper's multivariable model (keys of Table 3; notebook 06's default).
PAPER_MODEL = ("tbil", "ascites", "sorafenib")
