"""Where things are and how they are named, once: the project's root and folders, the names of the
files and tables, the notes that say the data are synthetic, and the byte format of a cohort's CSV.

The bottom floor (tests/test_imports.py): imports nothing of `src` and no heavy library at module
level, so every module may read it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

# --- paths ----------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]  # the project (cookiecutter-data-science's anchor)
DATA_DIR = ROOT / "data"  # the bundled synthetic cohort, its dictionary and the paper's printed numbers
NOTEBOOKS_DIR = ROOT / "notebooks"
OUTPUTS_DIR = ROOT / "outputs"

# --- file and table names -------------------------------------------------------------------------

TABLE_NAMES = ("patients", "progression", "adverse_events")  # the three tables of a cohort
TABLE_SUFFIXES = (".csv", ".xlsx", ".sav")  # file formats a table may come in, in the order they are looked for
DICTIONARY_NAME = "data_dictionary.csv"
SYNONYMS_NAME = "synonyms.csv"
MANIFEST_NAME = "bundled_cohort.sha256"  # checksums by which a run recognises the bundled cohort
PUBLISHED_RESULTS_NAME = "published_results.csv"  # the paper's printed numbers (one per id)
#: The paper's printed numbers: the project's only copy, beside the bundled cohort.
PUBLISHED_RESULTS = DATA_DIR / PUBLISHED_RESULTS_NAME
DEFAULT_DICTIONARY = DATA_DIR / DICTIONARY_NAME


def read_published_results(path=None, dtype=None):
    """The table of printed numbers at `path` (default: the paper's, `PUBLISHED_RESULTS`), with `value`
    read as text (as printed: "0.040" keeps its zero); `dtype` overrides (e.g. `str` for every column)."""
    import pandas as pd

    return pd.read_csv(path or PUBLISHED_RESULTS, dtype=dtype or {"value": str})


# --- the notes that say the data are synthetic (one wording per medium) ---------------------------

#: On a figure (a short line in a corner; also ends its alt text).
SYNTHETIC_NOTE_FIGURE = "Synthetic data (reconstructed cohort, not patients)"
#: Under a table (a footnote sentence).
SYNTHETIC_NOTE_TABLE = ("Synthetic data: a cohort reconstructed to match the paper's published aggregates, "
                        "not the record of any patient.")
#: At the top of the report (Markdown).
SYNTHETIC_NOTE_REPORT = (
    "Every number, table and figure below was computed on a **reconstructed "
    "synthetic cohort** (simulated patients shaped after the published "
    "summaries), not on the study's patient records."
)

# --- a cohort's CSV bytes -------------------------------------------------------------------------

#: How a generated cohort's tables are written: no index, "\n" line ends, ISO dates, floats to 10
#: significant digits (the committed cohort's bytes depend on it).
COHORT_CSV = {"index": False, "lineterminator": "\n", "date_format": "%Y-%m-%d", "float_format": "%.10g"}


def write_cohort_tables(tables: dict, folder) -> Path:
    """Write each table of `tables` ({name: DataFrame}) as `<folder>/<name>.csv` in the `COHORT_CSV`
    format (creating the folder); return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", **COHORT_CSV)
    return folder


# --- the validated-data handshake between the runner and its kernels ------------------------------

VALIDATED_VARIABLE = "HAIC_VALIDATED"  # set by the runner for its kernels: the tables it validated (a pickle)


def data_fingerprint(data_dir) -> str:
    """SHA-256 over the name and bytes of every file directly in `data_dir` and of the project's data
    dictionary and synonyms (what validation reads): another byte anywhere gives another fingerprint."""
    digest = hashlib.sha256()
    folder = Path(data_dir)
    files = [f for f in sorted(folder.iterdir()) if f.is_file()] if folder.is_dir() else []
    files += [DATA_DIR / DICTIONARY_NAME, DATA_DIR / SYNONYMS_NAME]
    for f in files:
        digest.update(f.name.encode("utf-8") + b"\0")
        digest.update(f.read_bytes() if f.is_file() else b"(none)")
        digest.update(b"\0")
    return digest.hexdigest()

