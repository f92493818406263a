"""Reading a table's file as text: CSV (UTF-8, comma- or ';'-separated), Excel workbook (.xlsx), SPSS (.sav).

:func:`read_table` finds ``NAME.csv``, ``NAME.xlsx`` or ``NAME.sav`` (`config.TABLE_SUFFIXES`, in that order;
exactly one must exist) and returns every cell as stripped text, indexed by spreadsheet row, with the layout
problems of the file (a row longer than the header, a repeated or unnamed column). A file that is not a table (an
image, binary data, another encoding, a workbook that is not one) is one problem saying what it is and what to do.
The numbers and dates of a ';'-separated file are read later, by ``european.py``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from src.config import TABLE_SUFFIXES
from src.validate.problems import DataValidationError, _col_letter, _fatal, _problem, _problem_frame


def read_table(data_dir, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read table ``name`` from ``data_dir`` as text, whatever its format.

    Looks for ``name.csv``, ``name.xlsx`` and ``name.sav``; exactly one must
    exist. Returns ``(text, problems)``: ``text`` has one column per header
    name, every cell a stripped string or None (empty), its index is the
    spreadsheet row number (header = row 1) and ``text.attrs["source"]`` is
    the file name; ``problems`` lists non-fatal layout problems (a row with
    more values than the header, a repeated or unnamed column). ``text``
    has no rows for a file with a header and no data (whether the table may
    be empty is decided by :func:`validate_table`). Raises
    :class:`DataValidationError` when the file is missing, ambiguous, empty
    or cannot be read as a table (not UTF-8, binary, a workbook that is not
    one).
    """
    data_dir = Path(data_dir)
    found = [data_dir / f"{name}{suffix}" for suffix in TABLE_SUFFIXES if (data_dir / f"{name}{suffix}").is_file()]
    default = f"{name}.csv"
    if not found:
        others = " or ".join(f"{name}{s}" for s in TABLE_SUFFIXES[1:])
        raise DataValidationError(
            [_problem(default, message=f"{default} is missing from {data_dir} (also looked for {others})")]
        )
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        raise DataValidationError(
            [_problem(found[0].name, message=f"{names} are both in {data_dir}; keep only one of them")]
        )
    path = found[0]
    reader = {".csv": _read_csv_records, ".xlsx": _read_xlsx_records, ".sav": _read_sav_records}[path.suffix]
    try:
        records = reader(path)  # raises DataValidationError for unreadable files
    except OSError as exc:
        raise _fatal(path.name, f"{path.name} cannot be opened ({type(exc).__name__}: {exc.strerror or exc})") from None
    records, attrs = records if isinstance(records, tuple) else (records, {})
    text, problems = _frame_from_records(records, path.name)
    text.attrs.update(attrs)
    return text, problems


#: Leading bytes of file types that are sometimes saved under a table's name.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"$FL2", "an SPSS .sav file"),
    (b"$FL3", "an SPSS .sav file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PK\x03\x04", "an Excel workbook or another zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or other Office file"),
)
# bytes that do not occur in text: C0 controls except tab, line feed, vertical tab, form feed,
# carriage return and the DOS end-of-file mark (0x1A), which old text files may hold
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 26)) + b"\x7f"


def _file_kind(data: bytes) -> str | None:
    """What a file that is not a text table is ("a PNG image", ...), or None if it may be text."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    head = data[:65536]
    if b"\x00" in head:
        return "binary data (it contains NUL bytes)"
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    if controls and controls >= 0.01 * len(head):
        return "binary data (it contains control bytes that text does not have)"
    return None


def _looks_like_text(data: bytes) -> bool:
    """True if ``data`` reads as text: UTF-8, or mostly ASCII (text in another encoding)."""
    head = data[:65536]
    if _file_kind(head) is not None:
        return False
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return sum(32 <= b < 127 or b in (9, 10, 13) for b in head) >= 0.9 * len(head)
    return True


def _rename_hint(path: Path, kind: str) -> str:
    """Advice for a file of ``kind`` (from _file_kind) saved under ``path``."""
    if kind.startswith("an SPSS") and path.suffix != ".sav":
        return f"; name it {path.stem}.sav"
    if kind.startswith("an Excel workbook") and path.suffix != ".xlsx":
        return f" renamed {path.suffix} (save it as 'CSV UTF-8', or name it {path.stem}.xlsx)"
    if kind.startswith("an old Excel"):
        return "; save it as .xlsx or as 'CSV UTF-8'"
    return "; export the table as 'CSV UTF-8' (or .xlsx, .sav)"


def _read_csv_records(path: Path) -> list[tuple[int, list]]:
    """(spreadsheet row number, cell texts) for every record of a CSV file."""
    file = path.name
    data = path.read_bytes()
    if not data.strip():
        raise _fatal(file, f"{file} is empty (no header, no data)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(data):
        raise _fatal(file, f"{file} is saved as UTF-16 ('Unicode text'); save it as 'CSV UTF-8' instead")
    kind = _file_kind(data)
    if kind is not None:
        raise _fatal(file, f"{file} is not a CSV text table: it is {kind}{_rename_hint(path, kind)}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(file, data, exc) from None
    records: list = []
    # a European spreadsheet's CSV: ';' between values (its decimal mark is the comma); read as such
    # when the header holds ';' and no ','. Its decimals and dates are read by european._european_reading.
    first = next((line for line in text.splitlines() if line.strip()), "")
    separator = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=separator)
    try:
        for record in reader:
            records.append(record)
    except csv.Error as exc:
        # the record that failed starts on the row after the last one read
        row = len(records) + 1
        hint = ""
        if "expected" in str(exc) or "end of data" in str(exc):
            hint = '; a value seems to open a quote (") that is not closed, or holds a quote that is not doubled'
        raise _fatal(file, f"{file} row {row} cannot be read as CSV ({exc}){hint}", row=row) from None
    # csv yields [] for a blank line, so the list position is the spreadsheet row - 1
    numbered = [(i + 1, rec) for i, rec in enumerate(records)]
    return (numbered, {"separator": ";"}) if separator == ";" else numbered


def _utf16_without_bom(data: bytes) -> bool:
    """True if every other byte of the start is NUL, as in UTF-16 text of Latin letters."""
    head = data[:4096]
    if len(head) < 4:
        return False
    return any(half.count(0) >= 0.9 * len(half) and 0 not in other
               for half, other in ((head[0::2], head[1::2]), (head[1::2], head[0::2])))


def _not_utf8(file: str, data: bytes, exc: UnicodeDecodeError) -> DataValidationError:
    """The problem for a CSV file that is not UTF-8: the first cell it cannot read, by row and column."""
    advice = ("the file was probably saved in another encoding (e.g. Windows-1252 or Shift-JIS); "
              "save it as 'CSV UTF-8'")
    byte = f"byte 0x{exc.object[exc.start]:02X}"  # exc.object: the bytes after a byte-order mark
    text = data.decode("utf-8-sig", errors="surrogateescape")  # unreadable bytes -> U+DC80..U+DCFF
    bad = re.compile("[\udc80-\udcff]")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        records = None
    cells = [] if records is None else [
        (i + 1, pos, cell) for i, rec in enumerate(records) for pos, cell in enumerate(rec) if bad.search(cell)]
    if not cells:  # the CSV layout itself is broken: name the line
        line = exc.object[: exc.start].count(b"\n") + 1
        return _fatal(file, f"{file} is not UTF-8 text: {byte} on line {line} cannot be read; {advice}")
    row, pos, cell = cells[0]
    shown = bad.sub("\ufffd", cell.strip())
    header = records[0]
    name = header[pos].strip() if row > 1 and pos < len(header) and not bad.search(header[pos]) else ""
    where = f"{file} row {row}, {name}" if name else (
        f"{file} row 1 (the header), column {_col_letter(pos)}" if row == 1 else
        f"{file} row {row}, column {_col_letter(pos)}")
    more = f" ({len(cells)} cells cannot be read, this is the first)" if len(cells) > 1 else ""
    return _fatal(
        file,
        f"{where} '{shown}' is not UTF-8 text: {byte} cannot be read{more}, so the file cannot be checked; "
        f"{advice}",
        row=row, column=name or None, value=shown,
    )


def _check_signature(path: Path, data: bytes, expected: tuple, format_name: str) -> None:
    """Raise a clear problem when a .xlsx/.sav file does not start as one."""
    file = path.name
    if data.startswith(expected):
        return
    if not data.strip():
        raise _fatal(file, f"{file} is empty (no header, no data)")
    kind = _file_kind(data)
    if kind is not None:
        raise _fatal(file, f"{file} is not {format_name}: it is {kind}{_rename_hint(path, kind)}")
    if _looks_like_text(data):
        raise _fatal(file, f"{file} is not {format_name}: it is plain text (a CSV file renamed "
                           f"{path.suffix}? then name it {path.stem}.csv)")
    raise _fatal(file, f"{file} is not {format_name}: it does not start as one (the file may be damaged, "
                       f"or be another kind of file renamed {path.suffix})")


def _read_xlsx_records(path: Path) -> list[tuple[int, list]]:
    """(row number, cell texts) for every row of the table's worksheet: the sheet named after the
    table (the file name without .xlsx, in any case), else the only sheet that is not empty."""
    file = path.name
    _check_signature(path, path.read_bytes(), (b"PK\x03\x04",), "an Excel workbook (.xlsx)")
    try:
        import openpyxl

        with warnings.catch_warnings():  # e.g. "Workbook contains no default style": not the user's concern
            warnings.simplefilter("ignore", UserWarning)
            book = openpyxl.load_workbook(path, read_only=False, data_only=True)
        sheets = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise _fatal(file, f"{file} cannot be opened as an Excel workbook; it may be damaged "
                           f"({type(exc).__name__}: {exc})") from None
    named = [title for title in sheets if title.strip().casefold() == path.stem.casefold()]
    filled = [title for title, rows in sheets.items()
              if any(v is not None and str(v).strip() for row in rows for v in row)]
    if named:
        title = named[0]
    elif len(filled) == 1 or not filled:
        title = filled[0] if filled else next(iter(sheets))
    else:
        listed = ", ".join(f"'{t}'" for t in sheets)
        empty = [t for t in sheets if t not in filled]
        raise _fatal(file, f"{file} has {len(sheets)} worksheets ({listed}), {len(filled)} of them with data "
                           + (f"({', '.join(repr(t) for t in filled)}) " if empty else "")
                           + f"and none is named '{path.stem}'; name the worksheet that holds the table "
                           f"'{path.stem}', or delete the others")
    return [(i + 1, [_cell_text(v) for v in row]) for i, row in enumerate(sheets[title])]


def _read_sav_records(path: Path):
    """(row number, cell texts) for an SPSS file: the variable names are row 1. The cells hold the
    values as stored (codes); the value labels come with them as ``{"value_labels": {variable:
    {code text: label}}}``, used by :func:`validate_table` when they name allowed values."""
    file = path.name
    _check_signature(path, path.read_bytes(), (b"$FL2", b"$FL3"), "an SPSS .sav file")
    try:
        import pyreadstat

        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises its own error types
        raise _fatal(file, f"{file} cannot be read as an SPSS .sav file; it may be damaged "
                           f"({type(exc).__name__}: {exc})") from None
    records = [(1, [str(c) for c in frame.columns])]
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        records.append((i + 2, [_cell_text(v) for v in row]))
    labels = {}
    for variable, mapping in (getattr(meta, "variable_value_labels", None) or {}).items():
        texts = {_cell_text(code): _cell_text(label) for code, label in mapping.items()}
        labels[str(variable).strip()] = {str(k).strip(): str(v).strip() for k, v in texts.items()
                                         if k is not None and v is not None and str(v).strip()}
    return records, {"value_labels": labels}


def _cell_text(value):
    """A spreadsheet/SPSS cell as the text a CSV would hold (None when empty)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _frame_from_records(records, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn (row number, cells) records into the text DataFrame of read_table
    (no rows when there is only a header)."""

    def clean(cell):
        if cell is None:
            return None
        cell = str(cell).strip()
        return cell if cell else None

    records = [(row, [clean(c) for c in cells]) for row, cells in records]
    records = [(row, cells) for row, cells in records if any(c is not None for c in cells)]
    if not records:
        raise _fatal(file, f"{file} is empty (no header, no data)")
    (_, header), body = records[0], records[1:]
    if len(header) == 1 and header[0] and (";" in header[0] or "\t" in header[0]):
        sep = "';'" if ";" in header[0] else "tabs"
        raise _fatal(file, f"{file} separates values with {sep}; save it with commas (CSV UTF-8)")
    problems = []
    width = len(header)
    keep = []  # positions of the columns kept
    seen: dict[str, int] = {}
    for pos, name in enumerate(header):
        if name is None:
            if any(pos < len(cells) and cells[pos] is not None for _, cells in body):  # has data
                problems.append(_problem(file, None, None, None,
                                         f"{file}: column {_col_letter(pos)} has values but no name in the header"))
            continue
        if name in seen:
            problems.append(_problem(file, None, name, None,
                                     f"{file}: column '{name}' appears more than once in the header "
                                     f"(columns {_col_letter(seen[name])} and {_col_letter(pos)}); "
                                     f"only column {_col_letter(seen[name])} is used"))
            continue
        seen[name] = pos
        keep.append(pos)
    rows, data = [], []
    short = {}  # row -> number of values, for rows that end before the last column of the header
    for row, cells in body:
        if len(cells) < width and any(pos >= len(cells) for pos in keep):
            short[row] = len(cells)
        extra = [c for c in cells[width:] if c is not None]
        if extra:
            n_values = width + len(cells[width:])
            problems.append(_problem(file, row, None, None,
                                     f"{file} row {row} has more values ({n_values}) than the header has "
                                     f"columns ({width}); is there a comma inside a value?"))
        cells = cells[:width] + [None] * (width - len(cells))
        rows.append(row)
        data.append([cells[pos] for pos in keep])
    frame = pd.DataFrame(data, index=pd.Index(rows, name="row", dtype="int64"), columns=[header[p] for p in keep],
                         dtype=object)
    frame.attrs["source"] = file
    frame.attrs["short_rows"] = short
    frame.attrs["positions"] = {header[p]: p for p in keep}
    frame.attrs["width"] = width
    return frame, _problem_frame(problems)
