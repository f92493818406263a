"""The command line: ``python -m src.validate DATA_DIR [--accept-warnings]`` (``make check``).

Prints OK with the counts of rows, how values were read and the accepted warnings (exit 0), or the report of
every problem (exit 2: errors, or warnings not acknowledged); ``--problems-csv`` also writes them to a file.
"""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pandas as pd

from src.config import SYNONYMS_NAME
from src.validate.load import _collect
from src.validate.problems import PROBLEM_COLUMNS, DataValidationError, UnacknowledgedWarnings, format_warnings
from src.validate.rules import SORAFENIB_APPROVAL
from src.validate.tables import MAY_BE_EMPTY


_COUNT_WORDS = {
    "patients": "patients",
    "progression": "progression rows",
    "adverse_events": "adverse events",
}


def main(argv=None) -> int:
    """Command line: validate DATA_DIR; print OK with counts, notes and accepted warnings (exit 0),
    or the report (exit 2: errors, or warnings not acknowledged with --accept-warnings)."""
    args = _arguments(argv)

    def write_csv(errors, warnings_):
        if args.problems_csv:
            both = pd.concat([errors.assign(severity="error"), warnings_.assign(severity="warning")],
                             ignore_index=True)
            both.reindex(columns=[*PROBLEM_COLUMNS, "severity"]).to_csv(args.problems_csv, index=False)

    try:
        tables, errors, warnings_, notes = _collect(args.data_dir, args.dictionary,
                                                    sorafenib_approval=args.sorafenib_approval, today=args.today,
                                                    strict=args.strict)
    except DataValidationError as exc:  # the folder, the dictionary or the synonyms cannot be used
        print(f"{args.data_dir}: {exc}")
        write_csv(exc.problems, exc.warnings)
        return 2
    write_csv(errors, warnings_)
    read_as = "\nHow values were read:\n" + "\n".join(f"  - {n}" for n in notes) if notes else ""
    if len(errors):
        print(f"{args.data_dir}: {DataValidationError(errors, warnings_)}{read_as}")
        return 2
    if len(warnings_) and not args.accept_warnings:
        print(f"{args.data_dir}: {UnacknowledgedWarnings(warnings_)}{read_as}")
        return 2
    counts = ", ".join(f"{len(frame)} {_COUNT_WORDS.get(name, name + ' rows')}" for name, frame in tables.items())
    print(f"{args.data_dir}: OK ({counts}){read_as}")
    if len(warnings_):
        print(format_warnings(warnings_, accepted=True))
    return 0


def _arguments(argv) -> argparse.Namespace:
    """The command line's arguments, checked (argparse exits with status 2 and a message when one is wrong)."""
    parser = argparse.ArgumentParser(
        prog="python -m src.validate",
        description="Check the tables of a data folder (patients, progression, adverse_events as .csv, "
                    ".xlsx or .sav) against the data dictionary and the clinical plausibility rules, "
                    "and list every problem with its file, row and column.",
        epilog="Columns whose 'optional' is yes in the dictionary may be left out of a file; "
               f"{' and '.join(MAY_BE_EMPTY)} may have a header and no rows, the other tables need at least one. "
               "Rows are numbered as in a spreadsheet (header = row 1). Errors must be corrected in the files; "
               "warnings (a value outside physiological limits, a code such as 999, a date far after every "
               "other date: the warn_* fields of the dictionary) must be checked and then acknowledged with "
               "--accept-warnings (ACCEPT_WARNINGS=1 with make). Exit status: 0 if the data are valid, "
               "2 if there is any error or an unacknowledged warning (or the command line is wrong). The "
               "rules are listed in the docstring of src/validate/__init__.py.",
    )
    parser.add_argument("data_dir", metavar="DATA_DIR", help="folder holding the tables, e.g. data")
    parser.add_argument("--dictionary", metavar="CSV",
                        help="data dictionary to check against (default: DATA_DIR/data_dictionary.csv "
                             "if present, else the project's data/data_dictionary.csv); the synonyms are "
                             f"{SYNONYMS_NAME} beside it")
    parser.add_argument("--sorafenib-approval", metavar="YYYY-MM-DD", default=SORAFENIB_APPROVAL,
                        help=f"date before which a sorafenib salvage start is implausible "
                             f"(default {SORAFENIB_APPROVAL}, approval in Japan)")
    parser.add_argument("--accept-warnings", action="store_true",
                        help="accept the warnings after checking them: the data are then valid (exit 0) and the "
                             "warnings are printed")
    parser.add_argument("--strict", action="store_true",
                        help="treat every warning as an error: the hard constraints of the project's generators "
                             "(make data, make example), not for real data")
    parser.add_argument("--today", metavar="YYYY-MM-DD",
                        help="the day no recorded date may pass (default: the system date)")
    parser.add_argument("--problems-csv", metavar="CSV",
                        help="also write the problems (file,row,column,value,message,severity) to this CSV file")
    args = parser.parse_args(argv)
    for option, value in (("--sorafenib-approval", args.sorafenib_approval), ("--today", args.today)):
        if value is None:
            continue
        try:
            pd.Timestamp(dt.date.fromisoformat(value))
        except ValueError:
            parser.error(f"{option} {value!r} is not a date written YYYY-MM-DD")
    if args.problems_csv:
        target = Path(args.problems_csv)
        if target.is_dir() or not target.parent.is_dir():
            parser.error(f"--problems-csv {args.problems_csv!r}: " + ("is a folder; give a file name" if target.is_dir()
                         else f"the folder {str(target.parent)!r} does not exist"))
    return args
