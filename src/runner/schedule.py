"""Running the notebooks of a run side by side: up to ``HAIC_JOBS`` at a time in worker threads, each after
the notebooks it waits for, with one progress line each in notebook order; a readable message for a
notebook that failed; and, on an interrupt, the running kernels stopped before it goes on."""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence

from src.runner.errors import Log, NotebookExecutionError
from src.runner.kernels import KERNEL_LOG, execute_notebook, normalise_executed
from src.runner.params import notebook_sort_key

SOURCE_LINES_SHOWN = 6  # lines of a failing cell (and of the kernel log) shown in its message


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
    pool's name, not its list, where an interrupt inside ``submit`` may not have put a started one yet.
    Such a thread may also not be running yet (``Thread.start`` interrupted while it waited for the thread):
    it cannot be joined, so it is given a moment to start (a cancelled notebook's thread then ends at once),
    and one whose start never happened is left, since it will never run."""
    pool.shutdown(wait=False, cancel_futures=True)
    prefix = f"{pool._thread_name_prefix}_"
    deadline = time.monotonic() + 2.0
    while True:
        _stop_kernels(stage)
        threads = [t for t in threading.enumerate() if t.name.startswith(prefix)]
        running = [t for t in threads if t.is_alive()]
        if running:
            running[0].join(timeout=0.2)
        elif threads and time.monotonic() < deadline:
            time.sleep(0.01)  # started inside submit when the interrupt came: not running yet
        else:
            return


def _stop_kernels(stage: Path) -> None:
    """Kill the kernels still running in *stage* (their pids are recorded beside their sockets)."""
    for pid_file in (stage / "k").glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
