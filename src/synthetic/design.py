"""The reconstruction's design choices: the study's dates and cut-offs as the reconstruction uses them,
the continuous variables of Table 2 and the bounds of the survival times it draws (assumptions of the
reconstruction, not published results; the study's own dates and cut-offs are in `src.study`)."""
from __future__ import annotations

import pandas as pd

from src import study

ENROL_START, ENROL_END = pd.Timestamp(study.ENROL_START), pd.Timestamp(study.ENROL_END)  # Methods: study period
SORAFENIB_APPROVAL = pd.Timestamp(study.SORAFENIB_APPROVED_ON)  # sorafenib starts only after this day
ERA_START = pd.Timestamp(study.ERA_START)        # Figure 1: "from 2005 to 2008" / "from 2009"
DATA_CUTOFF = pd.Timestamp(study.DATA_CUTOFF)    # assumed end of follow-up (not stated in the paper)
CUTOFFS = {key: study.TABLE3_CUTOFFS[column]    # the paper's Table 3 cut-offs by id key
           for key, column in study.TABLE3_CUTOFF_COLUMNS.items()}
CONTINUOUS = {  # Table 2 id stem -> (column, decimals stored, log-scale draws)
    "age": ("age", 0, False), "alt": ("alt", 0, True), "ast": ("ast", 0, True),
    "tbil": ("total_bilirubin", 1, False), "alb": ("albumin", 1, False),
    "pt": ("prothrombin_activity", 0, False), "plt": ("platelets", 1, False),
    "afp": ("afp", 0, True), "dcp": ("dcp", 0, True)}
MAX_SPP_DAYS = 720  # SPP longer than two years would not fit the study period for late patients
MIN_SPP_DAYS = 7  # shortest SPP drawn (days)
MIN_NE_DAYS = 14  # shortest overall survival of a not-evaluated patient (days)
