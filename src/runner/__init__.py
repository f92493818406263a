"""Run every analysis notebook with papermill and publish the results atomically.

``python -m src.runner --data DATA --out OUT`` (what ``make run`` calls):

1. validates the data folder with :func:`src.validate.load_and_validate`
   (an invalid folder stops the run before anything is written);
2. executes ``notebooks/NN_*.ipynb`` in numeric order into a fresh
   temporary folder next to OUT (``OUT.parent/.<OUT.name>.build-<random>``).
   The kernels run in a private temporary *stage* folder holding two links,
   ``DATA`` (to the data folder) and ``OUT`` (to the build folder), and the
   notebooks get ``DATA_DIR = "DATA"`` and ``OUTPUT_DIR = "OUT"``: no path of
   the machine and no name of the data folder reaches an executed notebook.
   The kernels talk to papermill over Unix sockets in that stage folder, not
   over TCP ports on localhost (:func:`ipc_kernel_manager`), and their
   connection files live there too, so removing it removes every kernel file.
   The kernels are forked from one process that has imported the stack once
   (:mod:`src.forkserver`; ``HAIC_FORK=0`` starts each as its own Python),
   and up to ``HAIC_JOBS`` notebooks run side by side;
3. collects the notebooks' ``tables/paper_vs_run_<notebook>.csv`` files into
   one ``scorecard.csv`` (one row per published number, in the order of
   ``published_results.csv``) and renders every executed notebook into one
   self-contained ``report.html``;
4. searches the finished folder for absolute paths of the machine and, in a
   private run, for every identifier and date of the input
   (:func:`src.privacy.find_leaks`), and refuses to publish on a hit;
5. stamps the finished folder (:mod:`src.outdir`) and swaps it into place as
   OUT.  OUT is therefore either the complete result of one successful run or
   left exactly as it was: a failing or interrupted run (Ctrl-C, SIGTERM,
   SIGHUP) never leaves a half-written output folder behind, and removes its
   build and stage folders.

OUT belongs to the user: a run replaces it only if it is new, empty, or holds
exactly what an earlier run wrote (:mod:`src.outdir`); otherwise it is refused
before any work.  The runner also refuses the project root, its ``data``,
``notebooks`` or ``src`` folders, the home folder, any ancestor of the project
root, a folder holding a ``.git`` entry, or a folder that contains the data
or notebooks being run.

Layout of OUT after a successful run::

    OUT/tables/          tables written by the notebooks
    OUT/figures/         figures written by the notebooks
    OUT/notebooks/       executed copy of every notebook (with outputs)
    OUT/scorecard.csv    published vs reproduced, one row per published number
    OUT/report.html      all executed notebooks as one HTML page
    OUT/lesson.html      with --lesson, instead of report.html and the scorecard: the lesson
                         edition, chapters 01-07 only (src.report; OUT must not be outputs/)

In the executed copies, papermill's input and output paths read
``notebooks/<name>`` (relative to the project and to OUT), the clock times
papermill and the kernel record (start, end, duration of each cell) are left
out, the cells numbered and split printed output joined, so that the same data
and parameters give the same bytes on any machine (:func:`normalise_executed`).

Use :func:`run_pipeline` from Python (it raises :class:`PipelineError`
subclasses) and :func:`main` as the command-line entry point (it maps those
errors to exit codes: 0 success, 1 a notebook or the report failed, 2 invalid
data, a refused output folder or a usage error, 3 a privacy refusal, 130 an
interrupted run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from src.runner import forkserver, outdir
from src import privacy
from src.present.report import (LESSON_NAME, REPORT_OWN_DATA_NOTE, REPORT_PRIVATE_NOTE,  # noqa: F401
                        REPORT_SYNTHETIC_NOTE, REPORT_TITLE, find_title, heading_anchor, intro_markdown,
                        is_chapter, merge_notebooks, render_report)
from src.config import PUBLISHED_RESULTS_NAME, ROOT, VALIDATED_VARIABLE, data_fingerprint  # noqa: F401
from src.privacy import published_results_path

# The scorecard's names, re-exported from `src.paper` when first asked for (`runner.SCORECARD_COLUMNS`):
# paper imports the audit and the statistics (scipy), which a run needs only at its end (`finish_build`).
_FROM_PAPER = {"PAPER_VS_RUN_PREFIX", "SCORECARD_COLUMNS", "SCORECARD_STATUSES", "build_scorecard", "make_scorecard",
               "read_paper_vs_run", "summarize_scorecard", "write_scorecard"}


def __getattr__(name):
    if name in _FROM_PAPER:
        from src.paper import compare as paper

        return getattr(paper, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

NOTEBOOKS_DIR = ROOT / "notebooks"
DEFAULT_DATA_DIR = ROOT / "data"
DEFAULT_OUT_DIR = ROOT / "outputs"

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
RESERVED_PARAMETERS = ("DATA_DIR", "OUTPUT_DIR")
#: What the notebooks of a run see as DATA_DIR and OUTPUT_DIR: links in the run's stage folder
STAGE_DATA, STAGE_OUT = "DATA", "OUT"
INTERRUPT_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

KERNEL_NAME = "python3"
KERNEL_LOG = "kernel.log"
SOURCE_LINES_SHOWN = 6

Log = Callable[[str], None]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class PipelineError(Exception):
    """Base class of every failure reported by :func:`run_pipeline`.

    ``str(error)`` is a complete human-readable message and ``exit_code`` is
    the exit status :func:`main` returns for it.
    """

    exit_code = 1


class InvalidDataError(PipelineError):
    """The data folder is missing or failed validation (exit code 2)."""

    exit_code = 2


class UnsafeOutputError(PipelineError):
    """The output folder is one the runner refuses to replace (exit code 2)."""

    exit_code = 2


class NoNotebooksError(PipelineError):
    """No notebook matched (exit code 2)."""

    exit_code = 2


class NotebookExecutionError(PipelineError):
    """A notebook raised an error or its kernel failed (exit code 1)."""

    exit_code = 1

    def __init__(self, notebook: str, message: str):
        self.notebook = notebook
        super().__init__(message)


class PrivacyError(PipelineError):
    """The output contains an identifier, a date or a folder name of the input, or an absolute path."""

    exit_code = 3


class Interrupted(PipelineError):
    """The run was interrupted (SIGINT, SIGTERM or SIGHUP); OUT untouched, temporary folders removed."""

    exit_code = 130


class ReportError(PipelineError):
    """The scorecard or the HTML report could not be built (exit code 1)."""

    exit_code = 1


class PublishError(PipelineError):
    """The finished build could not be moved into place (exit code 1)."""

    exit_code = 1


# --------------------------------------------------------------------------
# Notebooks and parameters
# --------------------------------------------------------------------------


def notebook_sort_key(path: Path) -> tuple[int, str]:
    """Sort key putting ``NN_name.ipynb`` files in numeric order of NN."""
    return int(path.name[:2]), path.name


def discover_notebooks(notebooks_dir: Path | None = None, only: str | None = None) -> list[Path]:
    """Return the ``NN_*.ipynb`` notebooks of *notebooks_dir* in numeric order.

    *only*, if given, keeps the notebooks whose file name contains it, or one of its comma-separated
    parts (``"01_,03_"``).
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    found = sorted(folder.glob(NOTEBOOK_GLOB), key=notebook_sort_key)
    if only:
        patterns = [part for part in only.split(",") if part]
        found = [path for path in found if any(pattern in path.name for pattern in patterns)]
    return found


def parse_parameter(text: str) -> tuple[str, object]:
    """Parse one ``NAME=VALUE`` option; VALUE is JSON when it parses (``true``, ``12.5``, ``["a"]``), Python's
    ``True``, ``False`` or ``None`` as in a notebook's parameter cell, else a string.

    Raises ``ValueError`` on a malformed option or a reserved name.
    """
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ValueError(f"expected NAME=VALUE with NAME a Python identifier, got {text!r}")
    if name in RESERVED_PARAMETERS:
        raise ValueError(f"{name} is set by --data/--out, not by -p")
    python_constants = {"True": True, "False": False, "None": None}
    if raw.strip() in python_constants:
        return name, python_constants[raw.strip()]
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name, value


def parse_parameters(items: Iterable[str] | None) -> dict[str, object]:
    """Parse repeated ``-p NAME=VALUE`` options into a dictionary (last wins)."""
    return dict(parse_parameter(item) for item in items or [])


# --------------------------------------------------------------------------
# Safety checks and validation
# --------------------------------------------------------------------------


def _is_within(path: Path, folder: Path) -> bool:
    """True if *path* is *folder* or lies below it (both resolved)."""
    return path == folder or folder in path.parents


def check_output_dir(out_dir: Path, protected: Iterable[Path] = ()) -> None:
    """Raise :class:`UnsafeOutputError` if *out_dir* must not be replaced.

    *out_dir* must be resolved.  *protected* are further folders (the data
    and notebook folders of the run) that must not lie inside OUT, since
    OUT is deleted and regenerated.
    """
    forbidden = {ROOT, ROOT / "data", ROOT / "notebooks", ROOT / "src"}
    try:
        forbidden.add(Path.home().resolve())
    except RuntimeError:  # no home folder known
        pass
    reason = None
    if out_dir in forbidden:
        reason = "it is a project or home folder"
    elif _is_within(ROOT, out_dir):
        reason = "it contains the project"
    elif any(_is_within(Path(p).resolve(), out_dir) for p in protected):
        reason = "it contains the data or the notebooks being run"
    elif out_dir.exists() and not out_dir.is_dir():
        reason = "it exists and is not a folder"
    elif (out_dir / ".git").exists():
        reason = "it holds a .git entry"
    if reason:
        raise UnsafeOutputError(
            f"refusing to use {out_dir} as the output folder: {reason}.\n"
            "The output folder is replaced as a whole by every run; "
            "choose a dedicated folder such as outputs/."
        )
    try:
        outdir.check_replaceable(out_dir)
    except outdir.NotOurs as error:
        raise UnsafeOutputError(str(error)) from error


def validate_data(data_dir: Path, accept_warnings: bool = False, log: Log = print) -> dict:
    """Validate *data_dir* with ``src.validate.load_and_validate``; return its tables.

    Raises :class:`InvalidDataError` carrying the validator's full report (errors,
    or plausibility warnings not acknowledged with *accept_warnings*).
    """
    if not data_dir.is_dir():
        raise InvalidDataError(f"data folder not found: {data_dir}")
    # Imported here so that the runner loads without the validation stack.
    from src.validate import DataValidationError, UnacknowledgedWarnings, check_data, format_report

    try:
        tables, warnings = check_data(data_dir)
        if len(warnings) and not accept_warnings:
            raise UnacknowledgedWarnings(warnings)
    except DataValidationError as error:
        raise InvalidDataError(f"invalid data in {data_dir}:\n{error}") from error
    if len(warnings):
        log(f"accepted (--accept-warnings): {format_report(warnings)}")
    return tables


def without_rfc3987_syntax() -> None:
    """Let jsonschema (below papermill's and nbconvert's nbformat) skip ``rfc3987_syntax``.

    jsonschema imports that optional checker of the ``iri`` formats when it is installed (JupyterLab
    brings it) and compiles 38 grammars on import: about 2 s of every run before the first kernel
    starts. nbformat never checks formats, so the runner's process does without it: an explicit
    call at the start of :func:`run_pipeline` (the module's import changes nothing)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # an ImportError for jsonschema's optional import


# --------------------------------------------------------------------------
# Build folder and execution
# --------------------------------------------------------------------------


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


def _first_lines(source: str, count: int = SOURCE_LINES_SHOWN) -> str:
    """The first *count* lines of a cell source, indented, with an ellipsis."""
    lines = source.splitlines()
    shown = [f"    {line}" for line in lines[:count]]
    if len(lines) > count:
        shown.append(f"    ... ({len(lines) - count} more lines)")
    return "\n".join(shown)


def describe_failure(notebook: Path, error: BaseException) -> str:
    """A readable message for a notebook that failed with *error*."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        return (
            f"notebook {notebook.name} failed at In [{error.exec_count}] (cell index "
            f"{error.cell_index}, from 0, counting papermill's injected-parameters cell)\n"
            f"  {error.ename}: {error.evalue}\n"
            f"  cell source:\n{_first_lines(error.source or '')}"
        )
    return f"notebook {notebook.name} could not be executed\n  {type(error).__name__}: {error}"


def _kernel_log_tail(stage: Path, lines: int = SOURCE_LINES_SHOWN) -> str:
    """The last lines the kernels wrote to their log in *stage*, indented ("" when none)."""
    log = stage / KERNEL_LOG
    if not log.is_file():
        return ""
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n  kernel log (last lines):\n" + "\n".join(f"    {line}" for line in tail) if tail else ""


VOLATILE_PAPERMILL_KEYS = ("start_time", "end_time", "duration")  # clock times in papermill's metadata


def normalise_executed(path: Path) -> None:
    """Make an executed notebook depend only on what it computed: papermill's input and output paths
    read ``notebooks/<name>`` (relative to the project and to OUT, no path of the machine), drop the
    kernel's per-cell ``execution`` timestamps and papermill's start, end and duration (notebook and
    cells), give the cells the ids ``cell-1``, ``cell-2``, ... instead of the random ones papermill
    adds, and join consecutive pieces of the same output stream (the kernel splits printed text at
    arbitrary points)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    papermill_meta = nb.get("metadata", {}).get("papermill", {})
    for key in VOLATILE_PAPERMILL_KEYS:
        papermill_meta.pop(key, None)
    for key in ("input_path", "output_path"):
        if key in papermill_meta:
            papermill_meta[key] = f"notebooks/{path.name}"
    for i, cell in enumerate(nb.get("cells", []), start=1):
        if "id" in cell:
            cell["id"] = f"cell-{i}"
        meta = cell.get("metadata", {})
        meta.pop("execution", None)
        for key in VOLATILE_PAPERMILL_KEYS:
            meta.get("papermill", {}).pop(key, None)
        if "outputs" in cell:
            cell["outputs"] = _join_streams(cell["outputs"])
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _join_streams(outputs: list) -> list:
    """`outputs` with each run of consecutive stream outputs of the same name (stdout, stderr) as one."""
    joined: list = []
    for out in outputs:
        previous = joined[-1] if joined else {}
        if out.get("output_type") == "stream" and previous.get("output_type") == "stream" \
                and previous.get("name") == out.get("name"):
            text = "".join(previous["text"]) + "".join(out["text"])
            joined[-1] = {**previous, "text": text.splitlines(keepends=True)}
        else:
            joined.append(out)
    return joined


# Run by each kernel at start (its IPYTHONDIR is the stage's): a warning names the file that raised it
# without its folder ("UserWarning: ... (survival.py:666)"), so that no path of the machine reaches an
# executed notebook through a warning printed by a library or by src/.
WARNINGS_WITHOUT_PATHS = """\
import os, warnings
def _format_warning(message, category, filename, lineno, line=None):
    return f"{category.__name__}: {message} ({os.path.basename(filename)}:{lineno})\\n"
warnings.formatwarning = _format_warning
"""


def make_stage(data_dir: Path, build: Path) -> Path:
    """A private temporary folder (only this user can open it) where the kernels run: links
    ``DATA`` -> *data_dir* and ``OUT`` -> *build*, and room for the kernels' sockets and connection
    files. The notebooks get the link names as DATA_DIR and OUTPUT_DIR, so what papermill records
    in the executed copies names no folder of the machine."""
    stage = Path(tempfile.mkdtemp(prefix="haic-run-"))
    (stage / STAGE_DATA).symlink_to(data_dir, target_is_directory=True)
    (stage / STAGE_OUT).symlink_to(build, target_is_directory=True)
    (stage / "k").mkdir()  # short: a Unix socket's path must stay under about 100 characters
    startup = stage / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-warnings-without-paths.py").write_text(WARNINGS_WITHOUT_PATHS, encoding="utf-8")
    return stage


def declared_parameters(notebook: Path) -> set[str] | None:
    """The names the parameters cell of *notebook* assigns (papermill's own reading of it), or None when
    the notebook has no parameters cell (then every parameter is passed, as papermill injects them)."""
    from papermill.inspection import _infer_parameters
    from papermill.iorw import load_notebook_node

    nb = load_notebook_node(str(notebook))
    if not any("parameters" in cell.get("metadata", {}).get("tags", []) for cell in nb.cells):
        return None
    return {parameter.name for parameter in _infer_parameters(nb, name=KERNEL_NAME, language="python")}


def notebook_parameters(notebook: Path, parameters: Mapping[str, object]) -> dict[str, object]:
    """The *parameters* that *notebook* declares: papermill warns "Passed unknown parameter" for any other,
    a line about the runner's plumbing (ACCEPT_WARNINGS given to every notebook, also to one that does not
    validate the data) that the user cannot act on. A parameter that no notebook of the run declares is
    reported once by :func:`run_pipeline` instead."""
    declared = declared_parameters(notebook)
    return dict(parameters) if declared is None else {k: v for k, v in parameters.items() if k in declared}


def execute_notebook(notebook: Path, stage: Path, parameters: Mapping[str, object]) -> Path:
    """Execute *notebook* with papermill in the *stage* folder (:func:`make_stage`), writing its
    outputs into the build folder that ``stage/OUT`` links to.

    Returns the executed copy ``build/notebooks/<name>``.  papermill's own
    exceptions propagate.
    """
    import papermill

    build = (stage / STAGE_OUT).resolve()
    executed = build / "notebooks" / notebook.name
    executed.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(notebook),
        str(executed),
        parameters=notebook_parameters(notebook, {"DATA_DIR": STAGE_DATA, "OUTPUT_DIR": STAGE_OUT, **parameters}),
        kernel_name=KERNEL_NAME,
        language="python",
        cwd=None,  # papermill's cwd is os.chdir, process-wide: the kernel manager starts the kernel in stage
        progress_bar=False,
        log_output=False,
        # written once at the end (and on a failure), not after every cell: papermill's default rewrites and
        # re-validates the whole notebook some 500 times a run, seconds of CPU that the kernels need
        request_save_on_cell_execute=False,
        kernel_manager_class=ipc_kernel_manager(stage / "k", fork_socket(stage)),
    )
    return executed


FORK_SOCKET = "fork"  # in the stage's socket folder: the run's fork server (src.runner.forkserver), while it runs


def fork_socket(stage: Path) -> Path | None:
    """The socket of the fork server of the run staged in *stage*, or None when it has none."""
    path = stage / "k" / FORK_SOCKET
    return path if (stage / "k" / f"{FORK_SOCKET}.on").exists() else None


def start_fork_server(stage: Path, notebooks: Sequence[Path]):
    """Start the run's fork server (:mod:`src.forkserver`) in *stage*, warming the modules *notebooks*
    import; None where kernels cannot be forked (they then start as usual)."""
    if not forkserver.available():
        return None
    server = forkserver.start(stage / "k" / FORK_SOCKET, forkserver.imports_of(notebooks), stage, stage / KERNEL_LOG)
    (stage / "k" / f"{FORK_SOCKET}.on").touch()
    return server


def stop_fork_server(stage: Path | None, server) -> None:
    """Stop the run's fork server (any kernel still running ends with it) and remove its socket."""
    forkserver.stop(server)
    if stage is not None:
        for name in (FORK_SOCKET, f"{FORK_SOCKET}.on"):
            (stage / "k" / name).unlink(missing_ok=True)


VALIDATED_FILE = "validated.pkl"  # in the stage folder: the tables the runner validated (cohort.load_cohort)


def save_validated(stage: Path, data_dir: Path, tables: Mapping[str, object], warnings_accepted: bool) -> Path:
    """Write the validated *tables* into *stage* with the fingerprint of the data's bytes, for the kernels'
    ``cohort.load_cohort`` (which uses them only while the data are unchanged, instead of validating
    them again in every notebook). The stage folder is private to this user and removed after the run."""
    import pickle

    path = stage / VALIDATED_FILE
    record = {"fingerprint": data_fingerprint(data_dir), "warnings": bool(warnings_accepted),
              "tables": dict(tables)}
    path.write_bytes(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    return path


def ipc_kernel_manager(folder: Path, fork_socket: Path | None = None):
    """A kernel-manager class whose kernels talk to papermill over Unix sockets in *folder* (a
    temporary folder only this user can open) instead of unencrypted TCP ports on localhost, which
    other users of the machine could listen to (ipykernel warns about them), write their
    connection files there too (not in the user's Jupyter runtime folder), and send their own
    output (log lines, a traceback when Ctrl-C reaches them) to ``kernel.log`` beside that folder.
    With *fork_socket*, the kernels are forked by the run's fork server listening there
    (:mod:`src.forkserver`) instead of starting Python and the stack's imports each time."""
    from jupyter_client.manager import AsyncKernelManager

    class IpcKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(folder / secrets.token_hex(4))
            self.connection_file = f"{self.ip}.json"

        def format_kernel_cmd(self, extra_arguments=None):
            command = super().format_kernel_cmd(extra_arguments=extra_arguments)
            if fork_socket is None:
                return command
            return forkserver.client_command(fork_socket, command) or command

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # the kernel's own stderr (its log, a traceback when Ctrl-C reaches it) goes to a file
            # beside the sockets, read back only when the kernel itself fails (describe_failure)
            # started in the stage folder (``cwd``: the notebooks' DATA and OUT are relative to it); not by
            # os.chdir, which would move every thread of a parallel run (papermill's own ``cwd``)
            # and is told where the tables validated by the runner are (if it wrote them: save_validated)
            env = dict(kw.get("env") or os.environ)
            env["IPYTHONDIR"] = str(folder.parent / "ipython")  # warnings printed without paths (make_stage)
            if (folder.parent / VALIDATED_FILE).is_file():
                env[VALIDATED_VARIABLE] = str(folder.parent / VALIDATED_FILE)
            with open(folder.parent / KERNEL_LOG, "ab") as log:
                await super()._async_launch_kernel(kernel_cmd, **{**kw, "cwd": str(folder.parent), "env": env,
                                                                  "stdout": log, "stderr": log})
            process = getattr(getattr(self, "provisioner", None), "process", None)
            if process is not None:  # so that an interrupted parallel run can stop it (_stop_kernels)
                self._pid_file().write_text(str(process.pid))

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            # the kernel is gone: its pid may soon belong to another process, which must never be killed
            self._pid_file().unlink(missing_ok=True)
            await super()._async_cleanup_resources(restart=restart)

        def _pid_file(self) -> Path:
            return folder / f"{Path(self.ip).name}.pid"

    return IpcKernelManager


AFTER_ALL_EARLIER = ("scorecard",)  # a notebook whose stem ends so reads the files of every earlier one


def waits_for(notebook: Path, notebooks: Sequence[Path]) -> list[Path]:
    """The notebooks *notebook* must wait for: every earlier one for the scorecard (it reads their
    paper_vs_run files), none for the others (each reads only the data)."""
    if notebook.stem.endswith(AFTER_ALL_EARLIER):
        return [n for n in notebooks if notebook_sort_key(n) < notebook_sort_key(notebook)]
    return []


START_EARLY_KEY = "start_early"  # notebook metadata {"haic": {"start_early": true}}: a long notebook nothing waits for


def starts_early(notebook: Path) -> bool:
    """Whether *notebook* asks to be started before the notebooks ahead of it (its metadata's
    ``haic.start_early``): a long notebook that would otherwise run last, alone on a core."""
    metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    return bool(metadata.get("haic", {}).get(START_EARLY_KEY, False))


def start_order(notebooks: Sequence[Path]) -> list[Path]:
    """The order in which a parallel run starts *notebooks*: those that start early (:func:`starts_early`),
    then the others, each group in numeric order. A run one at a time keeps numeric order."""
    early = [nb for nb in notebooks if starts_early(nb)]
    return early + [nb for nb in notebooks if nb not in early]


JOBS_VARIABLE = "HAIC_JOBS"  # "auto" (the cores) or a number; unset: one notebook at a time (make run sets auto)


def default_jobs(count: int) -> int:
    """How many notebooks run at once: ``$HAIC_JOBS`` (a number, or "auto" for the cores this process
    may use), at most *count*; 1 when it is unset."""
    wanted = os.environ.get(JOBS_VARIABLE, "").strip()
    if not wanted:
        return 1
    if wanted.isdigit():
        return max(1, min(int(wanted), count))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, count))


def _run_one(notebook: Path, stage: Path, parameters: Mapping[str, object]) -> Path:
    path = execute_notebook(notebook, stage, parameters)
    normalise_executed(path)
    return path


def _failure(notebook: Path, stage: Path, error: BaseException) -> NotebookExecutionError:
    from papermill.exceptions import PapermillExecutionError

    message = describe_failure(notebook, error)
    if not isinstance(error, PapermillExecutionError):  # the kernel itself failed: say what it wrote
        message += _kernel_log_tail(stage)
    return NotebookExecutionError(notebook.name, message)


def execute_all(
    notebooks: Sequence[Path],
    stage: Path,
    parameters: Mapping[str, object],
    log: Log = print,
    jobs: int | None = None,
) -> list[Path]:
    """Execute *notebooks* in *stage* (:func:`make_stage`), up to *jobs* at a time (default: the
    cores, :func:`default_jobs`), each after the notebooks it waits for (:func:`waits_for`), in
    :func:`start_order`, logging one progress line each. Every notebook writes only its own files, so
    the outputs are the same bytes as those of a run one after another (``jobs=1``).

    Raises :class:`NotebookExecutionError` for the first failing notebook (in notebook order), after
    the running ones have finished; no new notebook starts after a failure. On an interrupt the
    running kernels are stopped before KeyboardInterrupt goes on. Returns the executed copies
    (normalised: :func:`normalise_executed`) in notebook order.

    The notebooks run in worker threads also one at a time (``jobs=1``, in numeric order): the main
    thread only waits, so that an interrupt is raised there, never inside papermill's event loop
    (where it could leave the cell's tasks behind, which then printed tracebacks of a dead kernel).
    """
    import concurrent.futures as cf

    notebooks = list(notebooks)
    total = len(notebooks)
    jobs = default_jobs(total) if jobs is None else max(1, int(jobs))
    number = {nb: i for i, nb in enumerate(notebooks, start=1)}
    done: dict[Path, Path] = {}
    failed: dict[Path, BaseException] = {}
    lines: dict[Path, str] = {}
    order = list(notebooks)
    pending = start_order(notebooks) if jobs > 1 else list(notebooks)
    running: dict[cf.Future, tuple[Path, float]] = {}
    pool = cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix=f"notebook-{secrets.token_hex(4)}")
    try:
        while pending or running:
            ready = [nb for nb in pending if all(w in done for w in waits_for(nb, notebooks))]
            while ready and len(running) < jobs and not failed:
                notebook = ready.pop(0)
                pending.remove(notebook)
                running[pool.submit(_run_one, notebook, stage, parameters)] = (notebook, time.monotonic())
            if not running:
                break  # a failure, or a notebook waiting for one that failed
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: number[running[f][0]]):
                notebook, started = running.pop(future)
                prefix = f"[{number[notebook]}/{total}] {notebook.stem} ..."
                error = future.exception()
                if error is None:
                    done[notebook] = future.result()
                    lines[notebook] = f"{prefix} ok ({time.monotonic() - started:.1f} s)"
                else:
                    failed[notebook] = error
                    lines[notebook] = f"{prefix} FAILED ({time.monotonic() - started:.1f} s)"
            while order and order[0] in lines:  # progress lines in notebook order, as soon as they can be
                log(lines[order.pop(0)])
    except BaseException:
        _stop_notebooks(stage, pool)
        raise
    pool.shutdown(wait=True)
    for notebook in order:
        if notebook in lines:
            log(lines[notebook])
    if failed:
        first = min(failed, key=number.get)
        raise _failure(first, stage, failed[first]) from failed[first]
    return [done[nb] for nb in notebooks]


def _stop_notebooks(stage: Path, pool) -> None:
    """After an interrupt: start no further notebook and kill the running kernels until every notebook
    thread has ended (a kernel being started when the interrupt came has no pid file yet: it is killed
    as soon as it has one, so that its notebook does not run to its end). The threads are found by the
    pool's name, not its list, where an interrupt inside ``submit`` may not have put a started one yet."""
    pool.shutdown(wait=False, cancel_futures=True)
    prefix = f"{pool._thread_name_prefix}_"
    while True:
        _stop_kernels(stage)
        threads = [t for t in threading.enumerate() if t.name.startswith(prefix)]
        if not threads:
            return
        threads[0].join(timeout=0.2)


def _stop_kernels(stage: Path) -> None:
    """Kill the kernels still running in *stage* (their pids are recorded beside their sockets)."""
    for pid_file in (stage / "k").glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


# --------------------------------------------------------------------------
# Scorecard
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Publishing
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _handling(names, handler):
    """While inside, *handler* handles the signals *names* (those this system has); the previous
    handlers, which it yields, are put back on leaving. Only the main thread may set handlers:
    elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    previous = {}
    try:  # a signal while the handlers are being swapped in still finds every swapped one put back
        for n in names:
            if hasattr(signal, n):
                previous[n] = signal.signal(getattr(signal, n), handler)
        yield previous
    finally:
        for n, old in previous.items():
            signal.signal(getattr(signal, n), old)


@contextlib.contextmanager
def signals_held():
    """Hold SIGINT, SIGTERM and SIGHUP back while inside (they take effect on leaving), so that swapping
    the results into place is never cut in half.

    The Python handlers are swapped for one that only notes the signal, and the first noted signal is
    handed to the previous handler on leaving. (A blocked signal mask would not do: it holds only the
    calling thread, and the kernel then hands a signal sent to the process to another thread, such as
    one of numpy's BLAS threads, whose C handler lets Python raise in the main thread at once.)"""
    pending: list[int] = []
    previous: dict = {}
    try:
        with _handling(INTERRUPT_SIGNALS, lambda signum, frame: pending.append(signum)) as previous:
            yield
    finally:
        if pending:
            signum = pending[0]
            handler = previous[signal.Signals(signum).name]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)  # its default action, now that the handler is back


def swap_into_place(build: Path, out_dir: Path, log: Log = print) -> None:
    """Replace *out_dir* by *build* with two renames (call it inside :func:`signals_held`).

    OUT is checked once more (:func:`src.outdir.check_replaceable`: nothing was
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


# --------------------------------------------------------------------------
# Pipeline
# --------------------------------------------------------------------------


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


def own_text(notebooks: Sequence[Path], parameters: Mapping[str, object]) -> str:
    """The text the run itself brings: every cell of the notebooks and the parameters given.

    A date or a word found here (a documented era start, a default cut-off) is not patient data,
    so the leak search does not count it (:func:`src.privacy.find_leaks`)."""
    parts = [json.dumps(dict(parameters), sort_keys=True, default=str)]
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        parts.extend("".join(cell.get("source", "")) for cell in cells)
    return "\n".join(parts)


def machine_paths(*folders: Path) -> set[str]:
    """Absolute paths that must not appear in a shared output: the given folders, the project and
    the home folder (each as given and resolved)."""
    paths = {ROOT, *folders}
    try:
        paths.add(Path.home())
    except RuntimeError:
        pass
    return {str(p) for folder in paths for p in (Path(folder), Path(folder).resolve())} - {"/"}


def check_privacy(build: Path, tables: Mapping[str, object] | None, names: Iterable[str] = (),
                  allowed: str = "", log: Log = print) -> None:
    """Refuse to publish (:class:`PrivacyError`) an output that contains one of *names* (absolute
    paths, the data folder's name) or, when *tables* are given (a private run), an identifier or a
    date of the input. Whatever also appears in *allowed* (:func:`own_text`) is not counted."""
    sensitive = privacy.sensitive_values(tables or {}, names)
    leaks = privacy.find_leaks(build, sensitive, allowed)
    if leaks:
        shown = "\n".join(f"  {Path(f).relative_to(build)}: {s}" for f, s in leaks[:20])
        more = f"\n  ... and {len(leaks) - 20} more" if len(leaks) > 20 else ""
        advice = ""
        if any(s.startswith("id ") and s[3:].isdigit() for _, s in leaks):
            advice = ("\nIdentifiers made of digits only are found wherever that number is printed (a count, "
                      "a table row). Replace patient_id by pseudonyms with a letter (e.g. P0012); "
                      "the results do not depend on them.")
        raise PrivacyError(f"{len(leaks)} identifier(s), date(s) or folder name(s) of the input, or path(s) of "
                           f"this machine, found in the output; nothing was published:\n{shown}{more}{advice}")
    what = "identifier, date or folder name of the input" if tables is not None else "name of the data folder"
    log(f"privacy check: no {what} and no path of this machine in the output")


@contextlib.contextmanager
def interrupts_raise():
    """While inside, SIGINT (Ctrl-C), SIGTERM and SIGHUP raise KeyboardInterrupt, so that the run
    cleans up after itself (only in the main thread). SIGINT too, rather than Python's own handler:
    a process started in the background by a shell (``make run &``, ``make test &``) inherits SIGINT
    ignored, and Python then installs no handler for it, so that a run would go on to its end after
    an interrupt sent to it."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    with _handling(INTERRUPT_SIGNALS, interrupt):
        yield


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
        what an earlier run wrote (:mod:`src.outdir`), and untouched on failure.
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
        :func:`src.report.is_chapter`) and write ``lesson.html`` (with *report*) instead of the
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
    check_output_dir(out, protected={p.parent for p in selected})
    tables = validate_data(data, accept_warnings, log)
    published_path = published_results_path(data, Path(published_results) if published_results else None)
    bundled = privacy.is_bundled(data)
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
    allowed = own_text(selected, parameters)

    build = stage = server = None
    published = False
    try:
        with interrupts_raise():
            with signals_held():  # an interrupt comes once these are known, so that they are removed
                build = make_build_dir(out)
                stage = make_stage(data, build)
                server = start_fork_server(stage, selected)
            save_validated(stage, data, tables, accept_warnings)
            executed = execute_all(selected, stage, parameters, log)
            stop_fork_server(stage, server)
            finish_build(build, executed, bundled, private, published_path, log, report, lesson)
            names = machine_paths(data, out, build, stage, folder) | ({data.name} if not bundled else set())
            check_privacy(build, tables if private else None, names, allowed, log)
            outdir.write_stamp(build)
            with signals_held():
                swap_into_place(build, out, log)
                published = True
    except KeyboardInterrupt as error:
        if published:  # the signal came while the results were being swapped in: they are complete
            log(f"interrupted ({str(error) or 'SIGINT'}) after the results were published")
            return out
        raise Interrupted(f"interrupted ({str(error) or 'SIGINT'}): {out} was left as it was and the "
                          "temporary folders were removed") from None
    finally:
        stop_fork_server(stage, server)
        for temporary in (build, stage):
            if temporary is not None and temporary.exists():
                shutil.rmtree(temporary, ignore_errors=True)
    log(f"wrote {out}")
    return out


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


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


if __name__ == "__main__":
    sys.exit(main())
