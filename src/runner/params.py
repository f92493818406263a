"""The notebooks of a run and their parameters: which ``notebooks/NN_*.ipynb`` run, in which order, the
``-p NAME=VALUE`` options of the command line, and the names each notebook's parameters cell declares
(papermill's own reading of it). Also the project's default data, notebook and output folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Mapping

from src.config import ROOT

NOTEBOOKS_DIR = ROOT / "notebooks"
DEFAULT_DATA_DIR = ROOT / "data"
DEFAULT_OUT_DIR = ROOT / "outputs"

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
RESERVED_PARAMETERS = ("DATA_DIR", "OUTPUT_DIR")

KERNEL_NAME = "python3"  # the kernel papermill starts for every notebook (its kernel_name)


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
