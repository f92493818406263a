"""`make bench`: the wall time of `make run` beside its floor, and their ratio.

- run: `python -m src.runner` on DATA into a temporary OUT, notebooks side by side (HAIC_JOBS=auto);
- floor: as many kernels as notebooks, started one after another, each executing only its notebook's
  import cell (the stack's imports) and shut down: what no scheduling can save.

Prints the three numbers; the goal of issue 12 is a ratio of at most 0.8 on 2 cores.
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

from src.runner import KERNEL_NAME, discover_notebooks

ROOT = Path(__file__).resolve().parents[1]


def import_cell(notebook: Path) -> str:
    """The first code cell of *notebook* that imports from `src` (its import cell)."""
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "from src import" in source:
            return "\n".join(line for line in source.splitlines() if "import" in line)
    return "import pandas, matplotlib"


def floor_seconds(notebooks) -> float:
    """Start one kernel per notebook, one after another, the way the runner starts them (Unix sockets in
    a private folder: `runner.ipc_kernel_manager`), run only the notebook's import cell, shut it down."""
    import asyncio

    from src.runner import ipc_kernel_manager

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


def run_seconds(data: str) -> float:
    out = Path(tempfile.mkdtemp(prefix="haic-bench-")) / "out"
    env = {**os.environ, "HAIC_JOBS": os.environ.get("HAIC_JOBS") or "auto"}
    started = time.monotonic()
    try:
        subprocess.run([sys.executable, "-m", "src.runner", "--data", data, "--out", str(out)], check=True,
                       cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        return time.monotonic() - started
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data")
    args = parser.parse_args(argv)
    notebooks = discover_notebooks()
    print(f"before: {load_average()}")
    cpu = children_cpu()
    run = run_seconds(args.data)
    run_cpu, cpu = children_cpu() - cpu, children_cpu()
    floor = floor_seconds(notebooks)
    floor_cpu = children_cpu() - cpu + own_cpu_of(floor_seconds)
    print(f"make run: {run:.1f} s; floor ({len(notebooks)} kernels and imports, one after another): {floor:.1f} s; "
          f"ratio {run / floor:.2f} (goal: at most 0.8 on 2 cores)")
    print(f"CPU time (user + system, load-independent): make run {run_cpu:.1f} s, floor {floor_cpu:.1f} s; "
          f"on {os.cpu_count()} idle cores the run needs at least {run_cpu / (os.cpu_count() or 1):.1f} s")
    print(f"after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
