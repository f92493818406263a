"""Privacy of the outputs: aggregates only, small counts suppressed, a final search for leaks.

When the notebooks run on a researcher's own data (any folder other than the bundled synthetic
cohort), they run in *private* mode: they show no patient-level row, identifier or date, only
aggregates. Two tools here support that:

* :func:`suppress_small_counts` replaces counts from 1 to ``min_cell - 1`` in a table by
  ``"<min_cell"`` (the ``MIN_CELL`` parameter; ``helpers.write_table`` applies it to every table).
  It is *primary* suppression only: a suppressed cell can sometimes be recovered from a total
  printed elsewhere, so check the tables before sharing them if the cohort is small.
  :func:`suppress_counts_in_lines` does the same for the numbers at risk under Kaplan-Meier
  plots (``plots.plot_km(..., min_cell=...)``) and :func:`count_text` for the counts the
  notebooks quote in their text (``helpers.counter``), draw in the flow diagram
  (``flow.salvage_flow``) and write on bar charts (``helpers.plot_counts``). The shapes of
  figures (the size of each step of a curve, the height of a bar) and statistics computed from
  a small count (a percentage in a figure, a confidence interval) can still give it back.
* :func:`find_leaks` searches every file of an output folder (its text and its name) for every
  identifier and every date of the input tables, in any common spelling and as whole tokens, and
  for names that must not be shared (the data folder's name, absolute paths of the machine); the
  runner calls it at the end of every run (paths) and of every private run (identifiers, dates)
  and refuses to publish the results if anything is found.

Whether a run is private is decided by the *content* of the data (:func:`is_bundled`: the bundled
synthetic cohort is identified by the checksums of its tables in ``data/bundled_cohort.sha256``),
never by the folder it lies in.
"""
from __future__ import annotations

import datetime
import hashlib
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from src.config import (DATA_DIR, MANIFEST_NAME, PUBLISHED_RESULTS_NAME, ROOT,  # noqa: F401 (re-exported)
                        TABLE_NAMES, TABLE_SUFFIXES)

# Integer columns that are labels, not counts of patients
LABEL_COLUMNS = {"year", "years", "sessions", "grade", "key", "time"}
# Columns that hold counts whatever their type (a float column, when a blank cell made it one)
COUNT_COLUMNS = {"n", "count", "events", "deaths", "censored", "at_risk", "at risk", "patients"}
# Text cells that hold counts: "14", "14/5", "12 / 26", "0/2 | 1/0" (a 2x2 table), "50 (74.6)"
_COUNT_CELL = re.compile(r"^\s*\d+(\s*[/|]\s*\d+)*\s*$|^\s*\d+ \(\d+(\.\d+)?\)\s*$")
_NUMBER = re.compile(r"\d+")
PERCENT_COLUMNS = {"percent", "pct", "%"}


BUNDLED_DIR = DATA_DIR
#: Checksums of the bundled synthetic cohort's tables are in ``MANIFEST_NAME`` (``sha256sum`` format, written by
#: ``make data``).
BUNDLED_TABLES = tuple(f"{name}.csv" for name in TABLE_NAMES)


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest_text(folder) -> str:
    """The checksum manifest of the tables :data:`BUNDLED_TABLES` in `folder` (``sha256sum`` format,
    so that ``sha256sum -c bundled_cohort.sha256`` checks it by hand)."""
    return "".join(f"{file_sha256(Path(folder) / name)}  {name}\n" for name in BUNDLED_TABLES)


def write_manifest(folder) -> Path:
    """Write :data:`MANIFEST_NAME` for the tables in `folder` (``make data`` calls it); return its path."""
    target = Path(folder) / MANIFEST_NAME
    target.write_text(manifest_text(folder), encoding="utf-8")
    return target


def _read_manifest(path: Path) -> dict[str, str]:
    pairs = (line.split(None, 1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {name.strip(): digest for digest, name in pairs}


def is_bundled(data_dir, bundled_dir=None) -> bool:
    """True if the tables of `data_dir` are, byte for byte, the bundled synthetic cohort.

    Decided by content, never by location: the folder's patient tables (every ``patients``,
    ``progression`` and ``adverse_events`` file, whatever its format) must be exactly the files listed
    in the manifest :data:`MANIFEST_NAME` of `bundled_dir` (default: the project's ``data/``), with the
    same SHA-256. A researcher's tables copied into ``data/`` are therefore not "bundled", and a copy
    of the bundled files elsewhere is.
    """
    manifest = Path(bundled_dir or BUNDLED_DIR) / MANIFEST_NAME
    folder = Path(data_dir)
    if not manifest.is_file() or not folder.is_dir():
        return False
    expected = _read_manifest(manifest)
    present = {f"{name}{suffix}" for name in TABLE_NAMES for suffix in TABLE_SUFFIXES
               if (folder / f"{name}{suffix}").is_file()}
    if present != set(expected):
        return False
    return all(file_sha256(folder / name) == digest for name, digest in expected.items())


def private_mode(private, data_dir, bundled_dir=None) -> bool:
    """`private` if given (True/False), else on for any data but the bundled cohort (:func:`is_bundled`)."""
    return not is_bundled(data_dir, bundled_dir) if private is None else bool(private)


def published_results(data_dir, bundled_dir=None) -> Path | None:
    """The ``published_results.csv`` that the paper-vs-this-run tables of `data_dir` compare with, or None.

    A folder's own ``published_results.csv`` is used when it has one. The one exception: the project's
    ``data/`` folder holding tables other than the bundled cohort (a researcher who copied their own
    tables there). Its ``published_results.csv`` is the paper's, which says nothing about those
    patients, so there is no comparison.
    """
    folder = Path(data_dir)
    candidate = folder / PUBLISHED_RESULTS_NAME
    if not candidate.is_file():
        return None
    home = Path(bundled_dir or BUNDLED_DIR)
    if folder.resolve() == home.resolve() and not is_bundled(folder, home):
        return None
    return candidate


def published_results_path(data_dir: Path, override: Path | None = None) -> Path | None:
    """*override* if given, else the data folder's own published numbers (:func:`published_results`;
    None when there are none to compare with)."""
    if override is not None:
        return Path(override)
    return published_results(data_dir)


def is_small(value, min_cell: int) -> bool:
    """Is `value` a count that MIN_CELL suppresses (from 1 to `min_cell - 1`)?"""
    return 0 < int(value) < (min_cell or 0)


def count_text(n, min_cell: int, of=None) -> str:
    """A count for running text: "12", or "12 (17.9%)" with a denominator `of`; a count from 1 to
    `min_cell - 1` reads "<min_cell" and loses its percentage, as in the tables."""
    n = int(n)
    if is_small(n, min_cell or 0):
        return f"<{int(min_cell)}"
    return f"{n} ({100 * n / of:.1f}%)" if of else f"{n}"


def _cell_is_small(value, min_cell: int) -> bool:
    """Does a count cell (an integer, or a text like "14/5" or "50 (74.6)") hold a small count?"""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return is_small(int(value), min_cell)
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return is_small(int(value), min_cell)
    if isinstance(value, str) and _COUNT_CELL.match(value):
        numbers = _NUMBER.findall(value.split("(")[0])
        return any(is_small(int(x), min_cell) for x in numbers)
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
        elif str(col).lower() in COUNT_COLUMNS and pd.api.types.is_float_dtype(s):
            cols.append(col)
        elif s.dtype == object and s.map(lambda v: isinstance(v, str) and bool(_COUNT_CELL.match(v))).any():
            cols.append(col)
    return cols


def suppress_small_counts(df: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """A copy of `df` in which every count from 1 to `min_cell - 1` reads "<min_cell".

    Counts are the cells of integer columns (except label columns such as `year`), of columns
    named as counts (`n`, `events`, `deaths`, ...: :data:`COUNT_COLUMNS`, also when a blank cell
    made them float), and text cells such as "14/5", "12 / 26", "0/2 | 1/0" or "50 (74.6)" (the
    whole cell is replaced when any of its counts is small). A percentage column (`percent`) is blanked in the rows where a
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


# --- the search for leaks ----------------------------------------------------
#
# What is searched for (:class:`Sensitive`): every patient identifier, every date of the input
# tables, and names that must not reach a shared output (the data folder's name, absolute paths of
# the machine). How (:func:`find_in_text`): the text of every output file is cut into tokens, and
#   * an identifier matches as a whole token: its neighbours are not letters or digits (so "P1" is
#     not found in "P12", but is found in "P1_x", "/P1/" or "P1.csv"), case-insensitively; an
#     identifier made of digits only also must not sit inside a longer number ("12" is not found in
#     "12.5" or "0.12"; the outputs write decimals with a point, so "3,12" in a CSV row is found);
#   * a date matches in any common spelling, read back to a calendar date: ISO with or without a time
#     ("2012-01-06", "2012/01/06", "2012-01-06T00:00:00"), day-first and month-first with "/", "." or
#     "-" ("06/01/2012" is read both ways), "20120106", and month names ("6 January 2012",
#     "Jan 6, 2012", "06-Jan-2012"); "Jan 2012" / "January 2012" match a patient's date in that month.
# Strings of the notebooks' own text and parameters (a documented era start, a default cut-off) are
# not patient data: the runner passes that text as `allowed`, and whatever is found in it is not
# reported (:func:`find_leaks`). Embedded images (base64) and the pixels of PNG files are not text
# and are skipped; PNG text chunks, the members of .docx/.xlsx files and other files are searched.

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_PATTERNS = [  # (regex, how to read the groups as (year, month, day) candidates)
    (re.compile(r"(?<![0-9])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![0-9])"), lambda g: [(g[0], g[2], g[3])]),
    (re.compile(r"(?<![0-9.,])(\d{4})(\d{2})(\d{2})(?![0-9]|[.,][0-9])"), lambda g: [(g[0], g[1], g[2])]),
    (re.compile(r"(?<![0-9])(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?![0-9])"),
     lambda g: [(g[3], g[2], g[0]), (g[3], g[0], g[2])]),
    (re.compile(r"(?<![0-9a-z])(\d{1,2})(?:st|nd|rd|th)?[ \-]" + _MONTH + r"[ \-,]+(\d{4})(?![0-9])"),
     lambda g: [(g[2], g[1], g[0])]),
    (re.compile(r"(?<![a-z])" + _MONTH + r"[ \-]+(\d{1,2})(?:st|nd|rd|th)?,?[ \-]+(\d{4})(?![0-9])"),
     lambda g: [(g[2], g[0], g[1])]),
    (re.compile(r"(?<![a-z0-9])" + _MONTH + r"[ \-,]+(\d{4})(?![0-9])"), lambda g: [(g[1], g[0], None)]),
]
_ALNUM = re.compile(r"[a-z0-9]+")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{120,}={0,2}")
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e\t\n\r]{4,}")


@dataclass(frozen=True)
class Sensitive:
    """What a shared output must not contain: identifiers, dates (as `datetime.date`) and other
    strings (folder names, absolute paths), each matched as a whole token."""
    ids: frozenset = frozenset()
    dates: frozenset = frozenset()
    names: frozenset = frozenset()


def sensitive_values(tables: dict, names=()) -> Sensitive:
    """Every patient identifier and every date of `tables`, plus the strings `names` (the data folder's
    name, absolute paths), for :func:`find_leaks`. Identifiers of any length are searched for."""
    ids, dates = set(), set()
    for df in tables.values():
        if "patient_id" in df.columns:
            ids.update(i for i in df["patient_id"].dropna().astype(str).str.strip() if i)
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                dates.update(pd.Timestamp(v).date() for v in df[col].dropna().unique())
    return Sensitive(frozenset(ids), frozenset(dates), frozenset(n for n in names if n))


def _date_or_none(year, month, day):
    try:
        m = int(month) if str(month).isdigit() else _MONTHS.index(str(month).lower()[:3]) + 1
        return (int(year), m, None) if day is None else datetime.date(int(year), m, int(day))
    except (ValueError, TypeError):
        return None


def _dates_in(text: str):
    """(spelling, date or (year, month, None)) for every date written in `text` (lower case)."""
    for regex, read in _DATE_PATTERNS:
        for match in regex.finditer(text):
            for ymd in read(match.groups()):
                value = _date_or_none(*ymd)
                if value is not None:
                    yield match.group(0), value


def _whole_token_at(text: str, start: int, needle: str) -> bool:
    end = start + len(needle)
    if text[start:end] != needle:
        return False
    before, after = text[max(start - 2, 0):start], text[end:end + 2]
    if (before[-1:].isalnum() and before[-1:].isascii()) or (after[:1].isalnum() and after[:1].isascii()):
        return False
    if needle.isdigit():  # a number inside another number: "12.5", "0.12" (the outputs write decimals with ".";
        if re.fullmatch(r"[0-9]\.", before) or re.fullmatch(r"\.[0-9]", after):  # "," separates, as in a CSV row)
            return False
    return True


def find_in_text(text: str, sensitive: Sensitive) -> set[str]:
    """The identifiers, dates (ISO) and names of `sensitive` that `text` contains, as whole tokens."""
    low = text.lower()
    found = set()
    needles: dict[str, list[tuple[str, int, str]]] = {}
    for kind, values in (("id", sensitive.ids), ("name", sensitive.names)):
        for value in values:
            needle = str(value).lower()
            first = _ALNUM.search(needle)
            if first:
                needles.setdefault(first.group(0), []).append((needle, first.start(), f"{kind} {value}"))
    if needles:
        for token in _ALNUM.finditer(low):
            for needle, offset, label in needles.get(token.group(0), ()):
                if _whole_token_at(low, token.start() - offset, needle):
                    found.add(label)
    if sensitive.dates:
        months = {(d.year, d.month, None) for d in sensitive.dates}
        for spelling, value in _dates_in(low):
            if value in sensitive.dates or value in months:
                found.add(f"date {value.isoformat() if isinstance(value, datetime.date) else '%d-%02d' % value[:2]}"
                          f" (written {spelling!r})")
    return found


def _labels(found: set[str]) -> set[str]:
    """The found items without how they were written ("date 2012-01-06"), to compare with `allowed`."""
    return {f.split(" (written ")[0] for f in found}


def file_text(path: Path) -> str:
    """The searchable text of an output file: a text file without its embedded base64 images, the
    text chunks of a PNG, the XML of the members of a zip file (.docx, .xlsx), the printable runs of
    any other binary file. The file's own relative name is searched separately (:func:`find_leaks`)."""
    data = Path(path).read_bytes()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_text(data)
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    try:
        return _BASE64_RUN.sub(" ", data.decode("utf-8"))
    except UnicodeDecodeError:
        return "\n".join(run.decode("ascii") for run in _PRINTABLE_RUN.findall(data))


def _png_text(data: bytes) -> str:
    parts, pos = [], 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind in (b"tEXt", b"iTXt"):
            parts.append(body.decode("latin-1"))
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            parts.append(key.decode("latin-1") + " " + zlib.decompress(rest[1:]).decode("latin-1"))
        pos += 12 + length
    return "\n".join(parts)


def find_leaks(folder, sensitive: Sensitive, allowed: str = "") -> list[tuple[str, str]]:
    """(file, what) for every identifier, date or name of `sensitive` found in a file under `folder`
    (in its text or in its relative path), except what is also found in `allowed`: the notebooks' own
    text and the run's parameters, which are not patient data (:func:`find_in_text`)."""
    permitted = _labels(find_in_text(allowed, sensitive)) if allowed else set()
    leaks = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file():
            continue
        found = find_in_text(file_text(path), sensitive) | find_in_text(str(path.relative_to(folder)), sensitive)
        leaks.extend((str(path), item) for item in sorted(found) if item.split(" (written ")[0] not in permitted)
    return leaks
