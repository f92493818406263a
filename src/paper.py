"""Comparison with the paper: its printed numbers beside the ones computed here, in one place.

- Published numbers: `read_published`, `only_published`.
- One number: `compare_value` (match at the printed precision; `helpers.format_number` prints).
- A notebook's comparison table: `paper_vs_run` (writes `tables/paper_vs_run_<notebook>.csv`), with the
  audit's reasons for numbers that contradict others (`inconsistent_published`, from `src.audit`).
- Table 2's printed p-values: `printed_categorical_tests`, `match_printed_p`.
- The scorecard: `read_paper_vs_run`, `build_scorecard`, `summarize_scorecard`, `write_scorecard`,
  `make_scorecard` (used by notebook 08 and by the runner).

Place in the import order (tests/test_imports.py): above `helpers`, `survival`, `audit` and `tables`,
which it imports; below the runner and the notebooks, which import it.
"""
from __future__ import annotations

import csv
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from src import audit, privacy, tables
from src.helpers import format_number, round_half_up
from src.survival import CATEGORICAL_TESTS, categorical_p

PUBLISHED_RESULTS_NAME = "published_results.csv"
PAPER_VS_RUN_PREFIX = "paper_vs_run_"
SCORECARD_COLUMNS = ["id", "source", "published", "reproduced", "status", "note"]
SCORECARD_STATUSES = ["match", "differs", "not reproducible", "not computed"]

Log = Callable[[str], None]


class ComparisonError(ValueError):
    """A paper_vs_run file that cannot be read (a missing column)."""


# --- published numbers -------------------------------------------------------------

def read_published(paths: SimpleNamespace) -> pd.DataFrame | None:
    """The paper's printed numbers (`published_results.csv`), or None for other data."""
    if paths.published is None:
        return None
    return pd.read_csv(paths.published, dtype={"value": str})


def only_published(values: dict, paths: SimpleNamespace) -> dict:
    """Keep the entries of `values` whose ids are in `published_results.csv` (for
    families of numbers, e.g. one per category, where the data may have
    categories the paper did not print); all of them when there is no such file."""
    published = read_published(paths)
    if published is None:
        return dict(values)
    return {k: v for k, v in values.items() if k in set(published["id"])}


def compare_value(published: str, relation: str, decimals: int, reproduced) -> str:
    """'match' if `reproduced`, printed at `decimals`, equals `published` (or satisfies
    `relation` '<'), 'differs' otherwise, 'not computed' if it is missing."""
    if reproduced is None or (isinstance(reproduced, float) and np.isnan(reproduced)):
        return "not computed"
    if relation == "<":
        return "match" if float(reproduced) < float(published) else "differs"
    return "match" if round_half_up(reproduced, decimals) == Decimal(published) else "differs"


def inconsistent_published(paths: SimpleNamespace) -> dict:
    """Published ids that contradict other printed numbers -> the audit's reason (`src.audit`)."""
    return audit.unreproducible(audit.published_by_id(paths.published))


def paper_vs_run(reproduced: dict, notebook: str, paths: SimpleNamespace) -> pd.DataFrame | None:
    """Set each reproduced number beside the published one and save the table.

    `reproduced` maps ids of `published_results.csv` to values computed in the
    notebook. Status: `match` at the printed precision, `differs`, or `not
    reproducible` when it differs and the audit shows the printed number
    contradicts others (the reason goes to `note`). Writes
    `tables/paper_vs_run_<notebook>.csv` (read by the runner for the scorecard)
    and returns the table; returns None when the data folder has no published
    results (a researcher's own cohort).
    """
    published = read_published(paths)
    if published is None:
        return None
    unknown = set(reproduced) - set(published["id"])
    if unknown:
        raise KeyError(f"ids not in published_results.csv: {sorted(unknown)}")
    rows = published[published["id"].isin(reproduced)].copy()
    rows["reproduced"] = [format_number(reproduced[i], d) for i, d in zip(rows["id"], rows["decimals"])]
    rows["status"] = [compare_value(v, r, d, reproduced[i])
                      for i, v, r, d in zip(rows["id"], rows["value"], rows["relation"], rows["decimals"])]
    rows["published"] = np.where(rows["relation"].eq("<"), "<" + rows["value"], rows["value"])
    reasons = inconsistent_published(paths)
    rows["note"] = rows["id"].map(reasons).fillna("")
    rows.loc[rows["status"].eq("differs") & rows["note"].ne(""), "status"] = "not reproducible"
    table = rows[["id", "source", "published", "reproduced", "status", "note"]].reset_index(drop=True)
    tables.write_frame(table, f"{PAPER_VS_RUN_PREFIX}{notebook}", paths, title=f"Paper vs this run: {notebook}",
                       footnotes=["match: equal at the printed precision; not reproducible: the printed number "
                                  "contradicts others (notebook 09)."])
    return table


# --- Table 2's printed p-values ---------------------------------------------------

def printed_categorical_tests(published: pd.DataFrame, prefix: str, group_tokens) -> pd.DataFrame:
    """`categorical_tests` recomputed on the counts the paper printed.

    Reads the count ids `<prefix>_<variable>_<level>_<group token>` of
    `published_results.csv` (group tokens in row order, e.g. ["sor", "oth"];
    levels in file order) and applies every categorical test to each table.
    Column `totals` shows the printed counts added up per group.
    """
    counts = published[published["statistic"].eq("count") & published["id"].str.startswith(prefix + "_")]
    rows = {}
    for pid, value in zip(counts["id"], counts["value"]):
        stem, group = pid[len(prefix) + 1:].rsplit("_", 1)
        if group in group_tokens:
            rows.setdefault(stem, {})[group] = int(float(value))
    tables = {}
    for stem, by_group in rows.items():
        variable, level = _split_stem(stem, rows)
        tables.setdefault(variable, {})[level] = [by_group.get(g, 0) for g in group_tokens]
    out = []
    for variable, levels in tables.items():
        t = np.array(list(levels.values())).T  # groups x levels
        out.append({"variable": variable, "table": " | ".join("/".join(map(str, r)) for r in t),
                    "totals": " | ".join(str(int(n)) for n in t.sum(axis=1)),
                    **{test: categorical_p(t, test) for test in CATEGORICAL_TESTS}})
    return pd.DataFrame(out)


def _split_stem(stem: str, stems) -> tuple[str, str]:
    """Split "tumor_count_lt4" into ("tumor_count", "lt4"): the variable is the
    longest prefix shared by at least two stems (every variable has two or more levels)."""
    parts = stem.split("_")
    for i in range(len(parts) - 1, 0, -1):
        variable = "_".join(parts[:i])
        if sum(s.startswith(variable + "_") for s in stems) >= 2:
            return variable, "_".join(parts[i:])
    return parts[0], "_".join(parts[1:])


def match_printed_p(tests: pd.DataFrame, published: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Beside each row of `categorical_tests`, the printed p (id `<prefix>_<variable>_p`)
    and, per test, "match" if its p printed at the paper's decimals equals it."""
    pub = published.set_index("id")
    out = tests.copy()
    ids = [f"{prefix}_{v}_p" for v in out["variable"]]
    out["printed p"] = [pub.at[i, "value"] if i in pub.index else "" for i in ids]
    for test in CATEGORICAL_TESTS:
        out[f"{test} reproduces"] = [
            compare_value(pub.at[i, "value"], pub.at[i, "relation"], int(pub.at[i, "decimals"]), p)
            if i in pub.index else "not printed" for i, p in zip(ids, out[test])]
    return out


# --- the scorecard ----------------------------------------------------------------

def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows (dictionaries of strings, kept verbatim) of a CSV file."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def read_paper_vs_run(tables_dir: Path) -> dict[str, list[dict[str, str]]]:
    """Read every ``paper_vs_run_<notebook>.csv`` of *tables_dir*.

    Returns ``{notebook stem: rows}`` in numeric notebook order.  Raises
    :class:`ComparisonError` if a file lacks the ``id`` or ``status`` column.
    """
    reports = {}
    for path in sorted(tables_dir.glob(f"{PAPER_VS_RUN_PREFIX}*.csv")):
        header, rows = _read_csv(path)
        missing = [column for column in ("id", "status") if column not in header]
        if missing:
            raise ComparisonError(f"{path.name} lacks column(s) {', '.join(missing)}")
        reports[path.stem[len(PAPER_VS_RUN_PREFIX):]] = rows
    return reports


def _index_reports(reports: Mapping[str, list[dict[str, str]]]) -> dict[str, dict[str, dict[str, str]]]:
    """``{id: {notebook: row}}``, keeping the first row of an id within a notebook."""
    index: dict[str, dict[str, dict[str, str]]] = {}
    for notebook, rows in reports.items():
        for row in rows:
            index.setdefault(row["id"], {}).setdefault(notebook, row)
    return index


def _scorecard_row(published: Mapping[str, str], reported: Mapping[str, dict[str, str]]) -> dict[str, str]:
    """The scorecard row of one published number, given who reported it."""
    expected = published.get("notebook") or ""
    if not reported:
        where = f" (expected from {expected})" if expected else ""
        return {
            "id": published["id"],
            "source": published.get("source") or "",
            "published": published.get("value") or "",
            "reproduced": "",
            "status": "not computed",
            "note": f"no notebook reported this number{where}",
        }
    row = reported.get(expected) or next(iter(reported.values()))
    result = {column: row.get(column) or "" for column in SCORECARD_COLUMNS}
    result["id"] = published["id"]
    result["source"] = result["source"] or published.get("source") or ""
    result["published"] = result["published"] or published.get("value") or ""
    return result


def build_scorecard(
    published_rows: Sequence[Mapping[str, str]] | None,
    reports: Mapping[str, list[dict[str, str]]],
) -> tuple[list[dict[str, str]], list[str]]:
    """Merge the notebooks' reports into one row per published number.

    Rows follow *published_rows* order; an id is taken from the notebook named
    in its ``notebook`` column when that notebook reported it, else from the
    first notebook (numeric order) that did; an id nobody reported gets status
    ``not computed``.  Without *published_rows*, every reported row is kept.
    Returns ``(rows, reported ids missing from the published list)``.
    """
    index = _index_reports(reports)
    if published_rows is None:
        rows = [_scorecard_row({"id": id_}, by_notebook) for id_, by_notebook in index.items()]
        return rows, []
    rows = [_scorecard_row(published, index.get(published["id"], {})) for published in published_rows]
    known = {published["id"] for published in published_rows}
    return rows, [id_ for id_ in index if id_ not in known]


def summarize_scorecard(rows: Sequence[Mapping[str, str]]) -> str:
    """``scorecard: 230 match, 10 differs, 13 not reproducible, 0 not computed``."""
    counts = Counter(row["status"] for row in rows)
    parts = [f"{counts.pop(status, 0)} {status}" for status in SCORECARD_STATUSES]
    parts += [f"{count} {status!r} (unknown status)" for status, count in sorted(counts.items())]
    return "scorecard: " + ", ".join(parts)


def write_scorecard(path: Path, rows: Sequence[Mapping[str, str]]) -> None:
    """Write the scorecard rows as CSV with :data:`SCORECARD_COLUMNS`."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SCORECARD_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def published_results_path(data_dir: Path, override: Path | None = None) -> Path | None:
    """*override* if given, else the data folder's own published numbers (:func:`src.privacy.published_results`;
    None when there are none to compare with)."""
    if override is not None:
        return Path(override)
    return privacy.published_results(data_dir)


def make_scorecard(build: Path, published_path: Path | None, log: Log = print) -> str | None:
    """Write ``build/scorecard.csv`` if any notebook wrote a paper_vs_run file.

    Returns the summary line (also logged), or None when there was nothing
    to score.
    """
    reports = read_paper_vs_run(build / "tables")
    if not reports:
        return None
    published = _read_csv(published_path)[1] if published_path is not None and published_path.is_file() else None
    rows, unknown = build_scorecard(published, reports)
    write_scorecard(build / "scorecard.csv", rows)
    if unknown and published_path is not None:
        log(f"warning: {len(unknown)} reported id(s) not in {published_path.name}: {', '.join(unknown)}")
    summary = summarize_scorecard(rows)
    log(summary)
    return summary
