"""`make bench`: the wall time of `make run` beside its floor, and their ratio.

- run: `python -m src.runner` on DATA into a temporary OUT, notebooks side by side (HAIC_JOBS=auto);
- floor: as many kernels as notebooks, started one after another, each executing only its notebook's
  import cell (the stack's imports) and shut down: what no scheduling can save;
- work: the notebooks executed one after another in one papermill run each, and the durations of their
  cells summed, leaving out the parameter cells and the import cell (imports, paths, loading): the
  analyses, tables and figures themselves. No schedule on N cores finishes them in under work / N, so
  (work / N) / floor is the least ratio any runner could reach with these notebooks.

Prints the numbers; the goal of issue 12 is a ratio of at most 0.8 on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from src.config import ROOT
from src.runner.params import KERNEL_NAME, discover_notebooks


def import_cell(notebook: Path) -> str:
    """The first code cell of *notebook* that imports from `src` (its import cell)."""
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "from src import" in source:
            return "\n".join(line for line in source.splitlines() if "import" in line)
    return "import pandas, matplotlib"


def floor_seconds(notebooks) -> float:
    """Start one kernel per notebook, one after another, the way the runner starts them (Unix sockets in
    a private folder: `kernels.ipc_kernel_manager`), run only the notebook's import cell, shut it down."""
    import asyncio

    from src.runner.kernels import ipc_kernel_manager

    stage = Path(tempfile.mkdtemp(prefix="haic-bench-floor-"))
    (stage / "k").mkdir()
    manager = ipc_kernel_manager(stage / "k")

    async def one(code: str) -> None:
        km = manager(kernel_name=KERNEL_NAME)
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=300)
            reply = await kc.execute_interactive(code, timeout=300)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"the import cell failed in the floor's kernel: {reply['content'].get('evalue')}")
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    started, cpu = time.monotonic(), time.process_time()
    try:
        for notebook in notebooks:
            asyncio.run(one(import_cell(notebook)))
        return time.monotonic() - started
    finally:
        _OWN["floor_seconds"] = time.process_time() - cpu
        shutil.rmtree(stage, ignore_errors=True)


def cell_seconds(notebooks, data: str) -> dict:
    """{notebook stem: seconds of its cells}, each notebook executed by papermill on *data* into a temporary
    folder, one after another; parameter cells and the import cell (:func:`import_cell`) left out."""
    import papermill as pm

    from src.runner.kernels import ipc_kernel_manager

    tmp = Path(tempfile.mkdtemp(prefix="haic-bench-work-"))
    (tmp / "k").mkdir()
    try:
        seconds = {}
        for notebook in notebooks:
            executed = tmp / notebook.name
            pm.execute_notebook(str(notebook), str(executed), kernel_name=KERNEL_NAME, cwd=str(ROOT),
                                parameters={"DATA_DIR": str(Path(data).resolve()), "OUTPUT_DIR": str(tmp / "out")},
                                progress_bar=False, log_output=False,
                                kernel_manager_class=ipc_kernel_manager(tmp / "k"))  # Unix sockets, as the runner
            code = [c for c in json.loads(executed.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"
                    and not {"parameters", "injected-parameters"} & set(c["metadata"].get("tags", []))]
            first_import = next((i for i, c in enumerate(code) if "from src import" in "".join(c["source"])), None)
            seconds[notebook.stem] = sum(c["metadata"]["papermill"]["duration"] or 0.0
                                         for i, c in enumerate(code) if i != first_import)
        return seconds
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (the runner and its kernels, the floor's kernels)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_OWN = {}


def own_cpu_of(function) -> float:
    """CPU seconds this process spent in *function*'s last call (the floor's client side), 0 if unknown."""
    return _OWN.get(function.__name__, 0.0)


def load_average() -> str:
    """The machine's load (1, 5, 15 minutes) and cores, for reading the numbers."""
    try:
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
    except OSError:
        return "load average unknown"


def run_seconds(data: str, keep=None) -> float:
    """Wall seconds of ``python -m src.runner`` on *data* into a temporary OUT (notebooks side by side); with
    *keep* (a folder) the executed notebooks are copied there first."""
    out = Path(tempfile.mkdtemp(prefix="haic-bench-")) / "out"
    env = {**os.environ, "HAIC_JOBS": os.environ.get("HAIC_JOBS") or "auto"}
    started = time.monotonic()
    try:
        subprocess.run([sys.executable, "-m", "src.runner", "--data", data, "--out", str(out)], check=True,
                       cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        seconds = time.monotonic() - started
        if keep is not None:
            shutil.copytree(out, keep, dirs_exist_ok=True)
        return seconds
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def finish_seconds(run_out: Path, data: str) -> float:
    """Seconds of what the runner does after the last notebook (`pipeline.finish_build`: scorecard, Word
    tables, report), redone on a copy of a finished run's output *run_out*."""
    from src import privacy
    from src.runner.pipeline import finish_build

    build = Path(tempfile.mkdtemp(prefix="haic-bench-finish-")) / "build"
    try:
        shutil.copytree(run_out, build)
        executed = discover_notebooks(build / "notebooks")
        data_path = Path(data).resolve()
        started = time.monotonic()
        finish_build(build, executed, privacy.is_bundled(data_path), privacy.private_mode(None, data_path),
                     privacy.published_results_path(data_path, None), log=lambda message: None)
        return time.monotonic() - started
    finally:
        shutil.rmtree(build.parent, ignore_errors=True)


def least_seconds(floor: float, kernels: int, work: float, finish: float, cores: int) -> float:
    """The least wall time any schedule of these notebooks can reach: one kernel started with the stack's
    imports (the floor's share of one notebook) before the first cell, the cells' work spread over every
    core without loss, then the scorecard and report, which come after the notebooks (issue 12)."""
    return floor / kernels + work / cores + finish


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data")
    args = parser.parse_args(argv)
    notebooks = discover_notebooks()
    print(f"before: {load_average()}")
    cpu = children_cpu()
    kept = Path(tempfile.mkdtemp(prefix="haic-bench-run-"))
    try:
        run = run_seconds(args.data, keep=kept / "out")
        run_cpu, cpu = children_cpu() - cpu, children_cpu()
        floor = floor_seconds(notebooks)
        floor_cpu = children_cpu() - cpu + own_cpu_of(floor_seconds)
        print(f"make run: {run:.1f} s; floor ({len(notebooks)} kernels and imports, one after another): {floor:.1f} s; "
              f"ratio {run / floor:.2f} (goal: at most 0.8 on 2 cores)")
        print(f"CPU time (user + system, load-independent): make run {run_cpu:.1f} s, floor {floor_cpu:.1f} s; "
              f"on {os.cpu_count()} idle cores the run needs at least {run_cpu / (os.cpu_count() or 1):.1f} s")
        cores = os.cpu_count() or 1
        work = cell_seconds(notebooks, args.data)
        finish = finish_seconds(kept / "out", args.data)
    finally:
        shutil.rmtree(kept, ignore_errors=True)
    total = sum(work.values())
    least = least_seconds(floor, len(notebooks), total, finish, cores)
    print(f"work: the notebooks' own cells (no imports, no kernels) take {total:.1f} s one after another ("
          + ", ".join(f"{k[:2]} {v:.1f}" for k, v in work.items()) + f"); scorecard and report after them {finish:.1f} s")
    print(f"least possible on {cores} cores: one kernel with the imports {floor / len(notebooks):.1f} s + cells "
          f"{total / cores:.1f} s + scorecard and report {finish:.1f} s = {least:.1f} s: ratio at least "
          f"{least / floor:.2f} for any schedule of these notebooks")
    print(f"after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
