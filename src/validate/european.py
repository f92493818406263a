"""A European spreadsheet's CSV: values separated by ';', decimal commas and day-first dates.

:func:`_european_reading` reads the numbers and dates of such a file as the dictionary's (``3,8`` as 3.8,
``19.04.2005`` as 2005-04-19) where the file tells unambiguously how they are written, and reports the columns
where it does not (``1,234``: a decimal or a thousand?; ``03/04/2005``: day or month first?).
"""
from __future__ import annotations

import re

import pandas as pd

from src.validate.cells import _EUROPEAN_RE
from src.validate.dictionary import _NUMBER_RE
from src.validate.problems import _problem


_COMMA_DECIMAL_RE = re.compile(r"^[+-]?(\d+),(\d+)$", re.ASCII)  # 3,8  1,234
_POINT_DECIMAL_RE = re.compile(r"^[+-]?(\d+)\.(\d+)$", re.ASCII)  # 3.8  1.234
_POINT_GROUPS_RE = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3}){2,}$", re.ASCII)  # 15.488.402
_COMMA_GROUPS_RE = re.compile(r"^[+-]?[1-9]\d{0,2}((,\d{3}){2,}|(,\d{3})+\.\d+)$", re.ASCII)  # 1,234,567  1,234.5
_DAY_FIRST_RE = re.compile(r"^(\d{1,2})([./])(\d{1,2})\2(\d{4})$", re.ASCII)  # 19.04.2005  19/04/2005


def _decimal_evidence(value: str) -> str | None:
    """What a number written in a ';'-separated file says of its decimal mark: "comma" (3,8; 1.234,5;
    15.488.402), "point" (3.8; 1,234.5), "ambiguous" (1,234 or 1.234: a decimal mark followed by three
    digits after one to three digits that do not start with 0, which a thousands separator could be
    too), or None (no mark: 12, 1e5, or not a number)."""
    match = _COMMA_DECIMAL_RE.match(value) or _POINT_DECIMAL_RE.match(value)
    if match:
        whole, decimals = match.groups()
        mark = "comma" if "," in value else "point"
        if len(decimals) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0"):
            return "ambiguous"
        return mark
    if _EUROPEAN_RE.match(value) or _POINT_GROUPS_RE.match(value):
        return "comma"
    if _COMMA_GROUPS_RE.match(value):
        return "point"
    return None


def _european_reading(text: pd.DataFrame, infos: dict, file: str):
    """Read the numbers and dates of a ';'-separated CSV file (a European spreadsheet's export) as the
    dictionary's: a decimal comma (``3,8``, ``1.234,5``) as a decimal point, a day-first date
    (``19.04.2005``, ``19/04/2005``) as ISO, where that reading is unambiguous.

    The decimal mark is the file's: the comma when some number can only be read with a decimal comma
    (``3,8``, ``0,125``, ``1.234,5``) and none only with a decimal point; then a point is a thousands
    separator (``1.234`` is 1234). Numbers that fit both readings (``1,234``: 1.234 or 1234) in a file
    that does not tell, and a file that has both marks, are problems naming the column and the values.
    Dates written with dots are day-first; with slashes, day-first when some date of the file has a
    first number above 12 and none a second number above 12 (month-first is not read: a problem), and a
    problem naming the column and values when no date tells. Returns ``(text, problems, notes, bad)``:
    ``bad`` maps a column to the rows of its values set to missing because they are ambiguous.
    """
    text = text.copy()
    numeric = [c for c in text.columns if c in infos and infos[c]["type"] in ("integer", "number")]
    dates = [c for c in text.columns if c in infos and infos[c]["type"] == "date"]
    problems, notes, bad = _read_decimals(text, numeric, file)
    date_problems, date_notes, date_bad = _read_day_first_dates(text, dates, file)
    for column, rows in date_bad.items():
        bad.setdefault(column, []).extend(rows)
    note = f"{file}: read as a European spreadsheet's CSV: values separated by ';'" + "".join(
        f"; {n}" for n in notes + date_notes)
    return text, problems + date_problems, [note], bad


def _listed(cells) -> str:
    """The first five (row, value) cells of a problem, and how many more."""
    shown = ", ".join(f"'{value}' (row {row})" for row, value in cells[:5])
    return shown + (f" and {len(cells) - 5} more" if len(cells) > 5 else "")


def _read_decimals(text: pd.DataFrame, numeric: list, file: str):
    """The file's decimal mark, and its numbers read with it (``text`` is changed in place).

    Returns ``(problems, notes, bad)`` as :func:`_european_reading` (``bad``: the rows of ambiguous numbers)."""
    problems, notes, bad = [], [], {}
    evidence: dict[str, dict[str, list]] = {"comma": {}, "point": {}, "ambiguous": {}}
    for column in numeric:
        for row, value in text[column].items():
            kind = None if value is None else _decimal_evidence(value)
            if kind is not None:
                evidence[kind].setdefault(column, []).append((row, value))
    first_of = {kind: next(((c, cells[0]) for c, cells in found.items()), None) for kind, found in evidence.items()}
    if evidence["comma"] and evidence["point"]:
        (c1, (r1, v1)), (c2, (r2, v2)) = first_of["comma"], first_of["point"]
        problems.append(_problem(file, None, c1, v1, f"{file} separates values with ';' and has decimal commas "
                                 f"({c1} '{v1}', row {r1}) and decimal points ({c2} '{v2}', row {r2}): write every "
                                 f"decimal with the same mark"))
    elif evidence["comma"]:
        notes.append(_read_decimal_commas(text, numeric))
    elif evidence["ambiguous"]:
        for column, cells in evidence["ambiguous"].items():
            problems.append(_ambiguous_mark(file, column, cells))
            for row, _ in cells:
                text.at[row, column] = None
            bad.setdefault(column, []).extend(row for row, _ in cells)
    return problems, notes, bad


def _read_decimal_commas(text: pd.DataFrame, numeric: list) -> str:
    """Read every number of a file whose decimal mark is the comma (``text`` changed in place); the note."""
    examples = []
    for column in numeric:
        values = text[column]
        for row, value in values.items():
            if value is None or _decimal_evidence(value) is None:
                continue
            plain = value.replace(".", "").replace(",", ".")
            if _NUMBER_RE.match(plain):
                values.at[row] = plain
                if len(examples) < 2 and "," in value and all(c != column for c, _, _ in examples):
                    examples.append((column, value, plain))
        text[column] = values
    shown = ", ".join(f"{c} '{v}' read as {p}" for c, v, p in examples)
    return f"decimal comma, a point separating thousands{' (' + shown + ')' if shown else ''}"


def _ambiguous_mark(file: str, column: str, cells: list) -> dict:
    """The problem of a column whose numbers (``cells``) may have a decimal mark or a thousands separator."""
    row, value = cells[0]
    return _problem(file, None, column, value, (
        f"{file}: {column} {_listed(cells)}: the mark could be a decimal mark or a thousands separator "
        f"(e.g. '{value}' is {value.replace(',', '.') if ',' in value else value} or "
        f"{value.replace(',', '').replace('.', '')}), and no other number of the file tells which; write "
        f"such numbers without a thousands separator (e.g. {value.replace(',', '').replace('.', '')}) or "
        f"with a decimal comma in a file that shows it (e.g. another value such as 3,8)"))


def _read_day_first_dates(text: pd.DataFrame, dates: list, file: str):
    """Day-first dates read as ISO where unambiguous (``text`` is changed in place).

    Returns ``(problems, notes, bad)`` as :func:`_european_reading` (``bad``: the rows of dates not read)."""
    notes, bad = [], {}
    found = {c: [(row, value, _DAY_FIRST_RE.match(value)) for row, value in text[c].items()
                 if value is not None and _DAY_FIRST_RE.match(value)] for c in dates}
    found = {c: cells for c, cells in found.items() if cells}
    slashed = [(c, row, value, m) for c, cells in found.items() for row, value, m in cells if m.group(2) == "/"]
    refused, problems = _refused_slashed_dates(slashed, file)
    example = None
    for column, cells in found.items():
        values = text[column]
        for row, value, m in cells:
            if m.group(2) == "/" and column in refused:  # the problem names the column: not read
                values.at[row] = None
                bad.setdefault(column, []).append(row)
                continue
            iso = f"{m.group(4)}-{int(m.group(3)):02d}-{int(m.group(1)):02d}"
            values.at[row] = iso
            example = example or (column, value, iso)
        text[column] = values
    if example:
        notes.append(f"dates day-first ({example[0]} '{example[1]}' read as {example[2]})")
    return problems, notes, bad


def _refused_slashed_dates(slashed: list, file: str) -> tuple[set, list]:
    """``(columns, problems)``: the columns whose dates written with slashes are not read (month-first, or no
    date tells which), and a problem for each."""
    problems = []
    day_first = [(c, row, value) for c, row, value, m in slashed if int(m.group(1)) > 12]
    month_first = [(c, row, value) for c, row, value, m in slashed if int(m.group(3)) > 12]
    refused: set = set()
    if month_first:
        for column in dict.fromkeys(c for c, _, _ in month_first):
            cells = [(row, value) for c, row, value in month_first if c == column]
            problems.append(_problem(file, None, column, cells[0][1], (
                f"{file}: {column} {_listed(cells)} are month-first dates"
                + (" while others of the file are day-first" if day_first else "")
                + ": write dates as YYYY-MM-DD (or DD.MM.YYYY)")))
        refused = {c for c, _, _, _ in slashed}
    elif slashed and not day_first:
        for column in dict.fromkeys(c for c, _, _, _ in slashed):
            cells = [(row, value) for c, row, value, m in slashed if c == column and m.group(1) != m.group(3)]
            if not cells:
                continue
            problems.append(_problem(file, None, column, cells[0][1], (
                f"{file}: {column} {_listed(cells)} could be day-first or month-first dates (no date of the file "
                f"has a day above 12 to tell which): write dates as YYYY-MM-DD (or DD.MM.YYYY)")))
            refused.add(column)
    return refused, problems
