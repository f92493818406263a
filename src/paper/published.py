"""The paper's published numbers as the audit reads them (`published_by_id`), and the small readers every check
of the audit shares: whether ids are there, a value, the value as printed, half its rounding unit, and the
shape of a finding (`_finding`; the fields are described in `src/paper/audit.py`)."""
from __future__ import annotations

import re

import pandas as pd

from src.config import read_published_results

ALPHA = 0.05          # Methods: "Variables that reached a P value of <0.05 in a univariate analysis ..."
COHORT = "flow_n_total"  # the id of the number of patients (the denominator of the cohort's percentages)


# --- reading the published numbers ------------------------------------------

def published_by_id(path=None) -> pd.DataFrame:
    """The published numbers, indexed by id, `value` as float and as printed (`printed`)."""
    df = read_published_results(path)
    df["printed"] = df["value"]
    df["value"] = df["value"].astype(float)
    return df.set_index("id")


def empty_published() -> pd.DataFrame:
    """A table of published numbers with no rows (for a data folder without published results)."""
    cols = ["value", "decimals", "relation", "statistic", "source", "notebook", "printed"]
    return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))


def _has(pub, *ids) -> bool:
    return all(i in pub.index for i in ids)


def _v(pub, key) -> float:
    return float(pub.loc[key, "value"])


def _p(pub, key) -> str:
    return str(pub.loc[key, "printed"])


def _half(pub, key) -> float:
    """Half a rounding unit of a printed number (0.05 for one decimal, 5 for 'about 80')."""
    return 0.5 * 10.0 ** -int(pub.loc[key, "decimals"])


def _relation(pub, key) -> str:
    return str(pub.loc[key, "relation"]) if "relation" in pub.columns else "="


def _ids_matching(pub, pattern) -> list[str]:
    return [i for i in pub.index if re.fullmatch(pattern, i)]


def _finding(check, ids, printed, implied, consistent, reason, correction="") -> dict:
    return {"check": check, "ids": ";".join(ids), "printed": str(printed), "implied": str(implied),
            "correction": correction, "consistent": bool(consistent), "reason": reason}
