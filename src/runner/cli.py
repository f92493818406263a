"""The command line, ``python -m src.runner`` (what ``make run`` calls): its options, its help text, and the
mapping of a run's errors to exit codes (0 success, 1 a notebook or the report failed, 2 invalid data, a
refused output folder or a usage error, 3 a privacy refusal, 130 an interrupted run)."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from src.runner.errors import Interrupted, NoNotebooksError, PipelineError
from src.runner.interrupts import interrupts_raise
from src.runner.params import DEFAULT_DATA_DIR, DEFAULT_OUT_DIR, NOTEBOOKS_DIR, discover_notebooks, parse_parameters
from src.runner.pipeline import run_pipeline


HELP_EPILOG = """\
the output folder OUT belongs to you:
  A run builds its results aside and, on success, replaces OUT as a whole
  (tables/, figures/, notebooks/ with the executed copies, scorecard.csv,
  report.html, and the stamp .haic-run.json listing every file it wrote).
  It does so only if OUT does not exist, is empty, or holds exactly the
  files an earlier run wrote (as the stamp lists them, unchanged).  A
  non-empty OUT without the stamp, or one holding a file the run did not
  write or a file changed since, is refused before any work (exit 2) and
  nothing in it changes: move your files out, or choose another OUT.  A
  failing or interrupted run (Ctrl-C, SIGTERM, SIGHUP) leaves OUT as it
  was and removes its temporary folders.  The runner also refuses the
  project root, its data/, notebooks/ or src/ folders, the home folder, an
  ancestor of the project, a folder holding .git, or a folder containing
  the data or the notebooks.

exit codes:
  0    every notebook ran; OUT holds the new results
  1    a notebook (or the scorecard/report) failed; OUT untouched
  2    invalid data or unacknowledged plausibility warnings (the report is
       printed), a refused OUT, no matching notebook, or a usage error;
       nothing written
  3    privacy refusal: an identifier, a date or the folder name of the
       input, or a path of this machine, was found in the output; OUT
       untouched
  130  interrupted; OUT untouched
  (make reports these as "Error N" and itself exits with 2: GNU make has
  no way to pass a recipe's exit status on; call python -m src.runner
  directly when a script needs the code.)

privacy:
  On any data but the bundled synthetic cohort (recognised by the
  checksums of its files, data/bundled_cohort.sha256, not by its folder)
  the notebooks run in private mode: no patient rows, identifiers or
  dates, only aggregates, and the runner searches the finished output for
  every identifier and date of the input (any common spelling, as whole
  tokens) before publishing it.  Every run is also searched for absolute
  paths of this machine; the notebooks see the data and output folders
  only as DATA and OUT.  --min-cell N shows counts from 1 to N-1 as "<N"
  in every table, in the text and in the figures' labels.

example:
  python -m src.runner --data data --out outputs
  python -m src.runner --data data --out /tmp/out --only 03 -p N_BOOT=200
  python -m src.runner --data data/examples/cohort250 --out ../results --min-cell 5
  python -m src.runner --lesson --out ../lesson   # lesson.html: chapters 01-07 for a class
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m src.runner``."""
    parser = argparse.ArgumentParser(
        prog="python -m src.runner",
        description=(
            "Validate a data folder, execute notebooks/NN_*.ipynb in numeric order\n"
            "with papermill, and publish tables, figures, executed notebooks, a\n"
            "scorecard (published vs reproduced) and an HTML report into OUT."
        ),
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        metavar="DATA",
        default=str(DEFAULT_DATA_DIR),
        help="data folder, validated before any notebook runs and passed as DATA_DIR "
        "(default: the bundled data/)",
    )
    parser.add_argument(
        "--out",
        metavar="OUT",
        default=str(DEFAULT_OUT_DIR),
        help="output folder, replaced as a whole on success if it is new, empty or an earlier "
        "run's (see below; default: the project's outputs/)",
    )
    parser.add_argument(
        "--only",
        metavar="PATTERN",
        help="run only the notebooks whose file name contains PATTERN, or one of its comma-separated "
        "parts (01_,03_); OUT then holds only their results",
    )
    parser.add_argument(
        "-p",
        "--parameter",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="extra notebook parameter; VALUE is read as JSON when it parses "
        "(3, 0.5, true, \"text\", [1, 2]), True/False/None as in Python, and as a plain string otherwise; "
        "repeatable (e.g. -p FIGURES=False: tables and text only, no figure drawn)",
    )
    parser.add_argument(
        "--private",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="aggregates only and a final search of the output for identifiers and dates "
        "(default: on for any data folder but the bundled synthetic cohort)",
    )
    parser.add_argument(
        "--accept-warnings",
        action="store_true",
        help="go on despite the validator's plausibility warnings (they are printed; "
        "errors always stop the run)",
    )
    parser.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="write no report.html and no manuscript_tables.docx (the notebooks' tables and figures "
        "and the scorecard only)",
    )
    parser.add_argument(
        "--lesson",
        action="store_true",
        help="the lesson edition, for a class: run the chapters only (notebooks 01-07, with their exercises) "
        "and write lesson.html instead of report.html, the scorecard and the Word file (no scorecard, audit "
        "or reconstruction notebook, no paper-vs-this-run appendix); OUT must not be the project's outputs/",
    )
    parser.add_argument(
        "--min-cell",
        metavar="N",
        type=int,
        default=0,
        help="show counts from 1 to N-1 as \"<N\" in every table (default 0: off)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (see ``--help``).

    An interrupted run (Ctrl-C, SIGTERM, SIGHUP) prints one line, not a traceback.
    """
    try:
        with interrupts_raise():  # from the start: an interrupt while the data are validated is one too
            return _main(argv)
    except KeyboardInterrupt as error:
        print(f"interrupted ({str(error) or 'SIGINT'}): nothing was written", file=sys.stderr)
        return Interrupted.exit_code


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        parameters = parse_parameters(args.parameter)
    except ValueError as error:
        parser.error(f"-p: {error}")
    if args.private is not None:
        parameters["PRIVATE"] = args.private
    if args.min_cell:
        parameters["MIN_CELL"] = args.min_cell
    notebooks = None
    if args.only:
        notebooks = discover_notebooks(NOTEBOOKS_DIR, args.only)
        if not notebooks:
            print(f"error: no notebook in {NOTEBOOKS_DIR} matches {args.only!r}", file=sys.stderr)
            return NoNotebooksError.exit_code
    try:
        run_pipeline(args.data, args.out, notebooks, parameters, notebooks_dir=NOTEBOOKS_DIR,
                     accept_warnings=args.accept_warnings, report=args.report, lesson=args.lesson)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return 0
