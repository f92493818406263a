"""How a table says things in words: numbers with their intervals, levels, units, labels and abbreviations.

The formatting every table of `src/present/` shares (and notebooks use in their sentences):
`format_hr` ("2.47 (1.11–5.50)"), `format_estimate` ("12.30 (3.91–NR)"), `n_percent` ("14 (73.7%)"),
`level_text` and `phrase` (codes in words: `LEVELS`), `unit_text` (the platelet unit always "×10⁴/µL"),
`reader_text` (a note without software or notebook names), `labels` (a column's "Label (unit)" from
`data/data_dictionary.csv`, short labels of `SHORT`), `abbreviations_in` (the footnote spelling out the
abbreviations of `ABBREVIATIONS` that occur) and `heading` (a name in words).

Place in the import order: the bottom of the presentation room (imports `config` and `formats` only).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from src.config import DEFAULT_DICTIONARY as DICTIONARY
from src.formats import is_missing as _missing

DASH = "—"
EN_DASH = "–"

# Short labels of the data dictionary's columns (its `meaning` is a sentence); units come from the dictionary.
SHORT = {"sex": "Sex", "age": "Age", "etiology": "Etiology", "tnm_stage": "TNM stage", "bclc_stage": "BCLC stage",
         "ecog_ps": "Performance status (ECOG)", "initial_treatment": "Initial treatment",
         "child_pugh_score": "Child-Pugh score", "alt": "ALT", "ast": "AST", "total_bilirubin": "Total bilirubin",
         "prothrombin_activity": "Prothrombin activity", "albumin": "Albumin", "platelets": "Platelet count",
         "afp": "AFP", "dcp": "DCP", "ascites": "Ascites", "pvtt": "Portal vein tumour thrombosis",
         "tumor_distribution": "Tumour distribution", "tumor_count": "Number of tumours",
         "max_tumor_size_mm": "Maximum tumour size", "n_haic_sessions": "HAIC sessions",
         "best_response": "Best response (RECIST)", "salvage_treatment": "Salvage treatment"}
LEVELS = {"M": "Male", "F": "Female", "male": "Male", "female": "Female", "yes": "Yes", "no": "No",
          "alcohol": "Alcohol", "other": "Other", "none": "No prior treatment", "resection": "Resection", "rfa_pei": "RFA or PEI",
          "tace": "TACE", "tace_rfa": "TACE and RFA", "unilateral": "Unilateral", "bilateral": "Bilateral",
          "sorafenib": "Sorafenib", "no sorafenib": "No sorafenib", "other salvage": "Other salvage", "ascites": "Ascites", "no ascites": "No ascites",
          "haic": "Continued HAIC", "uft": "Tegafur-uracil", "bsc": "Best supportive care"}
ABBREVIATIONS = {"AFP": "alpha-fetoprotein", "ALT": "alanine aminotransferase", "AST": "aspartate aminotransferase",
                 "BCLC": "Barcelona Clinic Liver Cancer", "CI": "confidence interval",
                 "DCP": "des-gamma-carboxy prothrombin", "ECOG": "Eastern Cooperative Oncology Group",
                 "HAIC": "hepatic arterial infusion chemotherapy", "HBV": "hepatitis B virus",
                 "HCV": "hepatitis C virus", "HR": "hazard ratio", "NR": "not reached",
                 "PEI": "percutaneous ethanol injection", "PVTT": "portal vein tumour thrombosis",
                 "RFA": "radiofrequency ablation", "RMST": "restricted mean survival time",
                 "SMD": "standardised mean difference", "SPP": "survival post-progression",
                 "TACE": "transarterial chemoembolisation", "TNM": "tumour, node, metastasis"}


# --- formatting -------------------------------------------------------------------

def format_hr(hr, low, high, digits: int = 2) -> str:
    """"2.47 (1.11–5.50)"; "—" when the hazard ratio is missing (a factor not entered in the model)."""
    if _missing(hr):
        return DASH
    if _missing(low) or _missing(high):
        return f"{float(hr):.{digits}f}"
    return f"{float(hr):.{digits}f} ({float(low):.{digits}f}{EN_DASH}{float(high):.{digits}f})"


def format_estimate(estimate, low, high, digits: int = 2) -> str:
    """"12.30 (3.91–NR)": an estimate with its confidence limits at `digits` decimals, "to" between limits
    when one is negative ("2.04 (-0.54 to 4.61)"). Beside a limit that is there, a missing estimate or limit
    is one a Kaplan-Meier curve never reached and reads NR; nothing there reads ""."""
    if all(_missing(v) for v in (estimate, low, high)):
        return ""
    text = [("NR" if _missing(v) else f"{float(v):.{digits}f}") for v in (estimate, low, high)]
    if _missing(low) and _missing(high):
        return text[0]
    joint = " to " if any(not _missing(v) and float(v) < 0 for v in (low, high)) else EN_DASH
    return f"{text[0]} ({text[1]}{joint}{text[2]})"


def n_percent(n, total, digits: int = 1) -> str:
    """"14 (73.7%)"."""
    return f"{int(n)} ({100 * n / total:.{digits}f}%)" if total else f"{int(n)}"


def level_text(level) -> str:
    """A level as printed: readable words for codes, ≥ and ≤ for >= and <=."""
    s = str(level)
    s = LEVELS.get(s, s)
    return s.replace(">=", "≥").replace("<=", "≤")


def phrase(text) -> str:
    """A level or label inside a sentence: `level_text` with its first letter in lower case, unless its first
    word is an abbreviation ("Best supportive care" -> "best supportive care", "HAIC" stays)."""
    s = level_text(text)
    first = s.split(" ")[0]
    return s if not s or first.isupper() or (len(first) > 1 and first[1].isupper()) else s[0].lower() + s[1:]


PLATELET_UNIT = "×10⁴/µL"
_PLATELET_UNIT = re.compile(r"(?:[x×]\s?)?10(?:\^4|⁴)\s?/\s?(?:uL|\u00b5L|\u03bcL|ul|mcL)")
_PER_MICROLITRE = re.compile(r"(?<=\d)/(?:uL|\u03bcL)\b")


def unit_text(text) -> str:
    """Units spelled one way for a reader: the platelet unit "10^4/uL" (the dictionary's ASCII), "10⁴/µL",
    "x10^4/uL" all read "×10⁴/µL" (`PLATELET_UNIT`), "/uL" after a number "/µL". "10^4/L" (per litre, as
    the paper misprints it) is left as written: the audit quotes it."""
    s = str(text)
    return _PER_MICROLITRE.sub("/\u00b5L", _PLATELET_UNIT.sub(PLATELET_UNIT, s)) if "L" in s else s


# What a reader of a table is told instead of where the code runs: software in parentheses is left out,
# a notebook is named by what it does.
SOFTWARE = ("tableone", "lifelines", "scipy", "statsmodels", "pandas", "numpy", "great_tables", "python-docx")
_SOFTWARE = re.compile(r"\s*\((?:" + "|".join(re.escape(n) for n in SOFTWARE) + r")\)", re.I)
NOTEBOOK_WORDS = {"01": "the patient flow", "02": "the baseline table", "03": "the response and toxicity analysis",
                  "04": "the overall survival analysis", "05": "the analysis of survival post-progression",
                  "06": "the analysis of prognostic factors", "07": "the appraisal", "08": "the scorecard",
                  "09": "the audit of the published numbers", "10": "the ensemble of reconstructed cohorts"}


def reader_text(text) -> str:
    """A note as a reader gets it: "(tableone)" and other software names in parentheses left out,
    "notebook 07" as "the appraisal" (`NOTEBOOK_WORDS`), units spelled one way (`unit_text`)."""
    s = _SOFTWARE.sub("", str(text))
    s = re.sub(r"\b[Nn]otebook (\d{2})\b", lambda m: NOTEBOOK_WORDS.get(m.group(1), m.group(0)), s)
    return unit_text(s)


def labels(dictionary: Path | None = None) -> dict:
    """Column -> "Label (unit)" from the data dictionary (short labels of `SHORT`, units of its `unit` column)."""
    out = {}
    with open(dictionary or DICTIONARY, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            column = row["column"]
            if column in out:
                continue
            label = SHORT.get(column, column.replace("_", " ").capitalize())
            unit = (row.get("unit") or "").strip()
            out[column] = unit_text(f"{label} ({unit})") if unit and unit not in ("yes/no",) else label
    return out


def abbreviations_in(*texts) -> str:
    """The footnote spelling out the abbreviations that occur in `texts` ("" if none)."""
    joined = " ".join(str(t) for t in texts)
    used = [f"{a}, {m}" for a, m in ABBREVIATIONS.items() if re.search(rf"(?<![A-Za-z]){a}(?![A-Za-z])", joined)]
    return "; ".join(used) + "." if used else ""



def heading(name) -> str:
    """A name in words for a heading: underscores to spaces, the first letter capitalised unless the name
    starts with an abbreviation ("new_check" -> "New check", "HR_ratio" stays "HR ratio")."""
    s = str(name).replace("_", " ")
    return s[:1].upper() + s[1:] if s and not s[:2].isupper() else s

