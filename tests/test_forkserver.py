"""The fork server (src/runner/forkserver.py): kernels forked from one warm process behave as kernels started
one by one: each its own process and namespace, interruptible, gone with its client, gone with the
server; a run gives the same bytes with and without it."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from src import runner
from src.runner import forkserver, kernels, params, pipeline

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is Linux-only")


def write_notebook(folder: Path, name: str, *sources: str) -> Path:
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
             for i, s in enumerate(sources)]
    path = folder / f"{name}.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_imports_of_lists_the_modules_the_cells_import_at_their_top_level(tmp_path):
    one = write_notebook(tmp_path, "01_a", "import numpy as np\nfrom src import helpers\nfrom src.present import tables\n"
                         "x = 1",
                         "%matplotlib inline\nimport not_seen_a_magic_cell")
    two = write_notebook(tmp_path, "02_b", "import numpy\nfrom matplotlib_inline import backend_inline\n"
                         "def f():\n    import not_top_level\nfrom . import relative")
    assert forkserver.imports_of([one, two]) == ["numpy", "src", "src.helpers", "src.present", "src.present.tables"]


def test_client_command_replaces_only_an_ipykernel_launch():
    cmd = ["/v/bin/python", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "/k/a.json"]
    assert forkserver.client_command(Path("/k/fork"), cmd) == \
        [sys.executable, "-m", "src.runner.forkserver", "client", "/k/fork", "--", "-f", "/k/a.json"]
    assert forkserver.client_command(Path("/k/fork"), ["R", "--slave", "-f", "x"]) is None


@pytest.fixture()
def server():
    """A fork server in a short private folder (Unix socket paths are limited to about 100 characters)."""
    folder = Path(tempfile.mkdtemp(prefix="fs-", dir="/tmp"))
    (folder / "k").mkdir()
    proc = forkserver.start(folder / "k" / "fork", ["json"], folder, folder / "kernel.log")
    yield folder, proc
    forkserver.stop(proc)
    subprocess.run(["rm", "-rf", str(folder)], check=False)


async def _kernel(folder: Path):
    manager = kernels.ipc_kernel_manager(folder / "k", folder / "k" / "fork")(kernel_name=params.KERNEL_NAME)
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=120)
    return manager, client


async def _run(client, code: str, timeout: float = 60) -> tuple[str, str]:
    """Execute *code*; returns (status, printed text)."""
    printed = []

    def output(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            printed.append(message["content"]["ename"])

    reply = await client.execute_interactive(code, timeout=timeout, output_hook=output)
    return reply["content"]["status"], "".join(printed)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] if Path(f"/proc/{pid}").exists() else "X"
    return state != "Z"


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_each_forked_kernel_is_a_process_of_its_own_with_its_own_namespace(server):
    folder, proc = server

    async def scenario():
        (m1, c1), (m2, c2) = await _kernel(folder), await _kernel(folder)
        try:
            _, pid1 = await _run(c1, "import os; secret = 41; print(os.getpid(), os.getppid(), os.getcwd())")
            _, pid2 = await _run(c2, "import os; print(os.getpid(), os.getppid())")
            status, text = await _run(c2, "print(secret)")
            client_pid = m1.provisioner.process.pid
            return pid1.split(), pid2.split(), status, text, client_pid
        finally:
            for m, c in ((m1, c1), (m2, c2)):
                c.stop_channels()
                await m.shutdown_kernel()

    (k1, parent1, cwd), (k2, parent2), status, text, client_pid = asyncio.run(scenario())
    assert k1 != k2 and parent1 == parent2 == str(proc.pid)  # both forked by the server, not by their clients
    assert int(k1) != client_pid
    assert Path(cwd) == folder  # the client's working folder (the runner's stage)
    assert status == "error" and "NameError" in text  # nothing passes from one kernel to the other
    assert _wait_gone(int(k1)) and _wait_gone(int(k2))  # a shut-down kernel is gone (and reaped: no zombie)


def test_an_interrupt_reaches_the_forked_kernel_through_its_client(server):
    folder, _ = server

    async def scenario():
        manager, client = await _kernel(folder)
        try:
            running = asyncio.ensure_future(_run(client, "import time\ntime.sleep(30)"))
            await asyncio.sleep(1.5)
            started = time.monotonic()
            await manager.interrupt_kernel()
            result = await running
            return result, time.monotonic() - started, await _run(client, "print('still alive')")
        finally:
            client.stop_channels()
            await manager.shutdown_kernel()

    (status, text), seconds, after = asyncio.run(scenario())
    assert status == "error" and "KeyboardInterrupt" in text and seconds < 10
    assert after == ("ok", "still alive\n")


def test_a_killed_client_takes_its_kernel_with_it_and_the_server_takes_the_rest(server):
    folder, proc = server

    async def scenario():
        (m1, c1), (m2, c2) = await _kernel(folder), await _kernel(folder)
        _, k1 = await _run(c1, "import os; print(os.getpid())")
        _, k2 = await _run(c2, "import os; print(os.getpid())")
        c1.stop_channels()
        c2.stop_channels()
        os.kill(m1.provisioner.process.pid, signal.SIGKILL)  # what the runner does to a kernel on Ctrl-C
        return int(k1), int(k2)

    k1, k2 = asyncio.run(scenario())
    assert _wait_gone(k1)
    assert _alive(k2)
    forkserver.stop(proc)
    assert proc.returncode == 0
    assert _wait_gone(k2)


def test_a_run_gives_the_same_bytes_with_and_without_the_fork_server(tmp_path, monkeypatch):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(notebooks, "01_plot",
                   "import matplotlib.pyplot as plt\nimport numpy as np\nimport pandas as pd",
                   "fig, ax = plt.subplots(figsize=(2, 2)); ax.plot([1, 3, 2]); plt.show()",
                   "display(pd.DataFrame({'x': np.arange(3)}))\nprint('done')")
    data = tmp_path / "cohort_q"  # a folder name the output does not otherwise contain (the privacy check)
    data.mkdir()
    monkeypatch.setattr(pipeline, "validate_data", lambda *a, **k: {})
    monkeypatch.setattr(pipeline, "finish_build", lambda *a, **k: None)
    started = []
    real_start = pipeline.start_fork_server
    monkeypatch.setattr(pipeline, "start_fork_server", lambda *a: started.append(real_start(*a)) or started[-1])
    runs = {}
    for switch in ("1", "0"):
        monkeypatch.setenv(forkserver.SWITCH_VARIABLE, switch)
        out = tmp_path / f"out{switch}"
        runner.run_pipeline(data, out, notebooks_dir=notebooks, log=lambda line: None)
        runs[switch] = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    executed = runs["1"][Path("notebooks/01_plot.ipynb")].decode()
    assert "image/png" in executed and "done" in executed  # the inline figure is there
    assert started[0] is not None and started[1] is None  # forked in the first run only
    assert runs["1"] == runs["0"]


def test_kernels_end_when_their_server_is_killed(server):
    # like a kernel started the usual way, whose parent poller ends it when the runner dies
    folder, proc = server

    async def scenario():
        manager, client = await _kernel(folder)
        _, pid = await _run(client, "import os; print(os.getpid())")
        client.stop_channels()
        return int(pid)

    pid = asyncio.run(scenario())
    proc.kill()
    proc.wait()
    assert _wait_gone(pid, seconds=15)
