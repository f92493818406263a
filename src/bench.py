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
    from jupyter_client.manager import start_new_kernel

    started = time.monotonic()
    for notebook in notebooks:
        km, kc = start_new_kernel(kernel_name=KERNEL_NAME, cwd=str(ROOT))
        try:
            kc.execute_interactive(import_cell(notebook), timeout=300)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    return time.monotonic() - started


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
    run = run_seconds(args.data)
    floor = floor_seconds(notebooks)
    print(f"make run: {run:.1f} s; floor ({len(notebooks)} kernels and imports, one after another): {floor:.1f} s; "
          f"ratio {run / floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
