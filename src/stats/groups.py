"""Comparing two groups, the paper's Table 2: counts of each level or median (range) per group, with a
p-value per variable, under the test one chooses; and the ids under which published_results.csv files them.

- Tests: `categorical_p` (Fisher's exact, chi-square without or with Yates' correction: `CATEGORICAL_TESTS`)
  on a table of counts (`crosstab`), `continuous_p` (Student's or Welch's t, Mann-Whitney U:
  `CONTINUOUS_TESTS`).
- The table: `compare_groups` (long: one row per level), `format_comparison` (the paper's layout: "14/5",
  "median (min-max)"), `categorical_tests` (every categorical test side by side, to see which one a
  published table used).
- Ids: `id_token` (a level label as an id: ">=50" -> "ge50"), `comparison_ids` (a `compare_groups` table as
  `{id: value}`); the printed p-values are compared in `src/paper/compare.py`.
- Table 2 of the paper (`study.TABLE2_ROWS`), from `src/study.py`: `TABLE2_CATEGORICAL` (id key -> column of
  the SPP frame prepared by `survival.add_factors`, with the paper's level order), `TABLE2_CONTINUOUS` and
  `TABLE2_DIGITS`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from src.study import TABLE2_CATEGORICAL, TABLE2_CONTINUOUS, TABLE2_DIGITS  # noqa: F401 (re-exported)

CATEGORICAL_TESTS = {"fisher": "Fisher's exact (two-sided)", "chi2": "chi-square (no correction)",
                     "chi2_yates": "chi-square (Yates' correction)"}
CONTINUOUS_TESTS = {"student": "Student's t (equal variances)", "welch": "Welch's t",
                    "mannwhitney": "Mann-Whitney U"}


def _column(spec):
    """The column of a variable's spec: a column name, or `(column, [levels in order])`."""
    return spec[0] if isinstance(spec, tuple) else spec


def _levels(df, spec):
    column, levels = spec if isinstance(spec, tuple) else (spec, None)
    if levels is None:
        s = df[column]
        levels = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.dropna().unique())
    return column, list(levels)


def crosstab(df, group_col, column, levels, groups) -> np.ndarray:
    """Counts: one row per group, one column per level (levels and groups in order)."""
    return np.array([[int(((df[group_col] == g) & (df[column] == lv)).sum()) for lv in levels] for g in groups],
                    dtype=int).reshape(len(groups), len(levels))


def categorical_p(table, test="fisher") -> float:
    """p-value for a groups x levels table of counts.

    `test`: "fisher" (Fisher's exact, two-sided: sums the probabilities of all
    tables with the same margins no more likely than the observed one),
    "chi2" (Pearson chi-square, no correction), "chi2_yates" (with Yates'
    continuity correction, applied by scipy to 2x2 tables only). Rows or
    columns that are all zero are dropped; NaN when fewer than two remain.
    Tables larger than 2x2 use scipy's r x c version of each test.
    """
    t = np.asarray(table)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return np.nan
    if test == "fisher":
        return float(stats.fisher_exact(t)[1])
    if test in ("chi2", "chi2_yates"):
        return float(stats.chi2_contingency(t, correction=(test == "chi2_yates"))[1])
    raise ValueError(f"unknown categorical test {test!r}: use one of {list(CATEGORICAL_TESTS)}")


def continuous_p(a, b, test="student") -> float:
    """p-value comparing two samples: "student" (t-test, equal variances),
    "welch" (t-test, unequal variances) or "mannwhitney" (two-sided U test).
    NaN when a group has fewer than two values (one for Mann-Whitney)."""
    a, b = pd.Series(a).dropna().astype(float), pd.Series(b).dropna().astype(float)
    if test in ("student", "welch"):
        if min(len(a), len(b)) < 2 or (len(a) + len(b) < 3):
            return np.nan
        return float(stats.ttest_ind(a, b, equal_var=(test == "student"))[1])
    if test == "mannwhitney":
        return float(stats.mannwhitneyu(a, b, alternative="two-sided")[1]) if min(len(a), len(b)) else np.nan
    raise ValueError(f"unknown continuous test {test!r}: use one of {list(CONTINUOUS_TESTS)}")


def compare_groups(df, group_col, categorical: dict, continuous: dict, test_categorical="fisher",
                   test_continuous="student", groups=None) -> pd.DataFrame:
    """Characteristics of groups side by side with a p-value per variable (a "Table 2").

    `categorical` maps a name to a column, or to `(column, [levels in order])`
    (default order: the categories of a categorical column, else sorted);
    `continuous` maps a name to a column. `groups` fixes the group order
    (default: sorted). Variables whose column `df` does not have (optional
    columns left out of the data) are left out, with a printed note. Returns a long table: one row per (variable, level)
    for counts and per (variable, median/min/max) for continuous variables,
    a column per group, then `p` and `test`. With fewer than two groups p is NaN.
    """
    groups = groups if groups is not None else sorted(df[group_col].dropna().unique())
    groups = [g for g in groups if (df[group_col] == g).any()]
    rows = []
    left_out = [name for name, spec in {**categorical, **continuous}.items() if _column(spec) not in df]
    if left_out:
        print(f"Not in these data, left out: {', '.join(left_out)}.")
    categorical = {name: spec for name, spec in categorical.items() if _column(spec) in df}
    continuous = {name: column for name, column in continuous.items() if column in df}
    for name, spec in categorical.items():
        column, levels = _levels(df, spec)
        table = crosstab(df, group_col, column, levels, groups)
        p = categorical_p(table, test_categorical) if len(groups) >= 2 else np.nan
        for j, lv in enumerate(levels):
            rows.append({"variable": name, "column": column, "level": str(lv),
                         **{g: table[i, j] for i, g in enumerate(groups)},
                         "p": p, "test": CATEGORICAL_TESTS[test_categorical]})
    for name, column in continuous.items():
        values = [df.loc[df[group_col] == g, column].dropna() for g in groups]
        p = continuous_p(values[0], values[1], test_continuous) if len(groups) == 2 else np.nan
        for stat in ("median", "min", "max"):
            rows.append({"variable": name, "column": column, "level": stat,
                         **{g: getattr(v, stat)() for g, v in zip(groups, values)},
                         "p": p, "test": CONTINUOUS_TESTS[test_continuous]})
    return pd.DataFrame(rows)


def format_comparison(long: pd.DataFrame, groups=None, digits: dict | None = None) -> pd.DataFrame:
    """The paper's layout of a `compare_groups` table: one row per variable,
    counts as "14/5" in level order and continuous values as "median (min-max)".
    `digits` maps a variable to its number of decimals (default 0)."""
    groups = groups or [c for c in long.columns if c not in ("variable", "column", "level", "p", "test")]
    rows = []
    for name, block in long.groupby("variable", sort=False):
        k = (digits or {}).get(name, 0)
        if set(block["level"]) == {"median", "min", "max"}:
            v = block.set_index("level")
            cells = {g: f"{v.at['median', g]:.{k}f} ({v.at['min', g]:.{k}f}-{v.at['max', g]:.{k}f})" for g in groups}
            levels = "median (range)"
        else:
            cells = {g: "/".join(str(int(x)) for x in block[g]) for g in groups}
            levels = "/".join(block["level"])
        rows.append({"variable": name, "levels": levels, **cells, "p": block["p"].iloc[0],
                     "test": block["test"].iloc[0]})
    return pd.DataFrame(rows)


def categorical_tests(df, group_col, categorical: dict, groups=None) -> pd.DataFrame:
    """For each categorical variable, the p-value of every categorical test
    (Fisher's exact, chi-square without and with Yates' correction), so one
    can see which test a published table used (variables not in `df` are left out)."""
    groups = groups if groups is not None else sorted(df[group_col].dropna().unique())
    groups = [g for g in groups if (df[group_col] == g).any()]
    rows = []
    for name, spec in categorical.items():
        if _column(spec) not in df:
            continue
        column, levels = _levels(df, spec)
        table = crosstab(df, group_col, column, levels, groups)
        rows.append({"variable": name, "table": " | ".join("/".join(map(str, r)) for r in table),
                     **{t: categorical_p(table, t) for t in CATEGORICAL_TESTS}})
    return pd.DataFrame(rows)


def id_token(label) -> str:
    """A level label as it appears in the ids of published_results.csv:
    "<4" -> "lt4", ">=50" -> "ge50", "1+2" -> "1_2", "male" -> "male"."""
    s = str(label).replace(">=", "ge").replace("≥", "ge").replace("<", "lt").replace("+", "_")
    return s.replace(" ", "_").lower()


def comparison_ids(long: pd.DataFrame, prefix: str, group_ids: dict, level_ids=None) -> dict:
    """Flatten a `compare_groups` table into `{id: value}` with ids
    `<prefix>_<variable>_<level>_<group id>` and `<prefix>_<variable>_p`.
    `group_ids` maps group names to id tokens (e.g. "sorafenib" -> "sor");
    `level_ids` optionally maps a level label to its token (default `id_token`)."""
    out = {}
    for _, r in long.iterrows():
        level = (level_ids or {}).get(r["level"], id_token(r["level"]))
        for g, gid in group_ids.items():
            if g in r.index:
                out[f"{prefix}_{r['variable']}_{level}_{gid}"] = float(r[g])
        out[f"{prefix}_{r['variable']}_p"] = float(r["p"])
    return out
