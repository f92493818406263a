"""One run from start to end (:func:`run_pipeline`): check OUT, select the notebooks, validate the data, then
execute the notebooks into a build folder next to OUT, finish it (scorecard, Word tables, report), search it
for leaks, stamp it and swap it into place as OUT.

OUT is therefore either the complete result of one successful run or left exactly as it was: a failing or
interrupted run (Ctrl-C, SIGTERM, SIGHUP) never leaves a half-written output folder behind, and removes its
build and stage folders."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from src import privacy
from src.present.report import LESSON_NAME, is_chapter, render_report
from src.privacy import published_results_path
from src.runner import outdir
from src.runner.errors import (Interrupted, Log, NoNotebooksError, PipelineError, PublishError, ReportError,
                               UnsafeOutputError)
from src.runner.interrupts import interrupts_raise, signals_held
from src.runner.kernels import make_stage, save_validated, start_fork_server, stop_fork_server
from src.runner.params import (DEFAULT_OUT_DIR, NOTEBOOK_GLOB, NOTEBOOKS_DIR, declared_parameters,
                               discover_notebooks, notebook_sort_key)
from src.runner.safety import check_output_dir, check_privacy, machine_paths, own_text, validate_data
from src.runner.schedule import execute_all


def run_pipeline(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    notebooks: Sequence[str | os.PathLike] | None = None,
    parameters: Mapping[str, object] | None = None,
    *,
    notebooks_dir: str | os.PathLike | None = None,
    published_results: str | os.PathLike | None = None,
    accept_warnings: bool = False,
    report: bool = True,
    lesson: bool = False,
    log: Log = print,
) -> Path:
    """Validate *data_dir*, execute the notebooks and publish everything as *out_dir*.

    Parameters
    ----------
    data_dir, out_dir
        Data folder and output folder (resolved to absolute paths). OUT is
        replaced as a whole on success, only if it is new, empty or holds exactly
        what an earlier run wrote (:mod:`src.runner.outdir`), and untouched on failure.
    notebooks
        Notebook paths to run (sorted numerically); default: every
        ``NN_*.ipynb`` of *notebooks_dir*.
    parameters
        Extra papermill parameters (JSON-serialisable), besides ``DATA_DIR`` and
        ``OUTPUT_DIR`` (set by the runner). ``PRIVATE`` (default: on for any data
        but the bundled synthetic cohort, recognised by content) also makes the
        runner search the finished output for every identifier and date of the
        input and refuse to publish it if one is found (:class:`PrivacyError`).
    notebooks_dir
        Folder searched when *notebooks* is None; default :data:`NOTEBOOKS_DIR`.
    published_results
        Published-numbers file for the scorecard; default: the data folder's own
        (:func:`src.privacy.published_results`), or none.
    accept_warnings
        Go on despite plausibility warnings of the validator (they are printed).
    report
        Write ``report.html`` and ``manuscript_tables.docx`` (False: the notebooks' files and the
        scorecard only, as ``make publish`` needs).
    lesson
        The lesson edition: run the chapters only (notebooks 01-07 among those selected,
        :func:`src.present.report.is_chapter`) and write ``lesson.html`` (with *report*) instead of the
        scorecard, the report and the Word file. OUT must not be the project's ``outputs/``, which
        holds the full run (:class:`UnsafeOutputError`).
    log
        Called with each progress line.

    Returns the resolved output folder.  Raises a :class:`PipelineError`
    subclass on failure (:class:`Interrupted` on SIGINT, SIGTERM or SIGHUP),
    after deleting the temporary build and stage folders.
    """
    without_rfc3987_syntax()
    data = Path(data_dir).resolve()
    out = Path(out_dir).resolve()
    folder = Path(notebooks_dir).resolve() if notebooks_dir is not None else NOTEBOOKS_DIR
    check_output_dir(out, protected=[data, folder])
    selected = select_notebooks(notebooks, folder, out, lesson)
    check_output_dir(out, protected={p.parent for p in selected})
    tables = validate_data(data, accept_warnings, log)
    published_path = published_results_path(data, Path(published_results) if published_results else None)
    bundled = privacy.is_bundled(data)
    parameters = run_parameters(parameters, data, selected, accept_warnings, log)
    run = Run(data, out, folder, selected, parameters, tables, published_path, bundled, private=parameters["PRIVATE"],
              allowed=own_text(selected, parameters), accept_warnings=accept_warnings, report=report, lesson=lesson)
    return execute_and_publish(run, log)


def select_notebooks(notebooks: Sequence[str | os.PathLike] | None, folder: Path, out: Path,
                     lesson: bool) -> list[Path]:
    """The notebooks to run in numeric order: *notebooks*, or else every ``NN_*.ipynb`` of *folder*; with
    *lesson*, only the chapters among them. Raises :class:`NoNotebooksError` when none is left and
    :class:`UnsafeOutputError` for a lesson into the project's ``outputs/``."""
    if notebooks is None:
        selected = discover_notebooks(folder)
    else:
        selected = sorted((Path(p).resolve() for p in notebooks), key=notebook_sort_key)
    if not selected:
        raise NoNotebooksError(f"no notebook to run (looked for {NOTEBOOK_GLOB} in {folder})")
    if lesson:
        if out == DEFAULT_OUT_DIR.resolve():
            raise UnsafeOutputError(f"the lesson edition goes into an OUT of its own (--out folder): {out} holds "
                                    "the full run, which a lesson run would replace")
        selected = [p for p in selected if is_chapter(p)]
        if not selected:
            raise NoNotebooksError("no chapter to run for the lesson (notebooks 01-07)")
    return selected


def run_parameters(parameters: Mapping[str, object] | None, data: Path, selected: Sequence[Path],
                   accept_warnings: bool, log: Log) -> dict[str, object]:
    """The parameters of the run's notebooks besides DATA_DIR and OUTPUT_DIR: the given ones, ``PRIVATE``
    (:func:`src.privacy.private_mode`) and, with *accept_warnings*, ``ACCEPT_WARNINGS``. A parameter that no
    notebook of *selected* declares is reported once."""
    parameters = dict(parameters or {})
    private = privacy.private_mode(parameters.get("PRIVATE"), data)
    parameters["PRIVATE"] = private
    unknown = [name for name in parameters if name not in ("PRIVATE", "MIN_CELL")
               and not any(name in (declared_parameters(nb) or {name}) for nb in selected)]
    if unknown:
        log(f"ignored: no notebook of this run has the parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)} (python -m src.runner --help; the parameters cells list them)")
    if accept_warnings:
        parameters["ACCEPT_WARNINGS"] = True
    return parameters


@dataclass(frozen=True)
class Run:
    """What :func:`run_pipeline` settles before any work, for :func:`execute_and_publish`."""

    data: Path  # the data folder, resolved
    out: Path  # OUT, resolved
    notebooks_dir: Path  # the folder the notebooks were looked for in
    notebooks: list[Path]  # those to run, in numeric order
    parameters: dict[str, object]  # of every notebook, besides DATA_DIR and OUTPUT_DIR
    tables: Mapping[str, object]  # the validated tables of the data folder
    published_path: Path | None  # the published numbers for the scorecard
    bundled: bool  # the data are the bundled synthetic cohort
    private: bool  # private mode: the output is searched for every identifier and date of the input
    allowed: str  # the run's own text (own_text), not counted by the leak search
    accept_warnings: bool
    report: bool
    lesson: bool


def execute_and_publish(run: Run, log: Log = print) -> Path:
    """Execute the notebooks of *run* into a build folder next to OUT, finish it, search it for leaks, stamp it
    and swap it into place as OUT; remove the build and stage folders whatever happens. Returns OUT."""
    build = stage = server = None
    published = False
    try:
        with interrupts_raise():
            with signals_held():  # an interrupt comes once these are known, so that they are removed
                build = make_build_dir(run.out)
                stage = make_stage(run.data, build)
                server = start_fork_server(stage, run.notebooks)
            save_validated(stage, run.data, run.tables, run.accept_warnings)
            executed = execute_all(run.notebooks, stage, run.parameters, log)
            stop_fork_server(stage, server)
            finish_build(build, executed, run.bundled, run.private, run.published_path, log, run.report, run.lesson)
            names = machine_paths(run.data, run.out, build, stage, run.notebooks_dir) | (
                {run.data.name} if not run.bundled else set())
            check_privacy(build, run.tables if run.private else None, names, run.allowed, log)
            outdir.write_stamp(build)
            with signals_held():
                swap_into_place(build, run.out, log)
                published = True
    except KeyboardInterrupt as error:
        if published:  # the signal came while the results were being swapped in: they are complete
            log(f"interrupted ({str(error) or 'SIGINT'}) after the results were published")
            return run.out
        raise Interrupted(f"interrupted ({str(error) or 'SIGINT'}): {run.out} was left as it was and the "
                          "temporary folders were removed") from None
    finally:
        stop_fork_server(stage, server)
        for temporary in (build, stage):
            if temporary is not None and temporary.exists():
                shutil.rmtree(temporary, ignore_errors=True)
    log(f"wrote {run.out}")
    return run.out


def without_rfc3987_syntax() -> None:
    """Let jsonschema (below papermill's and nbconvert's nbformat) skip ``rfc3987_syntax``.

    jsonschema imports that optional checker of the ``iri`` formats when it is installed (JupyterLab
    brings it) and compiles 38 grammars on import: about 2 s of every run before the first kernel
    starts. nbformat never checks formats, so the runner's process does without it: an explicit
    call at the start of :func:`run_pipeline` (the module's import changes nothing)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # an ImportError for jsonschema's optional import


def _sibling_name(out_dir: Path, kind: str) -> Path:
    """A fresh hidden path ``.<OUT.name>.<kind>-<random>`` next to *out_dir*."""
    return out_dir.parent / f".{out_dir.name}.{kind}-{secrets.token_hex(4)}"


def make_build_dir(out_dir: Path) -> Path:
    """Create and return an empty build folder next to *out_dir*.

    Created with ``mkdir`` (not ``mkdtemp``) so it gets the usual permissions
    that the published folder keeps.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    while True:
        build = _sibling_name(out_dir, "build")
        try:
            build.mkdir()
            return build
        except FileExistsError:
            continue


def finish_build(build: Path, executed: Sequence[Path], bundled: bool, private: bool,
                 published_path: Path | None, log: Log, report: bool = True, lesson: bool = False) -> None:
    """Write the scorecard and (with *report*) the Word file of the manuscript tables and the HTML
    report into *build*; with *lesson*, only the lesson edition (`LESSON_NAME`, with *report*)."""
    from src.present import tables

    try:
        if lesson:
            if report:
                render_report(executed, bundled, private, None, build / LESSON_NAME, build / "figures", lesson=True)
            return
        from src.paper.compare import make_scorecard

        summary = make_scorecard(build, published_path, log)
        if report:
            tables.manuscript_docx(build / "tables", build / "manuscript_tables.docx")
            render_report(executed, bundled, private, summary, build / "report.html", build / "figures")
    except PipelineError:
        raise
    except Exception as error:
        raise ReportError(f"could not build the scorecard or report: {type(error).__name__}: {error}") from error


def swap_into_place(build: Path, out_dir: Path, log: Log = print) -> None:
    """Replace *out_dir* by *build* with two renames (call it inside :func:`signals_held`).

    OUT is checked once more (:func:`src.runner.outdir.check_replaceable`: nothing was
    added to it or changed in it during the run).  The old OUT is then renamed to
    ``.<OUT.name>.previous-<random>``; if the build cannot be renamed to OUT, the
    old OUT is restored and :class:`PublishError` is raised.  The previous folder
    is deleted last.
    """
    try:
        outdir.check_replaceable(out_dir)
    except outdir.NotOurs as error:
        raise UnsafeOutputError(f"{error}\n(the files appeared while the run was working)") from error
    previous = None
    if out_dir.exists():
        previous = _sibling_name(out_dir, "previous")
        os.rename(out_dir, previous)
    try:
        os.rename(build, out_dir)
    except OSError as error:
        if previous is not None:
            os.rename(previous, out_dir)
        raise PublishError(f"could not move the finished results to {out_dir}: {error}") from error
    if previous is not None:
        try:
            shutil.rmtree(previous)
        except OSError as error:
            log(f"warning: could not delete the previous outputs {previous}: {error}")
