"""Check a data folder against the data dictionary before any analysis runs.

The notebooks read three tables: ``patients``, ``progression`` and
``adverse_events``. ``data/data_dictionary.csv`` describes every column of
them (type, unit, allowed values or range, whether a value is required,
whether it must be unique, whether the column may be left out of a file).
This package reads the tables, checks them against the dictionary and
against the clinical plausibility rules below, and either returns typed
pandas DataFrames or raises :class:`DataValidationError` listing **every**
problem found, in words a clinician can act on. Some findings are warnings
(a possible but suspicious value) that the user must acknowledge, see
"Plausibility fields" below. Run it from the command line with
``python -m src.validate DATA_DIR [--accept-warnings]`` (``make check``).

Reading
    Each table is looked for as ``NAME.csv``, ``NAME.xlsx`` or ``NAME.sav``
    (SPSS); exactly one must exist. CSV files must be UTF-8 (a byte-order
    mark is accepted) and use commas, or ``;`` as a European spreadsheet
    writes them: then a decimal comma and day-first dates are read when
    unambiguous (:func:`european._european_reading`; a note says so, an ambiguous
    number or date is a problem naming the column and the values). Every cell is read as text and
    converted by this package, so that a bad value is reported instead of
    silently becoming missing. Leading and trailing spaces are removed; an
    empty cell is a missing value (``NA``, ``.`` and the like are *not*
    treated as missing). Completely empty lines are ignored.

    A workbook: the worksheet named after the table (``progression``, in
    any case), else the only worksheet that holds data; several worksheets
    with data and none named after the table is a problem that lists them.
    An SPSS file: the values as stored (codes); a column's value labels are
    used instead when every label met in the column is read as an allowed
    value (below), e.g. ``1 = male, 2 = female`` for ``sex``; otherwise the
    codes are kept (``0 = censored, 1 = event`` for ``death``).

    Synonyms: when the dictionary in use has a ``synonyms.csv`` beside it
    (:func:`read_synonyms`; the project's is ``data/synonyms.csv``), a
    ``category`` value written in another case is read as the allowed value
    (``yes`` for ``Yes``/``YES``, ``M`` for ``m``), and the values it
    declares are read as their meaning: ``1``/``0``, ``TRUE``/``FALSE``,
    ``Y``/``N`` for ``yes``/``no`` columns, ``male``/``female`` for
    ``M``/``F``, CTCAE v4.0/v5.0 terms ("Platelet count decreased") for the
    CTCAE v3.0 terms of ``adverse_events.term`` ("Platelets"), words for the
    0/1 flags ``death`` and ``led_to_discontinuation``. Declarations are
    matched ignoring case; anything not declared stays a problem. Without a
    ``synonyms.csv`` beside the dictionary (e.g. a data folder with its own
    ``data_dictionary.csv`` only), values are read exactly as written, as
    before synonyms existed. The command line lists how values were read.

    A file that is empty (no header) or is not a table at all (binary data,
    an image, text in another encoding, an ``.xlsx`` or ``.sav`` that is not
    one) is a problem; the file's other rules are then not checked.
    ``patients`` must have at least one data row. ``progression`` and
    ``adverse_events`` (:data:`MAY_BE_EMPTY`) may have a header and no
    rows (nobody progressed, no adverse event recorded): the result is then
    an empty, typed DataFrame.

    Hints: a number written with a thousands separator (``2,833``,
    ``12,500``: plain digits are needed), with a decimal comma (``2,8``,
    ``0,75``) or both (``1.234,5``); an Excel day number in a date column
    (``40909`` is 2012-01-01); a value outside ``allowed`` that is one of the
    column's ``warn_values`` (a code such as 9 or -1 for "unknown").

Row numbers
    Every message names the row as a spreadsheet shows it: the header is
    row 1 and the first data row is row 2. In a CSV file without line breaks
    inside quoted cells this is also the line number of the file. For an
    SPSS file, row N is case N - 1.

Column rules (built from the dictionary by :func:`build_schema`, checked by pandera)
    * the set of columns is the dictionary's: an unexpected column is a
      problem, and so is a missing column unless its ``optional`` is
      ``yes``. An optional column may be left out of the file (the returned
      DataFrame then lacks it); if it is there, its values follow every rule
      below (``required`` is about the values, ``optional`` about the
      column: the project's optional columns have ``required`` ``no``, so a
      blank cell in them is a missing value). An optional, not required
      column that is present but empty in every row is read as left out. A
      dictionary without an ``optional`` column makes every column
      compulsory. A required column that is empty in every row is one
      problem (with the advice to leave an optional column out), not one
      per row. A CSV row that ends before the last columns (fewer values
      than the header) is a problem in each column it leaves out, required
      or not;
    * the value has the dictionary type: ``integer`` (whole number),
      ``number`` (digits 0-9 with an optional sign, decimal point and
      exponent: ``-1``, ``2.5``, ``3e4``; no decimal comma, no ``nan``),
      ``date`` (written ``YYYY-MM-DD``), ``string``, ``category``;
    * a ``category`` is one of the ``allowed`` values (``A|B|C``, case
      sensitive);
    * a number, integer or date lies in the ``allowed`` range ``lo..hi``
      (both ends included);
    * a value is present when ``required`` is ``yes``;
    * no value appears twice when ``unique`` is ``yes``.

Principle
    An *error* is a value that cannot be true (wrong type, undeclared
    category, outside ``allowed``: below zero, off its scale; a date after
    today; dates out of order); a *warning* is a value that can be true but
    deserves a look (rules 5 and 7-10 below, ``warn_*`` fields). Warnings
    carry a ``rule`` and are counted per rule. ``strict=True`` (the
    generators' own check) makes every warning an error.

Cross-table and plausibility rules (:func:`check_rules`: errors 1-4 and 6;
:func:`check_rule_warnings`: warnings 5 and 7-10)
    1. every ``patient_id`` of ``progression`` and ``adverse_events`` exists
       in ``patients``;
    2. ``last_followup_date`` is not before ``first_haic_date``;
    3. ``progression_date`` is not before the patient's ``first_haic_date``
       and not after the patient's ``last_followup_date``;
    4. ``salvage_start_date`` is not before ``progression_date`` and not
       after the patient's ``last_followup_date``;
    5. a ``salvage_treatment`` of ``sorafenib`` does not start before
       :data:`SORAFENIB_APPROVAL`;
    6. the ``age`` at progression is not lower than the baseline ``age`` and
       not higher than baseline age + whole years elapsed from the first HAIC
       to progression + 1;
    7. ``child_pugh_score`` (in ``patients`` and in ``progression``) lies in
       the range that its recorded components allow
       (:func:`child_pugh_points_range`; encephalopathy is not recorded, so
       it may add 1 to 3 points, and ascites adds 2 or 3).

    8. ``n_haic_sessions`` fits the protocol's schedule: HAIC was repeated
       at intervals of 4 to 6 weeks, so n sessions need at least
       (n - 1) x :data:`MIN_SESSION_INTERVAL_DAYS` (28) days from
       ``first_haic_date`` to the patient's (first) ``progression_date``,
       or to ``last_followup_date`` if the patient has no progression row;
    9. a ``best_response`` of CR, PR, SD or PD needs an imaging assessment,
       made 4 weeks after a session: ``last_followup_date`` at least
       :data:`RESPONSE_ASSESSMENT_DAYS` (28) days after ``first_haic_date``
       (otherwise the response is NE, not evaluated).

    Rule-based warnings (:func:`check_rule_warnings`; acknowledged like the
    plausibility warnings below):

    10. a patient whose ``best_response`` is PD and who has a progression
        row has a ``max_tumor_size_mm`` at progression not smaller than at
        the first HAIC. A warning, not an error: under RECIST a new lesion
        or a growing non-target lesion is progression too, while the largest
        tumour may have shrunk; in a cohort where progression means growth
        of the largest tumour (the bundled one) it flags a swapped or
        mistyped size.

    A rule is skipped for a value that already broke a column rule (it is
    reported once), for a table missing the columns it needs (a missing
    compulsory column is reported; a missing optional column is not), and
    for a table that could not be read at all.

Plausibility fields of the dictionary (:func:`check_plausibility`)
    The severity is part of the field's name; blank means no check, and a
    dictionary without these fields checks nothing more. A value gets at
    most one finding, none if it already broke a rule above.

    * ``error_after`` / ``warn_after`` (date columns), one or more of
      ``today``: a date after the day of the check (``today=``,
      ``--today``; default the system date); ``others+DAYS``: a date more
      than DAYS days after the latest *other* date of the data, every date
      column of every table with this cell left out: the data's own last
      recorded date. The project's dictionary: ``error_after`` ``today`` on
      every date; ``warn_after`` ``others+1826`` (five years) on
      ``last_followup_date``, where a mistyped year stretches every survival
      curve (a wide margin: in a small cohort a long survivor may well
      outlive the other records by a few years).
    * ``warn_values`` (number, integer, date columns): values that exports
      use as codes for "unknown" (``999|9999|-1``, ``1900-01-01``); a
      warning when the value is one of them exactly (``999.5`` is not), and
      a hint in the error when it is also outside ``allowed`` (``ecog_ps``
      9). Tumour markers list only ``-1|99999|999999``: AFP 9999 or 250000
      ng/mL are real values.
    * ``warn_range`` (``lo..hi``, number, integer, date columns):
      physiological limits, a warning naming the limit when a value lies
      outside (albumin 5.8 g/dL; bilirubin 17, probably µmol/L, above
      10 mg/dL), while ``allowed`` is the hard range (an error).

    Errors stop the analysis like any other problem. Warnings stop it too
    until they are acknowledged: :func:`load_and_validate` raises
    :class:`UnacknowledgedWarnings` unless ``accept_warnings=True``
    (``--accept-warnings`` of ``python -m src.validate`` and
    ``python -m src.runner``, ``ACCEPT_WARNINGS=1`` of ``make``);
    :func:`check_data` returns the tables and the warnings without raising
    for warnings.

Problems
    A problem is one row of a DataFrame with columns ``file``, ``row``,
    ``column``, ``value``, ``message`` (``row``/``column``/``value`` are
    empty for a problem about a whole file or column). ``value`` is the
    text as written in the file (a typed value for the plausibility
    findings: ``999`` for ``999.0``). Warnings have the same columns. A file that cannot be read as a table is
    one problem; when the cause has a place (the first cell that is not
    UTF-8, a quote that is not closed), its row and column are given.

Where things are (a module a room, in the order the data pass through them)
    ``problems.py``: the problem table, :class:`DataValidationError`,
    :class:`UnacknowledgedWarnings` and the reports; ``dictionary.py``: the
    data dictionary and its parsed fields; ``synonyms.py``: values written
    otherwise; ``readers.py``: a table's file as text (CSV, ``.xlsx``,
    ``.sav``); ``european.py``: the numbers and dates of a ';'-separated
    file; ``cells.py``: cells to typed values, with hints; ``schema.py``:
    the column rules (pandera); ``tables.py``: one table checked
    (:func:`validate_table`); ``childpugh.py``: Child-Pugh scoring;
    ``rules.py``: rules 1-10; ``plausibility.py``: the plausibility fields;
    ``load.py``: :func:`check_data` and :func:`load_and_validate`;
    ``cli.py``: the command line. This file holds the names other code
    imports (``from src.validate import load_and_validate``).
"""

from __future__ import annotations

from src.config import DEFAULT_DICTIONARY, DICTIONARY_NAME, SYNONYMS_NAME, TABLE_SUFFIXES
from src.study import MIN_SESSION_INTERVAL_DAYS, RESPONSE_ASSESSMENT_DAYS
from src.validate.childpugh import child_pugh_points_range
from src.validate.cli import main
from src.validate.dictionary import PLAUSIBILITY_FIELDS, read_dictionary
from src.validate.load import check_data, load_and_validate
from src.validate.plausibility import check_plausibility
from src.validate.problems import (ACKNOWLEDGE, PROBLEM_COLUMNS, ROW_CONVENTION, RULE_CHILD_PUGH, RULE_CODE,
                                   RULE_FUTURE, RULE_LATE, RULE_LIMITS, RULE_PD_SHRANK, RULE_RESPONSE, RULE_SESSIONS,
                                   RULE_SORAFENIB, DataValidationError, UnacknowledgedWarnings, count_per_rule,
                                   format_report, format_warnings)
from src.validate.readers import read_table
from src.validate.rules import SORAFENIB_APPROVAL, check_rule_warnings, check_rules
from src.validate.schema import MISSING_VALUE, build_schema
from src.validate.synonyms import default_synonyms, read_synonyms
from src.validate.tables import MAY_BE_EMPTY, validate_table

__all__ = [
    # reading and checking a data folder (load.py, cli.py)
    "check_data", "load_and_validate", "main",
    # problems and their report (problems.py)
    "DataValidationError", "UnacknowledgedWarnings", "format_report", "format_warnings", "count_per_rule",
    "PROBLEM_COLUMNS", "ROW_CONVENTION", "ACKNOWLEDGE", "MISSING_VALUE",
    "RULE_CHILD_PUGH", "RULE_SESSIONS", "RULE_RESPONSE", "RULE_PD_SHRANK", "RULE_SORAFENIB", "RULE_CODE",
    "RULE_LIMITS", "RULE_LATE", "RULE_FUTURE",
    # the dictionary, its synonyms, one table (dictionary.py, synonyms.py, readers.py, schema.py, tables.py)
    "read_dictionary", "PLAUSIBILITY_FIELDS", "read_synonyms", "default_synonyms", "read_table", "build_schema",
    "validate_table", "MAY_BE_EMPTY",
    # the rules (childpugh.py, rules.py, plausibility.py)
    "child_pugh_points_range", "check_rules", "check_rule_warnings", "SORAFENIB_APPROVAL", "check_plausibility",
    # settings and the study's design the validator uses (config.py, study.py)
    "DEFAULT_DICTIONARY", "DICTIONARY_NAME", "SYNONYMS_NAME", "TABLE_SUFFIXES",
    "MIN_SESSION_INTERVAL_DAYS", "RESPONSE_ASSESSMENT_DAYS",
]
