"""The validator's entry points: read and check every table of a data folder.

:func:`check_data` returns the typed tables and the warnings (raising :class:`DataValidationError` for errors);
:func:`load_and_validate` returns the tables once the warnings are acknowledged (``accept_warnings=True``).
:func:`_collect` does the work for both and for the command line: dictionary and synonyms, each table read
(``readers.py``) and checked (``tables.py``), then the cross-table rules (``rules.py``) and the plausibility
fields (``plausibility.py``).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from src.config import DEFAULT_DICTIONARY, DICTIONARY_NAME
from src.validate.dictionary import read_dictionary
from src.validate.plausibility import check_plausibility
from src.validate.problems import DataValidationError, UnacknowledgedWarnings, _problem, _problem_frame
from src.validate.readers import read_table
from src.validate.rules import SORAFENIB_APPROVAL, check_rule_warnings, check_rules
from src.validate.synonyms import default_synonyms, read_synonyms
from src.validate.tables import _validate_table


def _default_dictionary(data_dir: Path) -> Path:
    local = data_dir / DICTIONARY_NAME
    return local if local.is_file() else DEFAULT_DICTIONARY


def _collect(data_dir, dictionary_path=None, *, sorafenib_approval: str = SORAFENIB_APPROVAL, today=None,
             strict: bool = False):
    """Read and check everything: (tables or None, errors, warnings, notes). ``strict``: every warning is
    an error (no warnings are returned)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataValidationError([_problem(str(data_dir), message=f"data folder {data_dir} does not exist")])
    dictionary_path = Path(dictionary_path) if dictionary_path is not None else _default_dictionary(data_dir)
    dictionary = read_dictionary(dictionary_path)
    synonyms = read_synonyms(default_synonyms(dictionary_path), dictionary)
    names = list(pd.unique(dictionary["table"]))
    problems: list = []
    notes: list[str] = []
    typed: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    for name in names:
        try:
            text, layout_problems = read_table(data_dir, name)
        except DataValidationError as exc:
            problems.append(exc.problems)
            continue
        problems.append(layout_problems)
        frame, table_problems, table_notes = _validate_table(text, dictionary, name, text.attrs["source"], synonyms)
        problems.append(table_problems)
        notes.extend(table_notes)
        if frame is not None:
            typed[name] = frame
            files[name] = text.attrs["source"]
    problems.append(check_rules(typed, files=files, sorafenib_approval=sorafenib_approval))
    plausibility_errors, warnings_ = check_plausibility(typed, dictionary, files=files, today=today)
    problems.append(plausibility_errors)
    warnings_ = [warnings_, check_rule_warnings(typed, files=files, sorafenib_approval=sorafenib_approval)]
    order = [files.get(n, f"{n}.csv") for n in names]
    errors = _problem_frame(problems, file_order=order)
    warnings_ = _problem_frame(warnings_, file_order=order)
    # a cell with an error gets no warning
    if len(errors) and len(warnings_):
        flagged = set(zip(errors["file"], errors["row"].astype(object), errors["column"]))
        keep = [(f, r, c) not in flagged for f, r, c in zip(warnings_["file"], warnings_["row"].astype(object),
                                                             warnings_["column"])]
        warnings_ = warnings_[keep].reset_index(drop=True)
    if strict and len(warnings_):  # the generators' hard constraints: what is a warning for a user is an error
        strict_errors = warnings_.assign(message="strict: " + warnings_["message"], rule=None)
        errors = _problem_frame([errors, strict_errors], file_order=order)
        warnings_ = _problem_frame([])
    warnings_.attrs["severity"] = "warning"
    if len(errors):
        return None, errors, warnings_, notes
    result = {}
    for name in names:
        frame = typed[name].reset_index(drop=True)
        for column in frame.columns:
            if frame[column].dtype == "Int64" and not frame[column].isna().any():
                frame[column] = frame[column].astype("int64")
        result[name] = frame
    return result, errors, warnings_, notes


def check_data(data_dir, dictionary_path=None, *, sorafenib_approval: str = SORAFENIB_APPROVAL,
               today=None, strict: bool = False) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Read and check every table of ``data_dir``; return ``(tables, warnings)``.

    Raises :class:`DataValidationError` if there is any error (its
    ``.warnings`` holds the warnings found as well). Otherwise ``tables`` is
    what :func:`load_and_validate` returns and ``warnings`` a problem
    DataFrame (columns ``file, row, column, value, message``; no rows when
    there is nothing to acknowledge). Nothing is raised for warnings: the
    caller decides (:func:`load_and_validate` raises
    :class:`UnacknowledgedWarnings` unless they are accepted). ``today``
    (default: the system date) is the day no recorded date may pass.
    ``strict=True`` makes every warning an error: the hard constraints of
    the project's own generators (``make data``, ``make example``, the true
    cohorts of ``src/synthetic/truth.py``), which must produce protocol-faithful,
    Child-Pugh-consistent records whatever a user's data may hold.
    """
    tables, errors, warnings_, _notes = _collect(data_dir, dictionary_path, sorafenib_approval=sorafenib_approval,
                                                 today=today, strict=strict)
    if len(errors):
        raise DataValidationError(errors, warnings_)
    return tables, warnings_


def load_and_validate(data_dir, dictionary_path=None, *, sorafenib_approval: str = SORAFENIB_APPROVAL,
                      accept_warnings: bool = False, today=None, strict: bool = False) -> dict[str, pd.DataFrame]:
    """Read every table of ``data_dir``, check everything, return typed tables.

    ``dictionary_path`` defaults to ``data_dir/data_dictionary.csv`` if it
    exists, else the project's ``data/data_dictionary.csv``; the declared
    synonyms are ``synonyms.csv`` beside that dictionary (if it exists). All
    problems from all files are collected first; if there is any error,
    :class:`DataValidationError` is raised listing them all (and the
    warnings). If there are warnings only and ``accept_warnings`` is False,
    :class:`UnacknowledgedWarnings` (a DataValidationError) is raised listing
    every warning and how to acknowledge it; with ``accept_warnings=True`` the
    tables are returned (get the warnings themselves from :func:`check_data`).
    Returns ``{"patients": ..., "progression": ..., "adverse_events": ...}``
    (the dictionary's tables). ``strict`` as for :func:`check_data`. Rows in file order with a 0-based
    RangeIndex (no rows for a header-only table of :data:`MAY_BE_EMPTY`),
    the dictionary's columns in dictionary order except an optional column
    that the file leaves out or leaves empty in every row (it is absent, not
    added), dates datetime64[ns], integers int64 (Int64 if an integer is
    missing somewhere), numbers float64 (NaN when missing), strings and
    categories str (object; None when missing).
    """
    tables, warnings_ = check_data(data_dir, dictionary_path, sorafenib_approval=sorafenib_approval, today=today,
                                   strict=strict)
    if len(warnings_) and not accept_warnings:
        raise UnacknowledgedWarnings(warnings_)
    return tables
