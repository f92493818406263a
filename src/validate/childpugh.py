"""Child-Pugh scoring: the range of scores that a patient's recorded components allow.

Encephalopathy is not recorded and ascites is only yes/no, so a score is a range (:func:`child_pugh_points_range`),
used by rule 7 of the validator (``rules.py``) and by the generators of synthetic cohorts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _child_pugh_parts(total_bilirubin, albumin, prothrombin_activity, ascites):
    """Points of each component (float Series, NaN when unknown) and ascites flag."""
    index = next((x.index for x in (total_bilirubin, albumin, prothrombin_activity, ascites)
                  if isinstance(x, pd.Series)), None)

    def series(x):
        values = x.to_numpy() if isinstance(x, pd.Series) else np.atleast_1d(np.asarray(x, dtype=object))
        return pd.Series(values, index=index if index is not None else None)

    bil = pd.to_numeric(series(total_bilirubin), errors="coerce").astype(float)
    alb = pd.to_numeric(series(albumin), errors="coerce").astype(float)
    pt = pd.to_numeric(series(prothrombin_activity), errors="coerce").astype(float)
    index = bil.index
    bil_pts = pd.Series(np.select([bil < 2, bil <= 3, bil > 3], [1.0, 2.0, 3.0], np.nan), index=index)
    alb_pts = pd.Series(np.select([alb > 3.5, alb >= 2.8, alb < 2.8], [1.0, 2.0, 3.0], np.nan), index=index)
    pt_pts = pd.Series(np.select([pt > 70, pt >= 40, pt < 40], [1.0, 2.0, 3.0], np.nan), index=index)
    asc_raw = series(ascites)
    asc_raw.index = index
    mapping = {"yes": 1.0, "no": 0.0, "1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0}
    asc = asc_raw.map(lambda v: np.nan if v is None or (not isinstance(v, str) and pd.isna(v))
                      else mapping.get(str(v).strip().lower(), np.nan)).astype(float)
    return bil_pts, alb_pts, pt_pts, asc


def child_pugh_points_range(total_bilirubin, albumin, prothrombin_activity, ascites):
    """Lowest and highest Child-Pugh score the recorded components allow.

    Points: total bilirubin (mg/dL) <2 -> 1, 2-3 -> 2, >3 -> 3; albumin
    (g/dL) >3.5 -> 1, 2.8-3.5 -> 2, <2.8 -> 3; prothrombin activity (%)
    >70 -> 1, 40-70 -> 2, <40 -> 3; ascites "no" -> 1, "yes" -> 2 (mild) or
    3 (moderate/severe); encephalopathy is not recorded -> 1 to 3. So
    ``min = bil + alb + pt + (2 if ascites else 1) + 1`` and
    ``max = min + (1 if ascites else 0) + 2``.

    Vectorised: pass pandas Series (or array-likes) and get two ``Int64``
    Series (missing where a component is missing or ascites is not
    yes/no/True/False/1/0); pass scalars and get two ints (or None).
    """
    scalar = all(np.ndim(x) == 0 for x in (total_bilirubin, albumin, prothrombin_activity, ascites))
    low, high = _points_range(*_child_pugh_parts(total_bilirubin, albumin, prothrombin_activity, ascites))
    if scalar:
        return tuple(None if pd.isna(s.iloc[0]) else int(s.iloc[0]) for s in (low, high))
    return low, high


def _points_range(bil, alb, pt, asc):
    """child_pugh_points_range (two Int64 Series) from the points of _child_pugh_parts."""
    low = bil + alb + pt + (1 + asc) + 1
    high = low + asc + 2
    return low.astype("Int64"), high.astype("Int64")
