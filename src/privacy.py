"""Privacy of the outputs: aggregates only, small counts suppressed, a final search for leaks.

When the notebooks run on a researcher's own data (any folder other than the bundled synthetic
cohort), they run in *private* mode: they show no patient-level row, identifier or date, only
aggregates. Two tools here support that:

* :func:`suppress_small_counts` replaces counts from 1 to ``min_cell - 1`` in a table by
  ``"<min_cell"`` (the ``MIN_CELL`` parameter; ``helpers.write_table`` applies it to every table).
  It is *primary* suppression only: a suppressed cell can sometimes be recovered from a total
  printed elsewhere, so check the tables before sharing them if the cohort is small.
  :func:`suppress_counts_in_lines` does the same for the numbers at risk under Kaplan-Meier
  plots (``survival.plot_km(..., min_cell=...)``) and :func:`count_text` for the counts the
  notebooks quote in their text (``helpers.counter``), draw in the flow diagram
  (``flow.salvage_flow``) and write on bar charts (``helpers.plot_counts``). The shapes of
  figures (the size of each step of a curve, the height of a bar) and statistics computed from
  a small count (a percentage in a figure, a confidence interval) can still give it back.
* :func:`find_leaks` searches every file of an output folder for every identifier and every date
  of the input tables; the runner calls it at the end of a private run and refuses to publish
  the results if anything is found.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

# Integer columns that are labels, not counts of patients
LABEL_COLUMNS = {"year", "years", "sessions", "grade", "key", "time"}
# Text cells that hold counts: "14", "14/5", "12 / 26", "50 (74.6)"
_COUNT_CELL = re.compile(r"^\s*\d+(\s*/\s*\d+)*\s*$|^\s*\d+ \(\d+(\.\d+)?\)\s*$")
_NUMBER = re.compile(r"\d+")
PERCENT_COLUMNS = {"percent", "pct", "%"}


def is_bundled(data_dir, bundled_dir) -> bool:
    """True if `data_dir` is the bundled synthetic cohort (`bundled_dir`)."""
    return Path(data_dir).resolve() == Path(bundled_dir).resolve()


def private_mode(private, data_dir, bundled_dir) -> bool:
    """`private` if given (True/False), else on for any data folder but the bundled one."""
    return not is_bundled(data_dir, bundled_dir) if private is None else bool(private)


def _small(value: int, min_cell: int) -> bool:
    return 0 < value < min_cell


def count_text(n, min_cell: int, of=None) -> str:
    """A count for running text: "12", or "12 (17.9%)" with a denominator `of`; a count from 1 to
    `min_cell - 1` reads "<min_cell" and loses its percentage, as in the tables."""
    n = int(n)
    if _small(n, min_cell or 0):
        return f"<{int(min_cell)}"
    return f"{n} ({100 * n / of:.1f}%)" if of else f"{n}"


def _cell_is_small(value, min_cell: int) -> bool:
    """Does a count cell (an integer, or a text like "14/5" or "50 (74.6)") hold a small count?"""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return _small(int(value), min_cell)
    if isinstance(value, str) and _COUNT_CELL.match(value):
        numbers = _NUMBER.findall(value.split("(")[0])
        return any(_small(int(x), min_cell) for x in numbers)
    return False


def _count_columns(df: pd.DataFrame) -> list:
    """Columns holding counts: integer columns that are not labels, and text columns with count cells."""
    cols = []
    for col in df.columns:
        if str(col).lower() in LABEL_COLUMNS:
            continue
        s = df[col]
        if pd.api.types.is_integer_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols.append(col)
        elif s.dtype == object and s.map(lambda v: isinstance(v, str) and bool(_COUNT_CELL.match(v))).any():
            cols.append(col)
    return cols


def suppress_small_counts(df: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """A copy of `df` in which every count from 1 to `min_cell - 1` reads "<min_cell".

    Counts are the cells of integer columns (except label columns such as `year`), and text
    cells such as "14/5", "12 / 26" or "50 (74.6)" (the whole cell is replaced when any of
    its counts is small). A percentage column (`percent`) is blanked in the rows where a
    count was suppressed, since it would give the count back. `min_cell` <= 1 changes nothing.
    """
    if not min_cell or min_cell <= 1 or df.empty:
        return df
    out = df.copy()
    mark = f"<{int(min_cell)}"
    hit_rows = pd.Series(False, index=out.index)
    for col in _count_columns(out):
        small = out[col].map(lambda v: _cell_is_small(v, min_cell)).astype(bool)
        if small.any():
            out[col] = out[col].astype(object).where(~small, mark)
            hit_rows |= small
    for col in out.columns:
        if str(col).lower() in PERCENT_COLUMNS and hit_rows.any():
            out[col] = out[col].astype(object).where(~hit_rows, "")
    return out


def suppress_counts_in_lines(text: str, min_cell: int) -> str:
    """`text` with the last word of each line read as "<min_cell" when it is a count from 1 to
    `min_cell - 1` (the numbers-at-risk labels under a Kaplan-Meier plot: "12", "Sorafenib   3")."""
    def line(s: str) -> str:
        words = s.rsplit(None, 1)
        if words and words[-1].isdigit():
            return s[:len(s) - len(words[-1])] + count_text(words[-1], min_cell)
        return s
    return "\n".join(line(s) for s in text.split("\n"))


def date_strings(value) -> list[str]:
    """The ways a date could be printed by the notebooks: ISO, and day month year in words."""
    ts = pd.Timestamp(value)
    return [ts.strftime("%Y-%m-%d"), ts.strftime("%d %B %Y"), ts.strftime("%B %d, %Y"), ts.strftime("%Y/%m/%d")]


def sensitive_strings(tables: dict) -> set[str]:
    """Every patient identifier and every date (in the forms of :func:`date_strings`) of the tables.

    Identifiers that are short numbers ("12") would be found in any table of counts, so only
    identifiers with a letter or of at least six characters are searched for.
    """
    found: set[str] = set()
    for df in tables.values():
        if "patient_id" in df.columns:
            ids = df["patient_id"].dropna().astype(str).str.strip()
            found.update(i for i in ids if len(i) >= 6 or re.search(r"[A-Za-z]", i))
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                for value in df[col].dropna().unique():
                    found.update(date_strings(value))
    return found


# Tokens an identifier or a date can appear as: words with digits and hyphens, and dates in words
_TOKENS = [re.compile(rb"[A-Za-z0-9_\-]+"), re.compile(rb"\d{4}/\d{2}/\d{2}"),
           re.compile(rb"\d{2} [A-Z][a-z]+ \d{4}"), re.compile(rb"[A-Z][a-z]+ \d{2}, \d{4}")]


def find_leaks(folder, strings: set[str]) -> list[tuple[str, str]]:
    """(file, string) for every file under `folder` that contains one of `strings` as a whole token.

    Every file is read as bytes and cut into tokens (runs of letters, digits, "_" and "-", and
    dates written in words), so an identifier "P1" is not found inside "P12"; notebooks, HTML,
    CSV, Markdown and the text chunks of images are all covered.
    """
    wanted = {s.encode("utf-8") for s in strings}
    leaks = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            tokens = set().union(*(set(t.findall(data)) for t in _TOKENS))
            leaks.extend((str(path), s.decode()) for s in sorted(wanted & tokens))
    return leaks
