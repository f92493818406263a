"""The treatment's course: HAIC session counts placed four weeks apart (validate rule 8) and the grade 3-4
toxicities with the published frequencies."""
from __future__ import annotations

import numpy as np
import pandas as pd

from src.study import MIN_SESSION_INTERVAL_DAYS

TOXICITY_TERMS = {"nausea": "Nausea", "diarrhea": "Diarrhea", "bilirubin": "Bilirubin (hyperbilirubinemia)",
                  "ast": "AST (SGOT)", "alt": "ALT (SGPT)", "alp": "Alkaline phosphatase",
                  "ggt": "GGT (gamma-glutamyl transpeptidase)", "hyperglycemia": "Glucose (hyperglycemia)",
                  "thrombocytopenia": "Platelets", "anemia": "Hemoglobin",
                  "neutropenia": "Neutrophils/granulocytes (ANC/AGC)"}


def assign_sessions(sessions, span_days, preference) -> np.ndarray:
    """Give each patient one of the session counts so that n sessions fit in the patient's
    span ((n - 1) x 28 days from the first HAIC to progression or last follow-up; validate
    rule 8), larger counts to higher `preference` where the schedule allows.

    The largest counts are placed first, each on the most preferred patient still free whose
    span admits it: the patients admitting a count include those admitting any larger one, so
    this succeeds whenever any assignment exists."""
    sessions = np.sort(np.asarray(sessions, int))[::-1]
    capacity = 1 + np.floor(np.asarray(span_days, float) / MIN_SESSION_INTERVAL_DAYS).astype(int)
    out = np.zeros(len(capacity), int)
    order = np.argsort(-np.asarray(preference, float), kind="stable")
    for n in sessions:
        free = order[(out[order] == 0) & (capacity[order] >= n)]
        if not len(free):
            raise ValueError(f"no patient's follow-up leaves room for {n} HAIC sessions 4 weeks apart")
        out[free[0]] = n
    return out


def adverse_events(rng, T, patient_ids):
    """Grade 3-4 events with the published frequencies, plus the rash that stopped HAIC."""
    n = len(patient_ids)
    rows = []
    for key, term in TOXICITY_TERMS.items():
        k = int(round(T[f"r_tox_{key}_pct"] * n / 100))
        for pid in rng.choice(patient_ids, k, replace=False):
            rows.append((pid, term, int(rng.choice([3, 3, 3, 4])) if key not in ("nausea", "diarrhea") else 3, 0))
        others = [p for p in patient_ids if p not in {r[0] for r in rows if r[1] == term}]
        for pid in rng.choice(others, int(rng.integers(2, 8)), replace=False):
            rows.append((pid, term, int(rng.integers(1, 3)), 0))
    for pid in rng.choice(patient_ids, int(T["r_discontinued_rash_n"]), replace=False):
        rows.append((pid, "Rash/desquamation", 2, 1))
    df = pd.DataFrame(rows, columns=["patient_id", "term", "grade", "led_to_discontinuation"])
    return df.sort_values(["patient_id", "term"]).reset_index(drop=True)
