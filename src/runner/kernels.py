"""The kernels of a run: the private stage folder they run in, how they are started (over Unix sockets, forked
by the run's fork server of :mod:`src.runner.forkserver` when it runs), how one notebook is executed with
papermill, and how its executed copy is made to depend only on what it computed.

The kernels run in a private temporary *stage* folder holding two links, ``DATA`` (to the data folder) and
``OUT`` (to the build folder), and the notebooks get ``DATA_DIR = "DATA"`` and ``OUTPUT_DIR = "OUT"``: no path
of the machine and no name of the data folder reaches an executed notebook. The kernels talk to papermill
over Unix sockets in that stage folder, not over TCP ports on localhost (:func:`ipc_kernel_manager`), and
their connection files live there too, so removing it removes every kernel file. The kernels are forked
from one process that has imported the stack once (``HAIC_FORK=0`` starts each as its own Python)."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from src.config import VALIDATED_VARIABLE, data_fingerprint
from src.runner import forkserver
from src.runner.params import KERNEL_NAME, notebook_parameters

#: What the notebooks of a run see as DATA_DIR and OUTPUT_DIR: links in the run's stage folder
STAGE_DATA, STAGE_OUT = "DATA", "OUT"
KERNEL_LOG = "kernel.log"  # in the stage folder: what the kernels print themselves


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


FORK_SOCKET = "fork"  # in the stage's socket folder: the run's fork server (src.runner.forkserver), while it runs


def fork_socket(stage: Path) -> Path | None:
    """The socket of the fork server of the run staged in *stage*, or None when it has none."""
    path = stage / "k" / FORK_SOCKET
    return path if (stage / "k" / f"{FORK_SOCKET}.on").exists() else None


def start_fork_server(stage: Path, notebooks: Sequence[Path]):
    """Start the run's fork server (:mod:`src.runner.forkserver`) in *stage*, warming the modules *notebooks*
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


def ipc_kernel_manager(folder: Path, fork_socket: Path | None = None):
    """A kernel-manager class whose kernels talk to papermill over Unix sockets in *folder* (a
    temporary folder only this user can open) instead of unencrypted TCP ports on localhost, which
    other users of the machine could listen to (ipykernel warns about them), write their
    connection files there too (not in the user's Jupyter runtime folder), and send their own
    output (log lines, a traceback when Ctrl-C reaches them) to ``kernel.log`` beside that folder.
    With *fork_socket*, the kernels are forked by the run's fork server listening there
    (:mod:`src.runner.forkserver`) instead of starting Python and the stack's imports each time."""
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
