"""Synonyms: values written otherwise that are read as the dictionary's values.

``synonyms.csv`` beside the data dictionary declares them (``1``/``0`` for ``yes``/``no``, ``male`` for ``M``,
CTCAE v4.0/v5.0 terms for v3.0 ones); :func:`read_synonyms` reads and checks the declarations against the
dictionary, and :func:`_recode` reads a text column with them (another case of an allowed category, a declared
synonym, or an SPSS value label), noting how each value was read.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from src.config import SYNONYMS_NAME
from src.validate.dictionary import (_NUMBER_RE, _cached_read, _describe_range, _file_bytes, _frame_key,
                                     _parse_allowed, _parse_value)
from src.validate.problems import DataValidationError, _fatal, _problem

#: Columns of a synonyms file (`config.SYNONYMS_NAME`, looked for beside the data dictionary in use).


_SYNONYM_COLUMNS = ["table", "column", "value", "means"]


def default_synonyms(dictionary_path) -> Path:
    """The synonyms file of a dictionary: ``synonyms.csv`` in the same folder."""
    return Path(dictionary_path).with_name(SYNONYMS_NAME)


def read_synonyms(path, dictionary: pd.DataFrame) -> dict[tuple[str, str], dict[str, str]] | None:
    """Read a synonyms CSV (``table,column,value,means[,note]``) and check it against the dictionary.

    One row declares that the ``value`` (one text, or several separated by
    ``|``) written in ``column`` of ``table`` is read as the dictionary value
    ``means``. ``table`` may be ``*`` (every table that has the column) and
    ``column`` several names separated by ``|``. Values are matched ignoring
    case and surrounding spaces. Only ``category`` columns (``means`` one of
    their allowed values) and ``integer``/``number`` columns (``means`` a
    number in their allowed range) take synonyms.

    Returns ``{(table, column): {value casefolded: means}}``; None when
    ``path`` is None or does not exist (then values are read exactly as
    written: no other case, no synonym). Raises
    :class:`DataValidationError` naming the row of a declaration that does
    not fit the dictionary (unknown table or column, ``means`` not allowed,
    one value declared with two meanings, a synonym that is itself another
    allowed value).
    """
    if path is None or not Path(path).is_file():
        return None
    path = Path(path)
    data = _file_bytes(path)
    dictionary_key = _frame_key(dictionary)
    if data is None or dictionary_key is None:
        return _read_synonyms(path, dictionary)
    key = ("synonyms", str(path), data, dictionary_key)
    return _cached_read(key,
                        lambda: _read_synonyms(path, dictionary),
                        lambda result: {target: dict(mapping) for target, mapping in result.items()})


def _read_synonyms(path: Path, dictionary: pd.DataFrame) -> dict[tuple[str, str], dict[str, str]]:
    """read_synonyms of a file that exists, without remembering it."""
    name = path.name
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _fatal(name, f"synonyms file {path} cannot be read as a UTF-8 CSV table ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in _SYNONYM_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError([_problem(name, column=c, message=f"{name}: column '{c}' is missing") for c in missing])
    frame = frame.apply(lambda col: col.str.strip())
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    specs = dictionary.set_index(["table", "column"], drop=False)
    tables = list(pd.unique(dictionary["table"]))
    result: dict[tuple[str, str], dict[str, str]] = {}
    problems = []
    for row, decl in frame.iterrows():
        where = f"{name} row {row}"

        def bad(column, text, decl=decl, row=row, where=where):
            problems.append(_problem(name, row, column, decl[column], f"{where}, {text}"))

        if decl["table"] != "*" and decl["table"] not in tables:
            bad("table", f"table '{decl['table']}' is not in the data dictionary (it has: {', '.join(tables)}, or *)")
            continue
        values = [v for v in (part.strip() for part in decl["value"].split("|")) if v]
        if not values:
            bad("value", "value is empty")
            continue
        for column in (part.strip() for part in decl["column"].split("|")):
            targets = [(t, column) for t in (tables if decl["table"] == "*" else [decl["table"]])
                       if (t, column) in specs.index]
            if not targets:
                bad("column", f"column '{column}' is not in the data dictionary"
                              + ("" if decl["table"] == "*" else f" for table '{decl['table']}'"))
                continue
            for target in targets:
                spec = specs.loc[target]
                means = decl["means"]
                wrong = _wrong_meaning(spec, means, target)
                if wrong is not None:
                    bad(*wrong)
                    continue
                allowed = _parse_allowed(spec) if spec["type"] == "category" else None
                folded_allowed = {a.casefold(): a for a in (allowed or [])}
                mapping = result.setdefault(target, {})
                for value in values:
                    key = value.casefold()
                    if key in folded_allowed and folded_allowed[key] != means:
                        bad("value", f"'{value}' is itself the allowed value '{folded_allowed[key]}' of "
                                     f"{target[0]}.{target[1]}; it cannot also mean '{means}'")
                    elif mapping.get(key, means) != means:
                        bad("value", f"'{value}' of {target[0]}.{target[1]} is declared twice, as '{mapping[key]}' "
                                     f"and as '{means}'")
                    else:
                        mapping[key] = means
    if problems:
        raise DataValidationError(problems)
    return result


def _wrong_meaning(spec, means: str, target: tuple[str, str]) -> tuple[str, str] | None:
    """Why ``means`` cannot be what a synonym of the column ``target`` (its dictionary row ``spec``) is read as:
    ``(field of the declaration, text)``, or None when it can (an allowed value of a category, a number in the
    allowed range of an integer or number column)."""
    allowed = _parse_allowed(spec)
    if spec["type"] == "category":
        if allowed is not None and means not in allowed:
            return "means", f"'{means}' is not an allowed value of {target[0]}.{target[1]} ({', '.join(allowed)})"
        return None
    if spec["type"] in ("integer", "number"):
        try:
            number = _parse_value(means, spec["type"], "means")
            if spec["type"] == "integer" and not float(number).is_integer():
                raise ValueError
        except ValueError:
            return "means", (f"'{means}' is not {'an integer' if spec['type'] == 'integer' else 'a number'} "
                             f"for {target[0]}.{target[1]}")
        lo, hi = allowed if isinstance(allowed, tuple) else (None, None)
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            return "means", (f"'{means}' is outside the allowed range of {target[0]}.{target[1]} "
                             f"({_describe_range(allowed, spec)})")
        return None
    return "column", (f"{target[0]}.{target[1]} is a {spec['type']} column; only category, integer "
                      f"and number columns take synonyms")


def _recode(text: pd.Series, spec, synonyms: dict[str, str] | None, labels: dict | None = None):
    """Read a text column as the dictionary's values: another case of an allowed category, a declared
    synonym (both only when ``synonyms`` is not None: the dictionary has a synonyms file), or (SPSS) the
    value label of a code when every label of the column is so read.

    Returns (recoded series, notes): notes are (written, read as, how, number of cells).
    """
    kind = spec["type"]
    if kind not in ("category", "integer", "number"):
        return text, []
    allowed = _parse_allowed(spec) if kind == "category" else None
    exact = set(allowed or [])
    folded: dict[str, str] = {}
    if synonyms is not None:
        for value in allowed or []:
            folded[value.casefold()] = value if value.casefold() not in folded else None  # None: ambiguous
    synonyms = synonyms or {}

    def read(value):
        """(value read, how) or (value, None) when nothing applies."""
        if value in exact:
            return value, None
        key = value.casefold()
        if folded.get(key):
            return folded[key], "other case"
        if key in synonyms:
            return synonyms[key], f"synonym in {SYNONYMS_NAME}"
        return value, None

    def fits(value):
        new, how = read(value)
        if kind == "category":
            return new in exact
        return how is not None or bool(_NUMBER_RE.match(new))

    notes: dict = {}
    values = list(text)
    if not labels and all(read(value)[1] is None for value in set(values) if value is not None):
        return pd.Series(values, index=text.index, name=text.name, dtype=object), []  # every value as written
    if labels:
        coded = [(i, labels[v]) for i, v in enumerate(values) if v is not None and v in labels]
        if coded and all(fits(label) for _, label in coded):
            for i, label in coded:
                notes[(values[i], label, "SPSS value label")] = notes.get((values[i], label, "SPSS value label"), 0) + 1
                values[i] = label
    out = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        new, how = read(value)
        if how is not None:
            notes[(value, new, how)] = notes.get((value, new, how), 0) + 1
        out.append(new)
    recoded = pd.Series(out, index=text.index, name=text.name, dtype=object)
    return recoded, [(a, b, how, n) for (a, b, how), n in notes.items()]
